"""Metrics from confusion counts alone: what :mod:`.metrics` computes from a table, and what a
sharded job's summary gives without its table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import EMOTIONS


def per_class_counts(cm: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion from true x predicted counts (rows not
    named after an emotion, such as ``unknown``, are left out; 0 where undefined), computed
    as scikit-learn's ``precision_recall_fscore_support(zero_division=0)`` does."""
    c = cm.reindex(index=list(EMOTIONS), columns=list(EMOTIONS), fill_value=0)
    c = c.to_numpy(np.int64)
    tp, predicted, support = np.diag(c), c.sum(axis=0), c.sum(axis=1)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        num = num.astype(np.float64)
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    return pd.DataFrame({"precision": ratio(tp, predicted), "recall": ratio(tp, support),
                         "f1": ratio(2 * tp, support + predicted), "support": support},
                        index=pd.Index(EMOTIONS, name="emotion"))


MACRO_F1 = "macro-F1: mean F1 over the classes present in the truth labels"
MACRO_F1_SEEN = ("macro_f1_seen: mean F1 over the classes present in the truth or the "
                 "predictions (scikit-learn's f1_score(average='macro'))")


def summary_counts(cm: pd.DataFrame) -> dict[str, float]:
    """Accuracy, macro-F1 (:data:`MACRO_F1`, the one ferviz shows), ``macro_f1_seen``
    (:data:`MACRO_F1_SEEN`) and weighted F1."""
    pc = per_class_counts(cm)
    present = pc[pc["support"] > 0]
    predicted = cm.sum(axis=0).reindex(pc.index, fill_value=0) > 0
    seen = pc[(pc["support"] > 0) | predicted]
    n = int(pc["support"].sum())
    nan = float("nan")
    correct = float(sum(cm.loc[e, e] for e in EMOTIONS if e in cm.index and e in cm.columns))
    return {"n": n, "accuracy": correct / n if n else nan,
            "macro_f1": float(present["f1"].mean()) if n else nan,
            "macro_f1_seen": float(seen["f1"].mean()) if n else nan,
            "weighted_f1": float((present["f1"] * present["support"]).sum() / n) if n else nan}
