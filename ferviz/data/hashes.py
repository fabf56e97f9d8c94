"""Per-face hashes for duplicate search, cached on disk by the faces' content.

- exact: a 64-bit blake2b of the 48x48 pixels (equal hashes = identical faces);
- perceptual: the 64-bit DCT hash of the ``imagehash`` library (``imagehash.phash``), whose
  Hamming distance stays small under re-encoding, small crops and brightness changes.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..cache import atomic_path, cache_dir
from .records import Records

KINDS = ("exact", "perceptual")
_VERSION = 1


def exact_hashes(faces: np.ndarray) -> np.ndarray:
    """A uint64 blake2b hash of each face's pixels."""
    flat = np.ascontiguousarray(faces).reshape(len(faces), -1)
    return np.array([int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(),
                                    "little") for row in flat], dtype=np.uint64)


def perceptual_hashes(faces: np.ndarray) -> np.ndarray:
    """``imagehash.phash`` of each face, its 8 x 8 bits packed into a uint64."""
    import imagehash
    from PIL import Image

    if not len(faces):
        return np.zeros(0, np.uint64)
    bits = np.stack([imagehash.phash(Image.fromarray(f)).hash.ravel() for f in faces])
    return np.packbits(bits, axis=1).view(">u8")[:, 0].astype(np.uint64)


def content_key(faces: np.ndarray) -> str:
    """A blake2b of all the faces' pixels (the cache key of their hashes)."""
    return hashlib.blake2b(np.ascontiguousarray(faces).tobytes(), digest_size=16).hexdigest()


def face_hashes(records: Records, kind: str = "exact") -> np.ndarray:
    """The records' hashes of one kind, from the cache when the same faces were hashed."""
    if kind not in KINDS:
        raise ValueError(f"hash kind must be one of {KINDS}")
    faces = records.images()
    path = cache_dir("hashes") / f"{kind}-v{_VERSION}-{content_key(faces)}.npy"
    if path.is_file():
        try:
            cached = np.load(path)
        except (OSError, ValueError):  # a damaged cache file is recomputed
            cached = None
        if cached is not None and cached.shape == (len(faces),):
            return cached
    out = (exact_hashes if kind == "exact" else perceptual_hashes)(faces)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, out)
    return out
