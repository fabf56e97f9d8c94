"""Labelled image folders: ``root/<class>/*.png`` (Kaggle FER2013 images, CK+48, your own
photos) and file names that carry the emotion (JAFFE ``KA.AN1.39.tiff``, KDEF, RaFD; see
:mod:`ferviz.data.groups`, which also reads their subject and sequence ids)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import FervizError, shown
from ..labels import CONTEMPT, INDEX, canonical
from .contempt import ContemptNote, policy
from .groups import name_groups, parse_name
from .images import IMAGE_SUFFIXES
from .records import Records

_PREFIX_SPLITS = ("Training", "PublicTest", "PrivateTest")
_DIR_SPLITS = {"train": "train", "training": "train", "test": "test", "val": "val",
               "valid": "val", "validation": "val"}


def _label(path: Path, root: Path) -> int | str:
    """Label index (:data:`CONTEMPT` for contempt), or the unknown class name."""
    info = parse_name(path.name)
    if info and info.emotion:
        return CONTEMPT if info.emotion == "contempt" else INDEX[info.emotion]
    rel = path.relative_to(root).parts[:-1]
    for part in reversed(rel):
        if part.lower() in ("contempt", "contemptuous"):
            return CONTEMPT
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


def load_folder(root: str | os.PathLike, contempt: str | None = None,
                confine: bool = False) -> Records:
    """Every image under ``root`` whose class folder (or JAFFE code) names an emotion.

    Faces are decoded lazily, at first use. Split comes from a Kaggle file-name prefix
    (``Training_``, ``PublicTest_``, ``PrivateTest_``) or a ``train``/``test``/``val`` folder.

    Args:
        contempt: ``drop`` contempt images (the default: CK+ has no neutral), ``merge`` them
            into neutral, or ``keep`` them as an 8th class.
        confine: keep only files whose real path (links resolved) lies inside ``root`` (the
            dashboard: a link must not reach past its roots).

    Raises:
        FervizError: no images, or class folders that name no emotion (they are listed).
    """
    root = Path(root)
    if not root.is_dir():
        raise FervizError(f"{shown(root)}: no such folder")
    contempt = policy(contempt, "folder")
    try:
        files = sorted(p for p in root.rglob("*")
                       if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if confine:
            inside = root.resolve()
            files = [p for p in files if p.resolve().is_relative_to(inside)]
    except OSError as e:
        raise FervizError(f"{shown(root)}: cannot list it ({e.strerror}: "
                          f"{shown(e.filename)})") from e
    if not files:
        raise FervizError(f"{shown(root)}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    kept, labels, unknown, touched = [], [], set(), []
    for f in files:
        label = _label(f, root)
        if isinstance(label, str):
            unknown.add(label)
            continue
        if label == CONTEMPT:
            touched.append(_split(f, root))
            if contempt == "drop":
                continue
            label = INDEX["neutral"] if contempt == "merge" else label
        kept.append(f)
        labels.append(label)
    if unknown:
        raise FervizError(f"{shown(root)}: class folder(s) that name no emotion: "
                          f"{', '.join(sorted(map(shown, unknown)))}; expected angry, disgust, "
                          "fear, happy, "
                          "sad, surprise, neutral (or aliases such as anger, sadness, contempt)")
    if not kept:
        raise FervizError(f"{shown(root)}: no labelled images left")
    return Records(ids=np.array([shown(f) for f in kept], dtype=object), labels=np.array(labels),
                   splits=np.array([_split(f, root) for f in kept], dtype=object),
                   sources=np.full(len(kept), "folder", dtype=object),
                   paths=np.array([str(f) for f in kept], dtype=object), name=shown(root.name),
                   groups=name_groups([f.name for f in kept]),
                   contempt=ContemptNote.count(contempt, touched))
