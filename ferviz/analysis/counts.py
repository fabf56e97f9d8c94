"""Metrics from confusion counts alone (a job's summary), equal to :mod:`.metrics` on the
table the counts came from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import EMOTIONS


def per_class_counts(cm: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion from true x predicted counts (rows not
    named after an emotion, such as ``unknown``, are left out; 0 where undefined)."""
    c = cm.reindex(index=list(EMOTIONS), columns=list(EMOTIONS), fill_value=0)
    c = c.to_numpy(np.float64)
    tp, support, predicted = np.diag(c), c.sum(axis=1), c.sum(axis=0)
    p = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    r = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros_like(tp), where=(p + r) > 0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f,
                         "support": support.astype(np.int64)},
                        index=pd.Index(EMOTIONS, name="emotion"))


def summary_counts(cm: pd.DataFrame) -> dict[str, float]:
    """Accuracy, macro-F1 (over classes present in the truth) and weighted F1."""
    pc = per_class_counts(cm)
    present = pc[pc["support"] > 0]
    n = int(pc["support"].sum())
    nan = float("nan")
    correct = float(sum(cm.loc[e, e] for e in EMOTIONS if e in cm.index and e in cm.columns))
    return {"n": n, "accuracy": correct / n if n else nan,
            "macro_f1": float(present["f1"].mean()) if n else nan,
            "weighted_f1": float((present["f1"] * present["support"]).sum() / n) if n else nan}
