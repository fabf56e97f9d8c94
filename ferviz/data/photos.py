"""Single photos: every face OpenCV's Haar cascade finds becomes a record."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import FervizError, shown
from .images import crop_face, detect_faces, is_face_crop, read_gray, to_face
from .records import Records

DETECT_MODES = ("auto", "always", "never")


def load_photo(path: str | os.PathLike, detect: str = "auto") -> Records:
    """The faces in one image, largest first, labels unknown.

    Args:
        detect: ``auto`` (images up to 96x96 are taken as face crops), ``always`` or ``never``
            (the whole image is the face).

    Raises:
        FervizError: unreadable image, or no face found.
    """
    if detect not in DETECT_MODES:
        raise FervizError(f"detect must be one of {', '.join(DETECT_MODES)}, not {detect!r}")
    gray = read_gray(path)
    if detect == "never" or (detect == "auto" and is_face_crop(gray)):
        faces = [to_face(gray)]
    else:
        boxes = detect_faces(gray)
        if not boxes:
            raise FervizError(f"{shown(path)}: no face found; pass --no-detect to treat the whole image "
                              "as one face")
        faces = [crop_face(gray, b) for b in boxes]
    name = shown(Path(path).name)
    n = len(faces)
    return Records(ids=np.array([f"{name}#face{k + 1}" for k in range(n)], dtype=object),
                   labels=np.full(n, -1), splits=np.full(n, "photo", dtype=object),
                   sources=np.full(n, "photo", dtype=object), faces=np.stack(faces), name=name)
