"""Accuracy, per-class precision / recall / F1 and the confusion matrix of a predictions table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..labels import EMOTIONS
from .counts import per_class_counts, summary_counts

RESAMPLES = 2000  # bootstrap resamples of every interval ferviz shows


def labelled(df: pd.DataFrame) -> pd.DataFrame:
    """The rows whose true label is known."""
    return df[df["label"].isin(EMOTIONS)]


def _counts(df: pd.DataFrame) -> np.ndarray:
    """7 x 7 counts of labelled faces, rows true, columns predicted (faces whose label or
    prediction is not one of the 7 emotions are left out)."""
    d = labelled(df)
    k = len(EMOTIONS)
    true = pd.Categorical(d["label"], categories=EMOTIONS).codes.astype(np.int64)
    pred = pd.Categorical(d["pred"], categories=EMOTIONS).codes.astype(np.int64)
    keep = (true >= 0) & (pred >= 0)
    return np.bincount(true[keep] * k + pred[keep], minlength=k * k).reshape(k, k)


def confusion(df: pd.DataFrame, normalize: bool = False) -> pd.DataFrame:
    """7 x 7 confusion matrix, rows true, columns predicted (row-normalised if asked)."""
    cm = _counts(df).astype(np.float64)
    if normalize:
        rows = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    out = pd.DataFrame(cm, index=pd.Index(EMOTIONS, name="true"),
                       columns=pd.Index(EMOTIONS, name="pred"))
    return out if normalize else out.astype(np.int64)


def per_class(df: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion (0 where undefined), computed as
    scikit-learn's ``precision_recall_fscore_support(zero_division=0)`` does."""
    return per_class_counts(confusion(df))


def summary(df: pd.DataFrame) -> dict[str, float]:
    """Accuracy, macro-F1 (over classes present in the truth) and weighted F1."""
    return summary_counts(confusion(df))


def class_report(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`per_class` plus ``macro avg`` and ``weighted avg`` rows.

    Averages run over the classes present in the truth (as in :func:`summary`); the support
    of both rows is the number of labelled faces.
    """
    pc = per_class(df)
    present = pc[pc["support"] > 0]
    n = int(present["support"].sum())
    cols = ["precision", "recall", "f1"]
    macro = present[cols].mean() if n else pd.Series(np.nan, index=cols)
    weighted = (present[cols].mul(present["support"], axis=0).sum() / n if n
                else pd.Series(np.nan, index=cols))
    extra = pd.DataFrame([macro, weighted], index=["macro avg", "weighted avg"])
    extra["support"] = n
    out = pd.concat([pc, extra.astype({"support": pc["support"].dtype})])
    out.index.name = "emotion"
    return out


def accuracy_ci(df: pd.DataFrame, level: float = 0.95, n_resamples: int = RESAMPLES,
                seed: int = 0) -> tuple[float, float, float]:
    """Accuracy with a percentile bootstrap confidence interval: (accuracy, low, high).

    Uses :func:`scipy.stats.bootstrap` over faces (percentile method: it stays defined when
    every face is right or every face is wrong). NaNs when no face is labelled.
    """
    from scipy.stats import bootstrap

    d = labelled(df)
    correct = (d["label"] == d["pred"]).to_numpy(np.float64)
    if len(correct) == 0:
        return float("nan"), float("nan"), float("nan")
    acc = float(correct.mean())
    if len(correct) == 1 or correct.min() == correct.max():
        return acc, acc, acc
    res = bootstrap((correct,), np.mean, confidence_level=level, n_resamples=n_resamples,
                    method="percentile", rng=np.random.default_rng(seed), vectorized=True)
    return acc, float(res.confidence_interval.low), float(res.confidence_interval.high)


def card_metrics(plain: pd.DataFrame, with_tta: pd.DataFrame) -> dict[str, Any]:
    """What a zoo card records of a model's test predictions without and with TTA."""
    s = summary(plain)
    return {"n": s["n"], "accuracy": round(s["accuracy"], 6),
            "accuracy_tta": round(summary(with_tta)["accuracy"], 6),
            "macro_f1": round(s["macro_f1"], 6), "weighted_f1": round(s["weighted_f1"], 6),
            "per_class": per_class(plain).round(6).to_dict(orient="index"),
            "confusion": confusion(plain).values.tolist()}
