"""Two predictions tables on the same faces: deltas, disagreements and McNemar's test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import FervizError
from ..labels import EMOTIONS
from ..table import PROBS
from .metrics import per_class, summary

KEEP = ["pred", "confidence", "correct", *PROBS]


def align(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables restricted to their labelled faces, in ``a``'s order, matched by id.

    Raises:
        FervizError: if a table lacks columns, ids repeat, the id sets differ, or a face has
            two different labels.
    """
    for name, t in (("first", a), ("second", b)):
        missing = [c for c in ("id", "label", *KEEP) if c != "correct" and c not in t.columns]
        if missing:
            raise FervizError(f"the {name} predictions table lacks column(s) {', '.join(missing)}")
        if t["id"].duplicated().any():
            raise FervizError(f"the {name} predictions table repeats face ids")
    if set(a["id"]) != set(b["id"]):
        only = len(set(a["id"]) ^ set(b["id"]))
        raise FervizError(f"the two predictions tables cover different faces ({only} ids in "
                          "only one of them); compare predictions on the same data")
    b = b.set_index("id").loc[a["id"]].reset_index()
    if (a["label"].to_numpy() != b["label"].to_numpy()).any():
        raise FervizError("the two predictions tables give the same faces different labels")
    keep = a["label"].isin(EMOTIONS).to_numpy()
    return a[keep].reset_index(drop=True), b[keep].reset_index(drop=True)


def deltas(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Accuracy, macro-F1 and per-class F1 of both tables and ``b - a``.

    Returns:
        Rows accuracy, macro_f1, then f1_<emotion>; columns a, b, delta.
    """
    a, b = align(a, b)
    sa, sb = summary(a), summary(b)
    fa, fb = per_class(a)["f1"], per_class(b)["f1"]
    rows = {"accuracy": (sa["accuracy"], sb["accuracy"]),
            "macro_f1": (sa["macro_f1"], sb["macro_f1"]),
            **{f"f1_{e}": (fa[e], fb[e]) for e in EMOTIONS}}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["a", "b"])
    out["delta"] = out["b"] - out["a"]
    return out


def disagreement(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """7 x 7 counts of (prediction of a, prediction of b) over labelled faces."""
    a, b = align(a, b)
    return pd.crosstab(pd.Categorical(a["pred"], EMOTIONS), pd.Categorical(b["pred"], EMOTIONS),
                       rownames=["a"], colnames=["b"], dropna=False)


def mcnemar(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, float]:
    """McNemar's exact test on the faces exactly one of the two models gets right.

    The exact form (a two-sided binomial test of the discordant pairs,
    :func:`scipy.stats.binomtest` with p = 0.5) is used at every sample size: it needs no
    continuity correction and stays valid when few faces are discordant.

    Returns:
        only_a (a right, b wrong), only_b, both, neither, pvalue (1 when no discordant pair).
    """
    from scipy.stats import binomtest

    a, b = align(a, b)
    ra, rb = (a["label"] == a["pred"]).to_numpy(), (b["label"] == b["pred"]).to_numpy()
    only_a, only_b = int((ra & ~rb).sum()), int((~ra & rb).sum())
    n = only_a + only_b
    return {"only_a": only_a, "only_b": only_b, "both": int((ra & rb).sum()),
            "neither": int((~ra & ~rb).sum()),
            "pvalue": float(binomtest(only_a, n, 0.5).pvalue) if n else 1.0}


def disagreements(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Labelled faces the two tables predict differently, most confident disagreement first.

    Returns:
        id, label, and ``pred``, ``confidence``, ``correct`` and probabilities suffixed
        ``_a`` / ``_b``.
    """
    a, b = align(a, b)
    a = a.assign(correct=a["label"] == a["pred"])
    b = b.assign(correct=b["label"] == b["pred"])
    both = a[["id", "label", *KEEP]].join(b[KEEP], suffixes=("_a", "_b"))
    out = both[both["pred_a"] != both["pred_b"]]
    order = np.argsort(-np.maximum(out["confidence_a"], out["confidence_b"]).to_numpy(),
                       kind="stable")
    return out.iloc[order]

