"""The questions every view asks of a predictions table, answered once: the scores and
matrices, a confusion cell, the ambiguous faces (one definition by default, others by
name), two models compared, metrics per slice, and a sharded job's counts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..labels import EMOTIONS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..analysis.parts import Parts


def overview(df: pd.DataFrame) -> dict[str, Any]:
    """Scores, their intervals (clustered by subject or sequence when known, as ``ferviz
    evaluate``'s) and the line describing them, the per-class table, the top confusions,
    the confusion matrix (counts and row rates) and the class balance (true and predicted
    faces per class)."""
    import pandas as pd

    from ..analysis.confusions import top_confusions
    from ..analysis.groups import default_cluster, describe, intervals
    from ..analysis.metrics import class_report, confusion, summary

    ci = intervals(df, default_cluster(df))
    return {"ci": ci, "ci_text": describe(ci), "summary": summary(df),
            "report": class_report(df), "top": top_confusions(df), "counts": confusion(df),
            "rates": confusion(df, normalize=True),
            "balance": pd.DataFrame({"true": df["label"].value_counts(),
                                     "predicted": df["pred"].value_counts()}
                                    ).reindex(EMOTIONS).fillna(0)}


def confusions(df: pd.DataFrame, top: int | None = 10) -> pd.DataFrame:
    """The most frequent confusions (true, pred, count, rate, ...), largest first."""
    from ..analysis.confusions import top_confusions

    return top_confusions(df, top)


def cell(df: pd.DataFrame, true: str, pred: str, n: int | None = None) -> pd.DataFrame:
    """The faces labelled ``true`` and predicted ``pred``, most confident first."""
    from ..analysis.confusions import cell as rows

    return rows(df, true, pred, n)


def first_face(df: pd.DataFrame, true: str, pred: str) -> str:
    """The id a face inspector opens on: the cell's most confident face, else the most
    confident error, else the first face."""
    rows = cell(df, true, pred, 1)
    if len(rows):
        return str(rows["id"].iloc[0])
    wrong = df[~df["correct"]].sort_values("confidence", ascending=False)
    return str((wrong if len(wrong) else df)["id"].iloc[0])


def errors(df: pd.DataFrame) -> pd.DataFrame:
    """The labelled faces the model got wrong."""
    return df[df["label"].isin(EMOTIONS) & ~df["correct"]]


def has_votes(df: pd.DataFrame) -> bool:
    """Whether the table carries FER+ crowd votes."""
    from ..analysis.ambiguity import has_votes as voted

    return voted(df)


def vote_shares(df: pd.DataFrame, row: int) -> np.ndarray | None:
    """The FER+ vote distribution of the face at ``row`` (None without votes)."""
    from ..analysis.ambiguity import vote_distribution

    return vote_distribution(df.iloc[[row]])[0] if has_votes(df) else None


def ambiguity_sorts(df: pd.DataFrame) -> dict[str, str]:
    """The orders of ambiguity available on this table (key: label); the first, "close",
    is the one definition of an ambiguous face (the report's and the dashboard's)."""
    from ..analysis.ambiguity import SORTS

    return {k: v[0] for k, v in SORTS.items() if k != "human" or has_votes(df)}


def ambiguous(df: pd.DataFrame, by: str = "close", errors_only: bool = False
              ) -> pd.DataFrame:
    """The table in order of ambiguity (``by`` a key of :func:`ambiguity_sorts`; "close":
    only the close calls, the three likeliest emotions within 10 points), with the FER+
    vote columns when the table has votes."""
    from ..analysis.ambiguity import human, sort_by

    return sort_by(df, by, human(df) if has_votes(df) else None, errors_only)


def close_calls(df: pd.DataFrame) -> int:
    """How many faces are close calls (ambiguous by the one definition)."""
    from ..analysis.ambiguity import ambiguous as close

    return len(close(df))


def human_agreement(df: pd.DataFrame) -> dict[str, Any]:
    """Model vs human ambiguity (Spearman over faces with usable votes) and the human
    vote entropy of every face."""
    from ..analysis.ambiguity import human, human_vs_model

    return {**human_vs_model(df), "human_entropy": human(df)["human_entropy"].to_numpy()}


def comparison(df: pd.DataFrame, other: pd.DataFrame) -> dict[str, Any]:
    """Two tables on the same faces: score deltas, McNemar's test, the disagreement matrix
    and the disagreeing faces (most confident first)."""
    from ..analysis import compare as cmp

    return {"deltas": cmp.deltas(df, other), "mcnemar": cmp.mcnemar(df, other),
            "matrix": cmp.disagreement(df, other),
            "disagreements": cmp.disagreements(df, other)}


SLICES = ("subject", "sequence", "split", "source")


def slice_columns(df: pd.DataFrame) -> list[str]:
    """The columns the metrics can be broken down by (two values or more)."""
    return [c for c in SLICES if c in df.columns and df[c].nunique() > 1]


def by_slice(df: pd.DataFrame, column: str, bins: int = 15) -> pd.DataFrame:
    """Metrics per value of ``column``."""
    from ..analysis.slices import by_slice as metrics

    return metrics(df, column, bins)


def open_job(folder: Path) -> Parts:
    """A sharded job's output, opened lazily (its summary read once)."""
    from ..analysis.parts import Parts

    parts = Parts(folder)
    parts.summary  # noqa: B018 (read once: the summary is all the first charts need)
    return parts


def job_summary_file(folder: Path) -> Path:
    """The file whose change means a job's summary changed."""
    from ..analysis.parts import SUMMARY

    return folder / SUMMARY


def job_scores(parts: Parts, split: str | None = None) -> dict[str, Any]:
    """A job's numbers on one split, or pooled over its scored splits (never the training
    split with held-out ones, as ``ferviz job-report``): the splits covered, true x
    predicted counts, scores, per-class table, row-normalised matrix, confidence histogram
    and the faces without a label."""
    from ..analysis.counts import per_class_counts, summary_counts
    from ..analysis.parts import TRUTH

    s = parts.summary
    splits = [split] if split else s.scored_splits()
    counts = s.counts(splits)
    known, rates = s.rates(splits)
    return {"splits": splits, "counts": counts, "summary": summary_counts(counts),
            "per_class": per_class_counts(counts), "known": known, "rates": rates,
            "histogram": s.histogram(splits), "unlabelled": int(counts.loc[TRUTH[-1]].sum())}
