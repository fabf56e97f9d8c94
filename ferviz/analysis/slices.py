"""Metrics per slice: any column of the predictions table (split, source, a user tag)."""

from __future__ import annotations

import pandas as pd

from ..errors import FervizError
from .calibration import ece
from .metrics import labelled, summary


def by_slice(df: pd.DataFrame, column: str, bins: int = 15) -> pd.DataFrame:
    """Accuracy, macro-F1, weighted F1 and ECE for each value of ``column``.

    Returns:
        One row per value (labelled faces only), largest slice first: n, accuracy,
        macro_f1, weighted_f1, ece.

    Raises:
        FervizError: if the column is not in the table.
    """
    if column not in df.columns:
        raise FervizError(f"no column {column!r} to slice by; columns: {', '.join(df.columns)}")
    d = labelled(df)
    rows = {value: {**summary(part), "ece": ece(part, bins)}
            for value, part in d.groupby(column, sort=True, observed=True, dropna=False)}
    out = pd.DataFrame.from_dict(rows, orient="index",
                                 columns=["n", "accuracy", "macro_f1", "weighted_f1", "ece"])
    out.index.name = column
    return out.sort_values("n", ascending=False, kind="stable")
