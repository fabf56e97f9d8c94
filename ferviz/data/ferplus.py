"""FER+ crowd votes (fer2013new.csv) and the label rules ferviz derives from them.

Rules (documented in the README):
- A row is dropped when ``NF`` (not a face) or ``unknown`` has at least as many votes as the
  most-voted emotion, or when it has no emotion votes at all.
- ``contempt``: ``merge`` adds its votes to neutral (7 classes, as the seed FER+ project
  did); ``drop`` ignores contempt votes, and drops rows whose only top vote is contempt;
  ``keep`` makes contempt an 8th majority class (:data:`ferviz.labels.CONTEMPT`; the 7-way
  vote distribution then ignores contempt votes).
- Majority label: the emotion with the most votes. In majority mode rows whose top
  emotions tie are dropped (no majority); in distribution mode they are kept, with the soft
  label carrying the tie and the hard label the first top emotion in :data:`EMOTIONS` order.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import FervizError, shown
from ..labels import EMOTIONS, FERPLUS_COLUMNS, INDEX
from .contempt import policy

# FER+ vote column -> FER2013 emotion index.
_TO_EMOTION = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise",
               "sadness": "sad", "anger": "angry", "disgust": "disgust", "fear": "fear"}


def read_votes(path: str | os.PathLike, expected_rows: int | None = None) -> np.ndarray:
    """N x 10 vote counts in :data:`FERPLUS_COLUMNS` order, one row per FER2013 row.

    Raises:
        FervizError: missing file or columns, non-numeric votes, or a row count that does not
            match FER2013 (the join is by row position).
    """
    path = Path(path)
    if not path.is_file():
        raise FervizError(f"{shown(path)}: no such file")
    try:
        df = pd.read_csv(path, dtype=str)  # numbers checked below (a 400-digit int overflows)
    except (OSError, ValueError, EOFError, pd.errors.ParserError) as e:
        raise FervizError(f"{shown(path)}: cannot read as a FER+ votes csv ({e})") from e
    missing = [c for c in FERPLUS_COLUMNS if c not in df.columns]
    if missing:
        raise FervizError(f"{shown(path)}: missing FER+ column(s) {', '.join(missing)}")
    votes = df[list(FERPLUS_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    bad = np.flatnonzero((votes.isna() | (votes < 0) | (votes % 1 != 0) | (votes > 32767))
                         .any(axis=1).to_numpy())
    if bad.size:
        lines = ", ".join(str(i + 2) for i in bad[:5]) + (f" (and {bad.size - 5} more)"
                                                          if bad.size > 5 else "")
        raise FervizError(f"{shown(path)}: line{'s' if bad.size > 1 else ''} {lines}: vote counts "
                          "must be whole numbers 0-32767")
    if expected_rows is not None and len(df) != expected_rows:
        raise FervizError(f"{shown(path)}: {len(df)} rows, but fer2013.csv has "
                          f"{expected_rows}; FER+ "
                          "joins FER2013 by row position")
    return votes.to_numpy(np.int16)


def ferplus_labels(votes: np.ndarray, contempt: str = "merge"
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels from votes: (majority label per row, N x 7 vote distribution, valid rows).

    Valid rows are those not dominated by ``unknown`` / ``NF``; a valid row whose top
    emotions tie has majority label -1.
    """
    contempt = policy(contempt, "ferplus")
    col = {c: j for j, c in enumerate(FERPLUS_COLUMNS)}
    emo = np.zeros((len(votes), len(EMOTIONS)), np.float32)
    for c, e in _TO_EMOTION.items():
        emo[:, INDEX[e]] = votes[:, col[c]]
    if contempt == "merge":
        emo[:, INDEX["neutral"]] += votes[:, col["contempt"]]
    soft = np.divide(emo, emo.sum(axis=1, keepdims=True), out=np.zeros_like(emo),
                     where=emo.sum(axis=1, keepdims=True) > 0)
    if contempt == "keep":
        emo = np.concatenate([emo, votes[:, col["contempt"]][:, None].astype(np.float32)], 1)
    top = emo.max(axis=1)
    total = emo.sum(axis=1)
    junk = np.maximum(votes[:, col["unknown"]], votes[:, col["NF"]])
    valid = (total > 0) & (top > junk)
    if contempt == "drop":
        valid &= top >= votes[:, col["contempt"]]
    tied = (emo == top[:, None]).sum(axis=1) > 1
    labels = np.where(valid & ~tied, emo.argmax(axis=1), -1).astype(np.int8)
    return labels, soft, valid


def contempt_faces(votes: np.ndarray) -> np.ndarray:
    """Rows whose votes make contempt the one majority emotion (more votes than each other
    emotion and than unknown / NF): the faces a contempt policy merges, drops or keeps."""
    col = {c: j for j, c in enumerate(FERPLUS_COLUMNS)}
    c = votes[:, col["contempt"]]
    others = votes[:, [col[k] for k in (*_TO_EMOTION, "unknown", "NF")]].max(axis=1)
    return c > others
