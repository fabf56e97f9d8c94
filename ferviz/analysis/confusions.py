"""Top confusions and drill-down into one true -> predicted cell of the confusion matrix."""

from __future__ import annotations

import pandas as pd

from ..errors import FervizError
from ..labels import EMOTIONS, canonical
from .metrics import labelled


def emotion(name: str) -> str:
    """The canonical emotion of a name or alias.

    Raises:
        FervizError: if it is not one of the 7 emotions.
    """
    e = canonical(str(name))
    if e is None:
        raise FervizError(f"unknown emotion {name!r}; expected one of {', '.join(EMOTIONS)}")
    return e


def top_confusions(df: pd.DataFrame, k: int | None = 10) -> pd.DataFrame:
    """Off-diagonal cells ranked by count (ties: higher rate first).

    Returns:
        Columns true, pred, count, rate (share of the true class), share (of all errors),
        mean_confidence (of the model in its wrong answer).
    """
    d = labelled(df)
    wrong = d[d["label"] != d["pred"]]
    cols = ["true", "pred", "count", "rate", "share", "mean_confidence"]
    if wrong.empty:
        return pd.DataFrame(columns=cols)
    g = (wrong.groupby(["label", "pred"], observed=True)["confidence"]
         .agg(count="size", mean_confidence="mean").reset_index()
         .rename(columns={"label": "true"}))
    g["rate"] = g["count"] / g["true"].map(d["label"].value_counts())
    g["share"] = g["count"] / len(wrong)
    g = g.sort_values(["count", "rate"], ascending=False, kind="stable")[cols]
    return (g if k is None else g.head(k)).reset_index(drop=True)


def cell(df: pd.DataFrame, true: str, pred: str, n: int | None = None) -> pd.DataFrame:
    """The faces of one cell (true label -> prediction), most confident first.

    Keeps the table's columns (id, probabilities, confidence, ...); ``n`` limits the rows.

    Raises:
        FervizError: if either name is not an emotion.
    """
    true, pred = emotion(true), emotion(pred)
    d = labelled(df)
    rows = d[(d["label"] == true) & (d["pred"] == pred)]
    rows = rows.sort_values("confidence", ascending=False, kind="stable")
    return rows if n is None else rows.head(n)
