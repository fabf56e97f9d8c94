"""Calibration of the top-1 confidence: reliability curve, ECE, right-vs-wrong histograms."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import FervizError
from .metrics import labelled


def _edges(bins: int) -> np.ndarray:
    if bins < 1:
        raise FervizError(f"need at least one bin, not {bins}")
    return np.linspace(0.0, 1.0, bins + 1)


def reliability(df: pd.DataFrame, bins: int = 15) -> pd.DataFrame:
    """Accuracy against mean confidence in equal-width confidence bins (labelled faces).

    Returns:
        One row per bin: low, high, count, confidence (mean), accuracy (NaN when empty).
    """
    d = labelled(df)
    edges = _edges(bins)
    conf = d["confidence"].to_numpy(np.float64)
    right = (d["label"] == d["pred"]).to_numpy(np.float64)
    # Bins are (low, high]; a confidence of exactly 0 falls into the first bin.
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, conf, minlength=bins) / count
        acc = np.bincount(idx, right, minlength=bins) / count
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "count": count,
                         "confidence": mean_conf, "accuracy": acc})


def ece(df: pd.DataFrame, bins: int = 15) -> float:
    """Expected calibration error: sum over bins of |accuracy - confidence| x bin share."""
    r = reliability(df, bins)
    n = r["count"].sum()
    if n == 0:
        return float("nan")
    full = r[r["count"] > 0]
    return float((full["count"] * (full["accuracy"] - full["confidence"]).abs()).sum() / n)


def confidence_hist(df: pd.DataFrame, bins: int = 20) -> pd.DataFrame:
    """Counts of right and wrong answers per confidence bin (labelled faces).

    Returns:
        One row per bin: low, high, right, wrong.
    """
    d = labelled(df)
    edges = _edges(bins)
    right = (d["label"] == d["pred"]).to_numpy()
    conf = d["confidence"].to_numpy(np.float64)
    return pd.DataFrame({"low": edges[:-1], "high": edges[1:],
                         "right": np.histogram(conf[right], edges)[0],
                         "wrong": np.histogram(conf[~right], edges)[0]})
