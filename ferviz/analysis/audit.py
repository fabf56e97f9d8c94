"""A data set's own problems: duplicate and near-duplicate faces (within and across splits),
blank faces, FER+ not-a-face / unknown votes, FER+-contradicted labels, class balance.

Works on the per-face frame (:meth:`ferviz.data.records.Records.frame`) plus per-face hashes
and pixel statistics; no model involved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import EMOTIONS
from .ambiguity import has_votes, human

NEAR_DISTANCE = 4  # phash bits (of 64); on FER2013, pairs at <= 4 are the same photo
BLANK_STD = 2.0  # grey levels: faces whose pixels vary less are blank


def exact_groups(hashes: np.ndarray) -> list[np.ndarray]:
    """Row indices of each set of identical faces (2 or more), in row order."""
    order = np.argsort(hashes, kind="stable")
    h = hashes[order]
    cuts = np.flatnonzero(np.diff(h) != 0) + 1
    return [g for g in np.split(order, cuts) if len(g) > 1]


def hamming_pairs(hashes: np.ndarray, max_distance: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs i < j whose 64-bit hashes differ in at most ``max_distance`` bits:
    (i, j, distance).

    Pigeonhole search: split the bits into ``max_distance + 1`` bands; two hashes that close
    agree exactly on at least one band, so only faces sharing a band value are compared.
    """
    h = np.asarray(hashes, np.uint64)
    cuts = [64 * k // (max_distance + 1) for k in range(max_distance + 2)]
    found = [np.zeros(0, np.int64)]
    for lo, hi in zip(cuts, cuts[1:]):
        band = (h >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        order = np.argsort(band, kind="stable")
        b = band[order]
        for offset in range(1, len(h)):  # sorted: equal values sit within one run
            k = np.flatnonzero(b[offset:] == b[:-offset])
            if not k.size:
                break
            i, j = order[k], order[k + offset]
            close = np.bitwise_count(h[i] ^ h[j]) <= max_distance
            found.append(np.minimum(i, j)[close] * len(h) + np.maximum(i, j)[close])
    key = np.unique(np.concatenate(found))
    i, j = key // max(len(h), 1), key % max(len(h), 1)
    return i, j, np.bitwise_count(h[i] ^ h[j]).astype(np.int64)


def _pairs(frame: pd.DataFrame, i: np.ndarray, j: np.ndarray, kind: str,
           distance: np.ndarray) -> pd.DataFrame:
    a, b = frame.iloc[i], frame.iloc[j]
    return pd.DataFrame({
        "kind": kind, "id_a": a["id"].to_numpy(), "id_b": b["id"].to_numpy(),
        "split_a": a["split"].to_numpy(), "split_b": b["split"].to_numpy(),
        "label_a": a["label"].to_numpy(), "label_b": b["label"].to_numpy(),
        "distance": distance.astype(int)})


def duplicate_pairs(frame: pd.DataFrame, exact: np.ndarray,
                    perceptual: np.ndarray | None = None,
                    near: int = NEAR_DISTANCE) -> pd.DataFrame:
    """Duplicate pairs: each identical face paired with the first of its set (``exact``),
    and every other pair within ``near`` phash bits (``near``).

    Returns:
        kind, id_a, id_b, split_a, split_b, label_a, label_b, distance (phash bits; 0 for
        exact pairs).
    """
    groups = exact_groups(exact)
    first = np.concatenate([np.full(len(g) - 1, g[0]) for g in groups]) if groups else \
        np.zeros(0, int)
    rest = np.concatenate([g[1:] for g in groups]) if groups else np.zeros(0, int)
    parts = [_pairs(frame, first, rest, "exact", np.zeros(len(rest)))]
    if perceptual is not None:
        i, j, d = hamming_pairs(perceptual, near)
        keep = exact[i] != exact[j]
        parts.append(_pairs(frame, i[keep], j[keep], "near", d[keep]))
    return pd.concat(parts, ignore_index=True)


def split_crosstab(pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs counted by kind and split pair (``Training / PrivateTest``...), across first."""
    if pairs.empty:
        return pd.DataFrame(columns=["kind", "splits", "across", "pairs"])
    a, b = pairs["split_a"].astype(str), pairs["split_b"].astype(str)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    out = (pairs.assign(splits=lo + " / " + hi, across=lo != hi)
           .groupby(["kind", "splits", "across"]).size().rename("pairs").reset_index())
    return out.sort_values(["kind", "across", "pairs"], ascending=[True, False, False],
                           ignore_index=True)


def blank_faces(frame: pd.DataFrame, faces: np.ndarray, min_std: float = BLANK_STD
                ) -> pd.DataFrame:
    """Faces whose pixels barely vary (std below ``min_std``): id, split, label, mean, std."""
    flat = np.asarray(faces).reshape(len(faces), -1).astype(np.float32)
    std = flat.std(axis=1)
    pick = np.flatnonzero(std < min_std)
    return frame.iloc[pick][["id", "split", "label"]].assign(
        mean=flat[pick].mean(axis=1), std=std[pick]).reset_index(drop=True)


def ferplus_flags(frame: pd.DataFrame) -> dict[str, int] | None:
    """FER+ vote problems: faces whose top vote is not-a-face or unknown (as many votes as
    the most-voted emotion or more), and faces whose FER2013 label a clear FER+ majority
    contradicts (the rule of :func:`ferviz.analysis.ambiguity.contradicted`); None without
    votes."""
    if not has_votes(frame):
        return None
    emo = frame[[f"votes_{c}" for c in ("neutral", "happiness", "surprise", "sadness", "anger",
                                        "disgust", "fear", "contempt")]].max(axis=1)
    nf, unknown = frame["votes_NF"], frame["votes_unknown"]
    h = human(frame)
    labelled = frame["label"].isin(EMOTIONS)
    clear = h["usable"] & ~h["majority"].isin(["tie", "unusable"])
    return {"not_a_face": int(((nf > 0) & (nf >= emo)).sum()),
            "unknown": int(((unknown > 0) & (unknown >= emo) & (nf < unknown)).sum()),
            "contradicted": int((labelled & clear & (h["majority"] != frame["label"])).sum())}


def class_balance(frame: pd.DataFrame) -> pd.DataFrame:
    """Faces per label (rows) and split (columns), with totals and the share of each label."""
    table = pd.crosstab(frame["label"], frame["split"], margins=True, margins_name="total")
    order = [e for e in (*EMOTIONS, "contempt", "unknown") if e in table.index] + ["total"]
    table = table.reindex(order)
    table["share"] = table["total"] / max(int(table.loc["total", "total"]), 1)
    return table


def groups_across_splits(frame: pd.DataFrame, column: str) -> list[str]:
    """Values of a group column (e.g. subjects) found in more than one split: a split that
    is not subject-independent."""
    known = frame[frame[column].notna()]
    n = known.groupby(column, observed=True)["split"].nunique()
    return sorted(map(str, n.index[n > 1]))
