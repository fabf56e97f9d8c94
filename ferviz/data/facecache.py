"""Decoded faces of image files, cached on disk by (path, size, mtime) as FER2013's are.

One cache file per folder (the files' common parent) holds the faces decoded so far; only
new or changed files are decoded again. :func:`file_key` and :func:`folder_store` are that
scheme, which the landmark fits of the same files (:mod:`.source_landmarks`) use too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..cache import atomic_path, cache_dir, read_cached
from ..errors import FervizError, shown
from ..labels import FACE_SIZE
from ..progress import progress

_VERSION = 1


Key = tuple[bytes, int, int]  # absolute path, size, mtime in ns


def file_key(path: str) -> Key:
    """What a cache per file knows a file by: its absolute path, size and mtime.

    Raises:
        FervizError: a file that cannot be read.
    """
    try:
        st = os.stat(path)
    except OSError as e:
        raise FervizError(f"{shown(path)}: cannot read it ({e.strerror})") from e
    return os.fsencode(os.path.abspath(path)), st.st_size, st.st_mtime_ns


def folder_store(kind: str, paths: Sequence[str], tag: str) -> Path:
    """The cache file of ``kind`` for the files' common folder, named by ``tag`` (a format
    version and the settings the cached values depend on) and that folder."""
    folder = os.path.commonpath([os.path.abspath(p) for p in paths])
    name = hashlib.blake2b(os.fsencode(f"{tag}\0") + os.fsencode(folder),
                           digest_size=16).hexdigest()
    return cache_dir(kind) / f"{name}.npz"


def _read(path: Path) -> dict[Key, np.ndarray]:
    with np.load(path) as z:
        paths, sizes, mtimes, faces = z["paths"], z["sizes"], z["mtimes"], z["faces"]
    if faces.shape != (len(paths), FACE_SIZE, FACE_SIZE) or faces.dtype != np.uint8 \
            or not len(paths) == len(sizes) == len(mtimes):
        raise ValueError(f"holds {faces.dtype} {faces.shape} for {len(paths)} paths")
    return {(bytes(p), int(s), int(m)): f for p, s, m, f in zip(paths, sizes, mtimes, faces)}


def _write(path: Path, faces: dict[Key, np.ndarray]) -> None:
    keys = list(faces)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, paths=np.array([k[0] for k in keys], dtype=bytes),
                 sizes=np.array([k[1] for k in keys], np.int64),
                 mtimes=np.array([k[2] for k in keys], np.int64),
                 faces=np.stack([faces[k] for k in keys]))


def decode_faces(paths: Sequence[str], detect: str = "auto",
                 quiet: bool | None = None, cache: bool = True) -> np.ndarray:
    """N x 48 x 48 uint8 faces of image files (see :func:`~ferviz.data.images.read_face`),
    decoding only the files not cached yet, and caching those (``cache=False``: decode them
    all and store nothing, as the shards of a job do: many writers of one folder's cache
    would each rewrite it).

    Raises:
        FervizError: a file that cannot be read or decoded (named).
    """
    from .images import read_face

    if len(paths) == 0:
        return np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
    if not cache:
        return np.stack([read_face(p, detect) for p in paths])
    keys = [file_key(p) for p in paths]
    store = folder_store("faces", paths, f"v{_VERSION}\0{detect}")
    known = read_cached(store, _read) or {}
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        for i in progress(missing, desc="decoding images", unit="image", quiet=quiet,
                          leave=False):
            known[keys[i]] = read_face(paths[i], detect)
        wanted, current = set(keys), {k[0] for k in keys}
        _write(store, {k: f for k, f in known.items()  # without older versions of these files
                       if k in wanted or k[0] not in current})
    return np.stack([known[k] for k in keys])
