"""The predictions table's schema: its column names and the quantities derived from them.

One row per face: id, split, source, label (or 'unknown'), FER+ ``votes_*`` / ``soft_*`` when
known, ``p_<emotion>`` for the 7 emotions, pred, confidence, margin (top-1 minus top-2),
entropy (nats), correct. Every module that reads or writes these columns takes the names here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .labels import EMOTIONS, FERPLUS_COLUMNS

PROBS = [f"p_{e}" for e in EMOTIONS]
VOTES = [f"votes_{c}" for c in FERPLUS_COLUMNS]


def prob_columns(suffix: str = "") -> list[str]:
    """``p_<emotion>`` columns, with a suffix such as ``_b`` for a second model's."""
    return [f"{c}{suffix}" for c in PROBS]


def probabilities(df: pd.DataFrame, suffix: str = "") -> np.ndarray:
    """The N x 7 emotion probabilities of a table."""
    return df[prob_columns(suffix)].to_numpy(np.float64)


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of a probability matrix."""
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=1)
