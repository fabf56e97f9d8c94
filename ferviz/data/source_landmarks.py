"""Landmarks of data-set faces fitted on their source image files (JAFFE-size images).

A face decoded from an image file (:func:`~ferviz.data.images.face_from_image`) is cut from
the full-resolution image: the Haar box's square for a large image, the whole image for a
face crop. The 68 landmarks are fitted on that same cut at full resolution, on the Haar box
or, for a whole-image face, on the aligned frame's face box (as photo mode does), and come
back in the 48x48 face's coordinates. Faces smaller than :data:`MIN_FACE_SIDE` in their image
(48x48 FER2013 or CK+48 files) are not fitted: they carry no more detail than the face the
fixed boxes were measured on. Fits are cached per file (path, size, mtime), one cache file
per folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cache import atomic_path, read_cached
from ..progress import progress
from . import landmarks as lm
from .facecache import Key, file_key, folder_store
from .images import detect_faces, face_square, is_face_crop, read_gray, to_face

MIN_FACE_SIDE = 64  # px of the face box in the source image (48x48 files have ~38)
NO_FILE = "no source image file"
SMALL = f"face under {MIN_FACE_SIDE} px in its image"
NO_EXTRA = f"the landmarks extra is not installed ({lm.INSTALL_HINT})"
CHANGED = "its file no longer gives the decoded face"
_VERSION = 1

Fit = lm.Landmarks | str  # a fit, or why the face was not fitted


def source_cut(gray: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """The part of an image that becomes its 48x48 face (as ``face_from_image`` with
    ``detect="auto"`` cuts it) and the face box (x, y, w, h) in that part."""
    if not is_face_crop(gray):
        boxes = detect_faces(gray)
        if boxes:
            x, y, w, h = boxes[0]
            x0, y0, x1, y1 = face_square(gray.shape, boxes[0])
            return gray[y0:y1, x0:x1], (x - x0, y - y0, w, h)
    h, w = gray.shape
    x, y, bw, bh = lm.CROP_BOX
    return gray, (x * w / 48, y * h / 48, bw * w / 48, bh * h / 48)


def fit_file(path: str, face: np.ndarray | None = None) -> Fit:
    """The landmarks of the face of one image file, or why there are none (too small, or
    ``face``, the 48x48 face decoded earlier, is no longer what the file gives).

    Raises:
        FervizError: an unreadable file.
    """
    cut, box = source_cut(read_gray(path))
    if face is not None and not np.array_equal(to_face(cut), face):
        return CHANGED
    if min(box[2], box[3]) < MIN_FACE_SIDE:
        return SMALL
    return lm.fit(cut, box)


def fit_records(records, quiet: bool | None = None, cache: bool = True) -> list[Fit]:
    """Per face of ``records``: its landmarks fitted on its source image, or why not (no
    source file, a face too small, no landmarks extra). Only the files not cached are read.

    Raises:
        FervizError: an unreadable file.
    """
    if records.paths is None:
        return [NO_FILE] * len(records)
    if not lm.available():
        return [NO_EXTRA] * len(records)
    faces, paths = records.images(), [str(p) for p in records.paths]
    if not paths:
        return []
    keys = [file_key(p) for p in paths]
    store = folder_store("landmarks", paths, f"v{_VERSION}\0{MIN_FACE_SIDE}")
    known = (read_cached(store, _read) or {}) if cache else {}
    missing = [i for i, k in enumerate(keys) if k not in known]
    for i in progress(missing, desc="fitting landmarks", unit="face", quiet=quiet,
                      leave=False):
        known[keys[i]] = fit_file(paths[i], faces[i])
    if missing and cache:
        current = {k[0] for k in keys}
        _write(store, {k: f for k, f in known.items()  # a stale face is not the file's
                       if (k in set(keys) or k[0] not in current) and f != CHANGED})
    return [known[k] for k in keys]


def _read(path: Path) -> dict[Key, Fit]:
    with np.load(path) as z:
        keys = zip(z["paths"], z["sizes"], z["mtimes"])
        cols = z["why"], z["points"], z["five"], z["scores"], z["problems"]
        out: dict[Key, Fit] = {}
        for (p, s, m), why, pts, five, score, probs in zip(keys, *cols):
            out[bytes(p), int(s), int(m)] = str(why) or lm.Landmarks(
                pts.astype(float), five.astype(float), float(score),
                tuple(str(probs).split("\n")) if str(probs) else ())
    return out


def _write(path: Path, fits: dict[Key, Fit]) -> None:
    keys = list(fits)
    marks = [fits[k] if isinstance(fits[k], lm.Landmarks) else None for k in keys]
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, paths=np.array([k[0] for k in keys], dtype=bytes),
                 sizes=np.array([k[1] for k in keys], np.int64),
                 mtimes=np.array([k[2] for k in keys], np.int64),
                 why=np.array([f if isinstance(f, str) else "" for f in fits.values()], str),
                 points=np.array([m.points if m else np.zeros((68, 2)) for m in marks],
                                 np.float64).reshape(len(keys), 68, 2),
                 five=np.array([m.five if m else np.zeros((5, 2)) for m in marks],
                               np.float64).reshape(len(keys), 5, 2),
                 scores=np.array([m.face_score if m else 0.0 for m in marks], np.float64),
                 problems=np.array(["\n".join(m.problems) if m else "" for m in marks], str))
