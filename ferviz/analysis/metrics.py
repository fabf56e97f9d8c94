"""Accuracy, per-class precision / recall / F1 and the confusion matrix of a predictions table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import EMOTIONS


def labelled(df: pd.DataFrame) -> pd.DataFrame:
    """The rows whose true label is known."""
    return df[df["label"].isin(EMOTIONS)]


def confusion(df: pd.DataFrame, normalize: bool = False) -> pd.DataFrame:
    """7 x 7 confusion matrix, rows true, columns predicted (row-normalised if asked)."""
    from sklearn.metrics import confusion_matrix

    d = labelled(df)
    cm = confusion_matrix(d["label"], d["pred"], labels=list(EMOTIONS)).astype(np.float64)
    if normalize:
        rows = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    out = pd.DataFrame(cm, index=pd.Index(EMOTIONS, name="true"),
                       columns=pd.Index(EMOTIONS, name="pred"))
    return out if normalize else out.astype(np.int64)


def per_class(df: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion (0 where undefined)."""
    from sklearn.metrics import precision_recall_fscore_support

    d = labelled(df)
    p, r, f, s = precision_recall_fscore_support(d["label"], d["pred"], labels=list(EMOTIONS),
                                                 zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s},
                        index=pd.Index(EMOTIONS, name="emotion"))


def summary(df: pd.DataFrame) -> dict[str, float]:
    """Accuracy, macro-F1 (over classes present in the truth) and weighted F1."""
    d = labelled(df)
    pc = per_class(d)
    present = pc[pc["support"] > 0]
    n = int(len(d))
    return {
        "n": n,
        "accuracy": float((d["label"] == d["pred"]).mean()) if n else float("nan"),
        "macro_f1": float(present["f1"].mean()) if n else float("nan"),
        "weighted_f1": float((present["f1"] * present["support"]).sum() / n) if n else float("nan"),
    }
