"""Single photos: the faces a detector finds, where they are, how sure it is, and only
faces.

Detection (:mod:`ferviz.data.detectors`): dlib's MMOD CNN when the ``landmarks`` extra is
installed (confidence = its score; every box dlib returns is kept: on composed photos it put
no box on any distractor, while real faces scored from 0.15 up, so a higher threshold only
lost faces; bench/bench_detector.py), else OpenCV's Haar cascade (confidence = its
final-stage level weight). Then, unless ``all_faces``, boxes much smaller than the largest
face (side below ``MIN_RELATIVE_SIDE`` of it) are dropped, and so are Haar boxes weaker than
``MIN_SCORE_NO_EYES`` in which the eye cascade finds no eye (the largest face is always
kept). Two eyes (MMOD: dlib's 5-point model; Haar: the eye cascade) level the face: the
photo is rotated about the face's centre so the eyes lie on one row before the 48x48 crop
(FER2013's faces are aligned that way). No weights are downloaded.

With the ``landmarks`` extra, each face also gets dlib's 68 landmarks, fitted on the levelled
photo at full resolution and mapped into its 48x48 crop (:mod:`ferviz.data.landmarks`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FervizError, shown
from . import detectors as det
from . import landmarks as lm
from .images import face_square, is_face_crop, read_gray, to_face
from .records import Records

DETECT_MODES = ("auto", "always", "never")
MIN_RELATIVE_SIDE = 0.5  # boxes with a side below this share of the largest face's are dropped
MIN_SCORE_NO_EYES = 3.0  # a box with no eye in it needs at least this Haar level weight
MAX_TILT = 30.0  # degrees: a steeper eye line is taken as a wrong eye pair, not a tilt
Box = det.Box


@dataclass(frozen=True)
class FoundFace:
    """One detected face: ``box`` (x, y, w, h) in the photo, the detector's confidence
    (MMOD score or Haar level weight; higher is surer), the eye centres found in it (photo
    coordinates), the rotation applied before cropping (degrees, counter-clockwise) and
    which detector found it (``mmod`` or ``haar``)."""

    box: Box
    score: float
    eyes: tuple[tuple[float, float], ...] = ()
    angle: float = 0.0
    detector: str = "haar"

    def to_dict(self) -> dict[str, Any]:
        x, y, w, h = self.box
        return {"box": {"x": x, "y": y, "w": w, "h": h}, "detector_score": round(self.score, 3),
                "eyes": [[round(a, 1), round(b, 1)] for a, b in self.eyes],
                "rotation_degrees": round(self.angle, 2), "detector": self.detector}


@dataclass(frozen=True)
class Photo:
    """A decoded photo, its faces as records, where each was found (``found`` is empty
    when the whole image was taken as the face), and per face its landmarks (None without
    the ``landmarks`` extra)."""

    path: Path
    gray: np.ndarray
    records: Records
    found: list[FoundFace] = field(default_factory=list)
    dropped: int = 0
    landmarks: list[lm.Landmarks | None] = field(default_factory=list)


def find_faces(gray: np.ndarray, all_faces: bool = False, min_size: int = 30,
               detector: str | None = None) -> tuple[list[FoundFace], int]:
    """Faces in a grayscale photo, largest first, and how many boxes were dropped as
    unlikely faces (see the module docstring); ``detector`` as :func:`.detectors.choose`."""
    name = det.choose(detector)
    if name == "haar":
        raw = det.haar(gray, min_size)
    else:
        raw = det.mmod_checked(gray, upsample=all_faces)
    found = sorted((FoundFace(b, s, e, detector=name) for b, s, e in raw
                    if b[2] >= min_size), key=lambda f: -f.box[2] * f.box[3])
    if all_faces or not found:
        return found, 0
    side = max(f.box[2] for f in found)
    kept = [found[0]] + [f for f in found[1:] if f.box[2] >= MIN_RELATIVE_SIDE * side and
                         (name == "mmod" or f.eyes or f.score >= MIN_SCORE_NO_EYES)]
    return kept, len(found) - len(kept)


def aligned_square(gray: np.ndarray, face: FoundFace) -> tuple[np.ndarray, float, Box]:
    """The face's square crop at full resolution (what becomes the 48x48 face), levelled
    by its two eyes when both were found, the rotation used (degrees) and the detector's
    box in the crop's coordinates."""
    import cv2

    x, y, w, h = face.box
    angle = 0.0
    if len(face.eyes) == 2:
        (lx, ly), (rx, ry) = face.eyes
        tilt = math.degrees(math.atan2(ry - ly, rx - lx))
        if 1.0 <= abs(tilt) <= MAX_TILT:
            rot = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), tilt, 1.0)
            gray = cv2.warpAffine(gray, rot, gray.shape[::-1], flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
            angle = tilt
    x0, y0, x1, y1 = face_square(gray.shape, face.box)
    return gray[y0:y1, x0:x1], angle, (x - x0, y - y0, w, h)


class NoFace(FervizError):
    """No face was detected in a photo (the whole image can be taken as one face)."""


def read_photo(path: str | os.PathLike, detect: str = "auto", all_faces: bool = False,
               landmarks: bool = True, detector: str | None = None) -> Photo:
    """The faces in one image, largest first, labels unknown.

    Args:
        detect: ``auto`` (images up to 96x96 are taken as face crops), ``always`` or ``never``
            (the whole image is the face).
        all_faces: keep every box the detector returns.
        landmarks: fit each face's landmarks (when the ``landmarks`` extra is installed; a
            whole-image face is fitted as an aligned crop, on :data:`~.landmarks.CROP_BOX`).
        detector: ``auto``, ``mmod`` or ``haar`` (:func:`.detectors.choose`).

    Raises:
        FervizError: unreadable image, or no face found.
    """
    from dataclasses import replace

    if detect not in DETECT_MODES:
        raise FervizError(f"detect must be one of {', '.join(DETECT_MODES)}, not {detect!r}")
    gray = read_gray(path)
    found, dropped = [], 0
    fit = landmarks and lm.available()
    if detect == "never" or (detect == "auto" and is_face_crop(gray)):
        faces = [to_face(gray)]
        h, w = gray.shape
        x, y, bw, bh = lm.CROP_BOX
        marks = [lm.fit(gray, (x * w / 48, y * h / 48, bw * w / 48, bh * h / 48))
                 if fit else None]
    else:
        found, dropped = find_faces(gray, all_faces, detector=detector)
        if not found:
            raise NoFace(f"{shown(path)}: no face found; pass --no-detect to treat the "
                         "whole image as one face")
        squares = [aligned_square(gray, f) for f in found]
        faces = [to_face(sq) for sq, _, _ in squares]
        marks = [lm.fit(sq, box) if fit else None for sq, _, box in squares]
        found = [replace(f, angle=a) for f, (_, a, _) in zip(found, squares)]
    name = shown(Path(path).name)
    n = len(faces)
    records = Records(ids=np.array([f"{name}#face{k + 1}" for k in range(n)], dtype=object),
                      labels=np.full(n, -1), splits=np.full(n, "photo", dtype=object),
                      sources=np.full(n, "photo", dtype=object), faces=np.stack(faces),
                      name=name)
    return Photo(Path(path), gray, records, found, dropped, marks)


def load_photo(path: str | os.PathLike, detect: str = "auto", all_faces: bool = False
               ) -> Records:
    """The faces of :func:`read_photo` as records."""
    return read_photo(path, detect, all_faces).records


def overview(photo: Photo, max_side: int = 1024):
    """A PIL image of the photo with each face's box numbered as its panel (1 = largest)."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.fromarray(photo.gray).convert("RGB")
    scale = min(1.0, max_side / max(img.size))
    if scale < 1:
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    draw = ImageDraw.Draw(img)
    size = max(14, round(max(img.size) / 40))
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", size)
    except OSError:
        font = ImageFont.load_default(size)
    for k, f in enumerate(photo.found, 1):
        x, y, w, h = (v * scale for v in f.box)
        draw.rectangle((x, y, x + w, y + h), outline="#ff2020", width=max(2, size // 6))
        label = f"{k}"
        tw, th = draw.textbbox((0, 0), label, font=font)[2:]
        ty = y - th - 4 if y >= th + 4 else y  # inside the box when it touches the top
        draw.rectangle((x, ty, x + tw + 6, ty + th + 4), fill="#ff2020")
        draw.text((x + 3, ty + 1), label, fill="white", font=font)
    return img
