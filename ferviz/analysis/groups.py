"""Confidence intervals that respect who is in the faces: a cluster bootstrap over subjects.

Frames of one person (or one sequence) are not independent: resampling faces understates the
uncertainty. :func:`intervals` resamples whole clusters (all faces of a subject together)
with replacement and recomputes accuracy and macro-F1 on the pooled faces; with no cluster
column each face is its own cluster (the ordinary bootstrap).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import FervizError
from ..labels import EMOTIONS
from .metrics import RESAMPLES, labelled, summary

CLUSTER_COLUMNS = ("subject", "sequence")  # preferred cluster columns, in order
_K = len(EMOTIONS)


def default_cluster(df: pd.DataFrame) -> str | None:
    """The column to cluster by: ``subject``, else ``sequence``, if every face has one."""
    for column in CLUSTER_COLUMNS:
        if column in df.columns and len(df) and df[column].notna().all():
            return column
    return None


def _scores(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and macro-F1 (classes present in the truth) of B x 7 x 7 confusion counts."""
    tp = np.diagonal(counts, axis1=1, axis2=2)
    support, predicted = counts.sum(axis=2), counts.sum(axis=1)
    total = support.sum(axis=1)
    acc = tp.sum(axis=1) / np.maximum(total, 1)
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=np.float64), where=denom > 0)
    present = support > 0
    macro = (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    return acc, macro


def intervals(df: pd.DataFrame, cluster: str | None = None, level: float = 0.95,
              n_resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """Accuracy and macro-F1 with percentile bootstrap intervals, resampling clusters.

    Resample ``b`` draws ``k`` cluster indices with ``numpy.random.default_rng(seed)
    .integers(0, k, size=k)`` (clusters numbered in order of first appearance), pools their
    faces and scores them; the interval is the (1 - level) / 2 and (1 + level) / 2
    percentiles (numpy's linear interpolation) of the ``n_resamples`` scores.

    Returns:
        ``{"n", "cluster" (column or "face"), "clusters", "level", "resamples",
        "accuracy": [estimate, low, high], "macro_f1": [estimate, low, high]}``; NaNs
        when no face is labelled.

    Raises:
        FervizError: unknown cluster column, faces without a cluster, or a bad level.
    """
    if not 0 < level < 1 or n_resamples < 1:
        raise FervizError(f"bootstrap needs 0 < level < 1 and resamples >= 1 (got {level}, "
                          f"{n_resamples})")
    d = labelled(df)
    if cluster is not None:
        if cluster not in d.columns:
            raise FervizError(f"no column {cluster!r} to cluster by")
        if d[cluster].isna().any():
            raise FervizError(f"{int(d[cluster].isna().sum())} faces have no {cluster}")
    s = summary(d)
    out = {"n": s["n"], "cluster": cluster or "face", "level": level, "resamples": n_resamples}
    codes = (pd.factorize(d[cluster])[0] if cluster else np.arange(len(d)))
    k = int(codes.max()) + 1 if len(codes) else 0
    out["clusters"] = k
    if k == 0:
        return {**out, "accuracy": [np.nan] * 3, "macro_f1": [np.nan] * 3}
    index = {e: i for i, e in enumerate(EMOTIONS)}
    t = d["label"].map(index).to_numpy(np.int64)
    p = d["pred"].map(index).to_numpy(np.int64)
    cells = np.bincount(codes * _K * _K + t * _K + p, minlength=k * _K * _K
                        ).reshape(k, _K * _K).astype(np.float64)
    rng = np.random.default_rng(seed)
    acc, f1 = np.empty(n_resamples), np.empty(n_resamples)
    chunk = max(1, min(n_resamples, 4_000_000 // k))
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        draws = rng.integers(0, k, size=(b, k))
        counts = np.bincount((draws + np.arange(b)[:, None] * k).ravel(),
                             minlength=b * k).reshape(b, k).astype(np.float64)
        acc[start:start + b], f1[start:start + b] = _scores((counts @ cells).reshape(b, _K, _K))
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    return {**out, "accuracy": [s["accuracy"], *map(float, np.percentile(acc, q))],
            "macro_f1": [s["macro_f1"], *map(float, np.percentile(f1, q))]}


def describe(ci: dict) -> str:
    """One line, e.g. ``accuracy 71.2% [66.0, 76.1], macro-F1 0.652 [0.601, 0.700] (95%
    cluster bootstrap over 118 subjects)``."""
    a, f = ci["accuracy"], ci["macro_f1"]
    over = (f"cluster bootstrap over {ci['clusters']} {ci['cluster']}s" if ci["cluster"] !=
            "face" else f"bootstrap over {ci['clusters']} faces; no subject ids")
    return (f"accuracy {a[0] * 100:.2f}% [{a[1] * 100:.2f}, {a[2] * 100:.2f}], macro-F1 "
            f"{f[0]:.4f} [{f[1]:.4f}, {f[2]:.4f}] ({ci['level']:.0%} {over})")
