"""Labelled image folders: ``root/<class>/*.png`` (Kaggle FER2013 images, CK+48, your own
photos) and JAFFE-style file names (``KA.AN1.39.tiff``)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import FervizError, shown
from ..labels import INDEX, canonical
from .images import IMAGE_SUFFIXES
from .records import Records

JAFFE_NAME = re.compile(r"^[A-Za-z]{2}\.([A-Za-z]{2})\d*\.\d+\.(tiff?|png|jpe?g|bmp)$")
_PREFIX_SPLITS = ("Training", "PublicTest", "PrivateTest")
_DIR_SPLITS = {"train": "train", "training": "train", "test": "test", "val": "val",
               "valid": "val", "validation": "val"}


def _label(path: Path, root: Path, contempt: str) -> int | str | None:
    """Label index, None to drop the file (contempt dropped), or the unknown class name."""
    m = JAFFE_NAME.match(path.name)
    if m and canonical(m.group(1)):
        return INDEX[canonical(m.group(1))]
    rel = path.relative_to(root).parts[:-1]
    for part in reversed(rel):
        if part.lower() == "contempt":
            return None if contempt == "drop" else INDEX["neutral"]
        if canonical(part):
            return INDEX[canonical(part)]
    return rel[-1] if rel else path.name


def _split(path: Path, root: Path) -> str:
    for prefix in _PREFIX_SPLITS:
        if path.name.startswith(prefix + "_"):
            return prefix
    for part in path.relative_to(root).parts[:-1]:
        if part.lower() in _DIR_SPLITS:
            return _DIR_SPLITS[part.lower()]
    return "all"


def load_folder(root: str | os.PathLike, contempt: str = "drop") -> Records:
    """Every image under ``root`` whose class folder (or JAFFE code) names an emotion.

    Faces are decoded lazily, at first use. Split comes from a Kaggle file-name prefix
    (``Training_``, ``PublicTest_``, ``PrivateTest_``) or a ``train``/``test``/``val`` folder.

    Args:
        contempt: ``drop`` contempt images (CK+) or ``merge`` them into neutral.

    Raises:
        FervizError: no images, or class folders that name no emotion (they are listed).
    """
    root = Path(root)
    if not root.is_dir():
        raise FervizError(f"{shown(root)}: no such folder")
    if contempt not in ("merge", "drop"):
        raise FervizError(f"contempt must be 'merge' or 'drop', not {contempt!r}")
    try:
        files = sorted(p for p in root.rglob("*")
                       if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    except OSError as e:
        raise FervizError(f"{shown(root)}: cannot list it ({e.strerror}: "
                          f"{shown(e.filename)})") from e
    if not files:
        raise FervizError(f"{shown(root)}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    kept, labels, unknown = [], [], set()
    for f in files:
        label = _label(f, root, contempt)
        if isinstance(label, str):
            unknown.add(label)
        elif label is not None:
            kept.append(f)
            labels.append(label)
    if unknown:
        raise FervizError(f"{shown(root)}: class folder(s) that name no emotion: "
                          f"{', '.join(sorted(map(shown, unknown)))}; expected angry, disgust, fear, happy, "
                          "sad, surprise, neutral (or aliases such as anger, sadness, contempt)")
    if not kept:
        raise FervizError(f"{shown(root)}: no labelled images left")
    return Records(ids=np.array([shown(f) for f in kept], dtype=object), labels=np.array(labels),
                   splits=np.array([_split(f, root) for f in kept], dtype=object),
                   sources=np.full(len(kept), "folder", dtype=object),
                   paths=np.array([str(f) for f in kept], dtype=object), name=shown(root.name))
