"""Model ambiguity (entropy, top-2 margin, close calls) and, with FER+ votes, human ambiguity.

FER+ votes follow the rules of :mod:`ferviz.data.ferplus`: contempt votes merge into
neutral, rows dominated by ``unknown`` / ``NF`` have no usable votes, and a tie between the
top emotions leaves no majority.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.ferplus import ferplus_labels
from ..errors import FervizError
from ..labels import EMOTIONS, label_name
from ..table import VOTES, entropy, probabilities
from .metrics import labelled


def ambiguous(df: pd.DataFrame, k: int = 3, spread: float = 0.10) -> pd.DataFrame:
    """Faces whose ``k`` most likely emotions lie within ``spread`` of each other.

    The seed project's angry 29% / fear 28% / sad 26% face is ambiguous with the defaults.

    Returns:
        The rows, most ambiguous (smallest spread) first, with added columns ``spread``
        (top-1 minus top-k probability), ``n_close`` (emotions within ``spread`` of the top)
        and ``close`` (those emotions with their probabilities, e.g. "angry 29%, fear 28%").

    Raises:
        FervizError: for k outside 2..7 or a spread outside [0, 1].
    """
    if not 2 <= k <= len(EMOTIONS) or not 0 <= spread <= 1:
        raise FervizError(f"ambiguity needs 2 <= k <= 7 and 0 <= spread <= 1 (got {k}, {spread})")
    p = probabilities(df)
    ranked = -np.sort(-p, axis=1)
    gap = ranked[:, 0] - ranked[:, k - 1] if len(p) else np.zeros(0)
    pick = np.flatnonzero(gap <= spread + 1e-9)
    out = df.iloc[pick].copy()
    out["spread"] = gap[pick]
    close = p[pick] >= ranked[pick, :1] - spread - 1e-9
    out["n_close"] = close.sum(axis=1)
    out["close"] = [", ".join(f"{EMOTIONS[j]} {p[i, j]:.0%}"
                              for j in np.argsort(-p[i]) if c[j])
                    for i, c in zip(pick, close)]
    return out.sort_values(["spread", "entropy"], ascending=[True, False], kind="stable")


def has_votes(df: pd.DataFrame) -> bool:
    """Whether the table carries FER+ vote columns."""
    return all(c in df.columns for c in VOTES)


def _votes(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not has_votes(df):
        raise FervizError("the predictions table has no FER+ votes (use --ferplus)")
    return ferplus_labels(df[VOTES].to_numpy(np.int64), contempt="merge")


def vote_distribution(df: pd.DataFrame) -> np.ndarray:
    """N x 7 share of FER+ emotion votes per face, in EMOTIONS order (contempt as neutral).

    Raises:
        FervizError: if the table has no FER+ votes.
    """
    return _votes(df)[1]


def human(df: pd.DataFrame) -> pd.DataFrame:
    """Per-face human ambiguity from FER+ votes.

    Returns:
        Indexed like ``df``: votes (emotion votes counted), human_entropy (nats, of the 7-way
        vote distribution), agreement (share of votes for the top emotion), majority (FER+
        majority emotion, 'tie' or 'unusable'), usable (votes not dominated by unknown / NF).

    Raises:
        FervizError: if the table has no FER+ votes.
    """
    labels, dist, usable = _votes(df)
    total = df[VOTES[:8]].to_numpy(np.int64).sum(axis=1)
    majority = np.where(~usable, "unusable",
                        np.where(labels >= 0, [label_name(int(i)) for i in labels], "tie"))
    return pd.DataFrame({
        "votes": total, "human_entropy": entropy(dist.astype(np.float64)),
        "agreement": dist.max(axis=1) if len(dist) else np.zeros(0),
        "majority": majority, "usable": usable,
    }, index=df.index)


def human_vs_model(df: pd.DataFrame) -> dict[str, float]:
    """Spearman rank correlation between the table's model entropy and human vote entropy.

    Over faces with usable votes; NaNs when fewer than 3 or either side is constant.
    """
    from scipy.stats import spearmanr

    h = human(df)
    ok = h["usable"].to_numpy()
    model, people = df["entropy"].to_numpy(np.float64)[ok], h["human_entropy"].to_numpy()[ok]
    if ok.sum() < 3 or np.ptp(model) == 0 or np.ptp(people) == 0:
        return {"n": int(ok.sum()), "spearman": float("nan"), "pvalue": float("nan")}
    res = spearmanr(model, people)
    return {"n": int(ok.sum()), "spearman": float(res.statistic), "pvalue": float(res.pvalue)}


ERROR_KINDS = ("humans disagree too", "humans agree with the model",
               "humans agree, model wrong", "no usable votes")


def error_split(df: pd.DataFrame, agreement: float = 0.5) -> pd.DataFrame:
    """The model's errors split by what the FER+ annotators said about the same faces.

    - ``humans disagree too``: the top emotion got less than ``agreement`` of the votes, or
      tied (an ambiguous face: the error is likely label noise or real ambiguity);
    - ``humans agree with the model``: a clear FER+ majority for the model's answer (the
      FER2013 label is likely wrong);
    - ``humans agree, model wrong``: a clear FER+ majority for another emotion (a real
      model error);
    - ``no usable votes``: votes dominated by unknown / not-a-face.

    Returns:
        The wrong rows of labelled faces with the :func:`human` columns and ``kind``.
    """
    d = labelled(df)
    wrong = d[d["label"] != d["pred"]]
    h = human(wrong)
    clear = (h["agreement"] >= agreement) & ~h["majority"].isin(["tie", "unusable"])
    kind = np.select(
        [~h["usable"], ~clear, h["majority"] == wrong["pred"]],
        [ERROR_KINDS[3], ERROR_KINDS[0], ERROR_KINDS[1]], ERROR_KINDS[2])
    return pd.concat([wrong, h], axis=1).assign(kind=kind)


def contradicted(df: pd.DataFrame) -> pd.DataFrame:
    """Labelled faces whose FER+ majority (usable, no tie) names another emotion.

    Returns:
        Those rows with the :func:`human` columns and ``model_sides_with`` ('ferplus',
        'fer2013' or 'neither').
    """
    d = labelled(df)
    h = human(d)
    bad = h["usable"] & ~h["majority"].isin(["tie", "unusable"]) & (h["majority"] != d["label"])
    out = pd.concat([d[bad], h[bad]], axis=1)
    out["model_sides_with"] = np.select(
        [out["pred"] == out["majority"], out["pred"] == out["label"]],
        ["ferplus", "fer2013"], "neither")
    return out.sort_values("agreement", ascending=False, kind="stable")


SORTS = {  # key: (label, column, ascending); "close" is the one definition of "ambiguous"
    "close": ("close calls: the 3 likeliest emotions within 10 points (closest first)",
              "spread", True),
    "entropy": ("entropy (most uncertain first)", "entropy", False),
    "margin": ("margin (closest call first)", "margin", True),
    "human": ("human disagreement (FER+ vote entropy, highest first)", "human_entropy", False),
}


def sort_by(df: pd.DataFrame, by: str, human: pd.DataFrame | None = None,
            errors_only: bool = False) -> pd.DataFrame:
    """The table sorted by ambiguity (``by`` a key of :data:`SORTS`), with the columns of
    :func:`human` joined when given.

    Raises:
        FervizError: for an unknown sort, or human disagreement without FER+ votes.
    """
    if by not in SORTS:
        raise FervizError(f"unknown sort {by!r}")
    _, column, ascending = SORTS[by]
    out = df if human is None else df.join(human)
    if by == "close":  # only the ambiguous faces, in :func:`ambiguous`'s order
        out = ambiguous(out)
    if column not in out.columns:
        raise FervizError("sorting by human disagreement needs FER+ votes (--ferplus)")
    if errors_only:
        out = out[out["label"].isin(EMOTIONS) & (out["label"] != out["pred"])]
    return out if by == "close" else out.sort_values(column, ascending=ascending, kind="stable")
