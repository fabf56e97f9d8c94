"""Kaggle's fer2013.csv (plain, .gz or .xz), with an optional FER+ vote join.

The decoded pixels are cached as a memory-mapped .npy keyed by the file's size, mtime and
content hash, so only the first load pays the parse (see :mod:`ferviz.data.fercsv`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..cache import atomic_path, cache_dir, file_hash, read_cached
from ..errors import FervizError, shown
from ..labels import FACE_SIZE
from .contempt import ContemptNote, policy
from .fercsv import SPLITS, parse_csv
from .records import Records

LABEL_MODES = ("fer2013", "ferplus-majority", "ferplus-dist")
_VERSION = 2  # of the cached arrays


def check_labels(labels: str) -> None:
    """Raise a FervizError listing the label modes if ``labels`` is not one of them."""
    if labels not in LABEL_MODES:
        raise FervizError(f"unknown label mode {labels!r}; choose {', '.join(LABEL_MODES)}")


def _cache_key(path: Path) -> str:
    st = path.stat()
    return f"v{_VERSION}-{st.st_size}-{int(st.st_mtime)}-{file_hash(path)}"


def _read_cache(faces_file: Path, meta_file: Path
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    meta = read_cached(meta_file, lambda p: json.loads(p.read_text()))
    if meta is None:
        return None
    def faces(p: Path) -> np.ndarray:
        a = np.load(p, mmap_mode="r")
        if a.dtype != np.uint8 or a.shape != (len(meta["emotion"]), FACE_SIZE, FACE_SIZE) \
                or len(meta["usage"]) != len(a):
            raise ValueError(f"holds {a.dtype} {a.shape}, not the rows of its index")
        return a
    array = read_cached(faces_file, faces)
    if array is None:
        return None
    return array, np.asarray(meta["emotion"], np.int8), np.asarray(meta["usage"], object)


def load_table(path: str | os.PathLike, quiet: bool | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All rows of a fer2013.csv as (faces memmap, emotion codes, usage), from cache if fresh.

    A damaged cache entry is noted on stderr and rebuilt.
    """
    path = Path(path)
    if not path.is_file():
        raise FervizError(f"{shown(path)}: no such file")
    key = _cache_key(path)
    root = cache_dir("fer2013")
    faces_file, meta_file = root / f"{key}.npy", root / f"{key}.json"
    cached = _read_cache(faces_file, meta_file)
    if cached is not None:
        return cached
    faces, codes, usage = parse_csv(path, quiet)
    with atomic_path(faces_file) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, faces)
    with atomic_path(meta_file) as tmp:
        tmp.write_text(json.dumps({"emotion": codes.tolist(), "usage": usage.tolist()}))
    return np.load(faces_file, mmap_mode="r"), codes, usage


def load_fer2013(path: str | os.PathLike, splits: str | tuple[str, ...] | None = None,
                 labels: str = "fer2013", ferplus: str | os.PathLike | None = None,
                 contempt: str | None = None) -> Records:
    """Load FER2013 from Kaggle's csv, optionally relabelled by FER+ votes.

    Args:
        path: ``fer2013.csv`` (plain, ``.gz`` or ``.xz``).
        splits: Usage values to keep (default: all).
        labels: ``fer2013`` (original), ``ferplus-majority`` or ``ferplus-dist``.
        ferplus: ``fer2013new.csv``; needed for the FER+ label modes, optional otherwise
            (its votes are then attached to the records).
        contempt: ``merge`` contempt votes into neutral (the default), ``drop`` them, or
            ``keep`` contempt as an 8th class (majority labels only). The records' note
            counts the faces whose FER+ majority is contempt.

    Raises:
        FervizError: on malformed files, unknown modes, or an empty selection.
    """
    check_labels(labels)
    if labels != "fer2013" and ferplus is None:
        raise FervizError(f"label mode {labels} needs the FER+ votes file (fer2013new.csv)")
    contempt = policy(contempt, "ferplus")
    if contempt == "keep" and labels == "ferplus-dist":
        raise FervizError("contempt keep needs majority labels (ferplus-majority): the vote "
                          "distribution has the 7 FER2013 emotions")
    wanted = SPLITS
    if splits is not None:
        lower = {s.lower(): s for s in SPLITS}
        asked = [splits] if isinstance(splits, str) else list(splits)
        unknown = sorted(s for s in asked if s.lower() not in lower)
        if unknown:
            raise FervizError(f"unknown split(s) {', '.join(unknown)}; FER2013 has "
                              f"{', '.join(SPLITS)}")
        wanted = tuple(lower[s.lower()] for s in asked)
    if ferplus is not None and not Path(ferplus).is_file():
        raise FervizError(f"{shown(ferplus)}: no such file")
    faces, codes, usage = load_table(path)
    n = len(codes)
    votes = soft = note = None
    keep = np.isin(usage, wanted)
    out_labels = codes.astype(np.int8)
    if ferplus is not None:
        from .ferplus import contempt_faces, ferplus_labels, read_votes

        votes = read_votes(ferplus, expected_rows=n)
        if labels != "fer2013":
            note = contempt_faces(votes)
            majority, soft, valid = ferplus_labels(votes, contempt=contempt)
            keep &= valid
            if labels == "ferplus-majority":
                out_labels, soft = majority, None
                keep &= majority >= 0
            else:
                out_labels = soft.argmax(axis=1).astype(np.int8)
    index = np.flatnonzero(keep)
    if index.size == 0:
        raise FervizError(f"{shown(path)}: the selection is empty")
    return Records(
        ids=np.array([f"fer2013:{i}" for i in index], dtype=object),
        labels=out_labels[index], splits=usage[index],
        sources=np.full(index.size, "fer2013", dtype=object),
        faces=np.asarray(faces[_rows(index)]),
        votes=None if votes is None else votes[index],
        soft=None if soft is None else soft[index],
        name=f"FER2013 ({labels} labels)",
        contempt=None if note is None else ContemptNote.count(contempt, usage[note])
        .within(set(usage[index])),
    )


def _rows(index: np.ndarray) -> np.ndarray | slice:
    """A slice when the rows are contiguous (a view of the memory-mapped cache: faces are read
    when used, so a shard of a large file reads only its rows), else the index."""
    if index[-1] - index[0] + 1 == index.size:
        return slice(int(index[0]), int(index[-1]) + 1)
    return index
