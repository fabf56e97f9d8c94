"""Kaggle's fer2013.csv (plain, .gz or .xz), with an optional FER+ vote join.

The decoded pixels are cached as a memory-mapped .npy keyed by the file's size, mtime and
content hash, so only the first load pays the ~30 s parse.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..cache import atomic_path, cache_dir, file_hash
from ..errors import FervizError
from ..labels import EMOTIONS
from ..labels import FACE_SIZE
from .contempt import ContemptNote, policy
from .records import Records

SPLITS = ("Training", "PublicTest", "PrivateTest")
LABEL_MODES = ("fer2013", "ferplus-majority", "ferplus-dist")
_PIXELS = FACE_SIZE * FACE_SIZE
_ROW = re.compile(r"^\s*\d{1,3}(\s+\d{1,3})*\s*$")


def _cache_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}-{int(st.st_mtime)}-{file_hash(path)}"


def _parse(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse the csv into (faces N x 48 x 48 uint8, emotion codes, usage strings)."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, EOFError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise FervizError(f"{path}: cannot read as a fer2013 csv ({e})") from e
    missing = [c for c in ("emotion", "pixels", "Usage") if c not in df.columns]
    if missing:
        raise FervizError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                          "emotion,pixels,Usage")
    if df.empty:
        raise FervizError(f"{path}: no rows")
    codes = pd.to_numeric(df["emotion"], errors="coerce")
    bad = ~codes.isin(range(len(EMOTIONS)))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FervizError(f"{path}: row {row + 2}: unknown emotion code {df['emotion'][row]!r} "
                          f"(expected 0-6: {', '.join(EMOTIONS)})")
    pixels = df["pixels"]
    counts = pixels.str.split().str.len().to_numpy()
    if (counts != _PIXELS).any():
        row = int(np.flatnonzero(counts != _PIXELS)[0])
        raise FervizError(f"{path}: row {row + 2}: {counts[row]} pixel values, expected "
                          f"{_PIXELS} (48x48)")
    flat = np.array(" ".join(pixels).split(), dtype=np.int64) if not \
        pixels.str.fullmatch(_ROW).all() else None
    if flat is None:
        flat = np.fromstring(" ".join(pixels), dtype=np.int64, sep=" ")  # fast path
    if flat.size != len(df) * _PIXELS or flat.max() > 255 or flat.min() < 0:
        raise FervizError(f"{path}: pixel values must be integers 0-255")
    faces = flat.astype(np.uint8).reshape(len(df), FACE_SIZE, FACE_SIZE)
    return faces, codes.to_numpy(np.int8), df["Usage"].to_numpy(object)


def _checked_parse(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        return _parse(path)
    except ValueError as e:  # a non-numeric token in a row of the right length
        rows = pd.read_csv(path, dtype=str, keep_default_na=False)["pixels"]
        bad = np.flatnonzero(~rows.str.fullmatch(_ROW).to_numpy())
        where = f"row {int(bad[0]) + 2}: " if len(bad) else ""
        raise FervizError(f"{path}: {where}non-numeric pixel values ({e})") from e


def load_table(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All rows of a fer2013.csv as (faces memmap, emotion codes, usage), from cache if fresh."""
    path = Path(path)
    if not path.is_file():
        raise FervizError(f"{path}: no such file")
    key = _cache_key(path)
    root = cache_dir("fer2013")
    faces_file, meta_file = root / f"{key}.npy", root / f"{key}.json"
    if faces_file.exists() and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        faces = np.load(faces_file, mmap_mode="r")
        return faces, np.asarray(meta["emotion"], np.int8), np.asarray(meta["usage"], object)
    faces, codes, usage = _checked_parse(path)
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
    if labels not in LABEL_MODES:
        raise FervizError(f"unknown label mode {labels!r}; choose {', '.join(LABEL_MODES)}")
    if labels != "fer2013" and ferplus is None:
        raise FervizError(f"label mode {labels} needs the FER+ votes file (fer2013new.csv)")
    contempt = policy(contempt, "ferplus")
    if contempt == "keep" and labels == "ferplus-dist":
        raise FervizError("contempt keep needs majority labels (ferplus-majority): the vote "
                          "distribution has the 7 FER2013 emotions")
    faces, codes, usage = load_table(path)
    n = len(codes)
    votes = soft = note = None
    keep = np.ones(n, bool)
    out_labels = codes.astype(np.int8)
    if ferplus is not None:
        from .ferplus import contempt_faces, ferplus_labels, read_votes

        votes = read_votes(ferplus, expected_rows=n)
        if labels != "fer2013":
            note = contempt_faces(votes)
            majority, soft, keep = ferplus_labels(votes, contempt=contempt)
            if labels == "ferplus-majority":
                out_labels, soft = majority, None
                keep &= majority >= 0
            else:
                out_labels = soft.argmax(axis=1).astype(np.int8)
    if splits is not None:
        wanted = {s.lower() for s in ([splits] if isinstance(splits, str) else splits)}
        unknown = wanted - {s.lower() for s in SPLITS}
        if unknown:
            raise FervizError(f"unknown split(s) {', '.join(sorted(unknown))}; FER2013 has "
                              f"{', '.join(SPLITS)}")
        keep &= np.array([u.lower() in wanted for u in usage])
    index = np.flatnonzero(keep)
    if index.size == 0:
        raise FervizError(f"{path}: the selection is empty")
    return Records(
        ids=np.array([f"fer2013:{i}" for i in index], dtype=object),
        labels=out_labels[index], splits=usage[index],
        sources=np.full(index.size, "fer2013", dtype=object),
        faces=np.asarray(faces[index]),
        votes=None if votes is None else votes[index],
        soft=None if soft is None else soft[index],
        name=f"FER2013 ({labels} labels)",
        contempt=None if note is None else ContemptNote.count(contempt, usage[note])
        .within(set(usage[index])),
    )
