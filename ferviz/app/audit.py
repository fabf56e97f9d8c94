"""``ferviz audit`` and the leak check of ``ferviz evaluate``: a data set's duplicates, blank
faces, FER+ flags and class balance (:mod:`ferviz.analysis.audit`), hashes cached."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..analysis import audit as A
from ..data import open_data
from ..data.contempt import ContemptNote
from ..data.hashes import face_hashes
from ..data.records import Records
from ..errors import FervizError
from ..labels import TRAIN_SPLITS


@dataclass
class Audit:
    """What ``ferviz audit`` found; DataFrames for views, :meth:`to_dict` for JSON."""

    name: str
    faces: int
    near_distance: int | None
    pairs: pd.DataFrame
    by_splits: pd.DataFrame
    blank: pd.DataFrame
    balance: pd.DataFrame
    ferplus: dict[str, int] | None
    contempt: ContemptNote | None
    shared_groups: dict[str, list[str]] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return int((self.pairs["kind"] == kind).sum())

    def exact_faces(self) -> int:
        """Faces identical to an earlier face (faces minus distinct faces)."""
        return self.count("exact")

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": self.name, "faces": self.faces,
            "exact_duplicates": self.exact_faces(),
            "near_duplicate_pairs": None if self.near_distance is None else self.count("near"),
            "near_distance": self.near_distance,
            "pairs_by_splits": self.by_splits.to_dict(orient="records"),
            "pairs": self.pairs.to_dict(orient="records"),
            "blank": self.blank.to_dict(orient="records"),
            "ferplus": self.ferplus,
            "contempt": self.contempt.to_dict() if self.contempt else None,
            "class_balance": self.balance.to_dict(orient="index"),
            "groups_in_several_splits": self.shared_groups,
        }

    def lines(self, show: int = 10) -> list[str]:
        """The audit as text: counts first, then up to ``show`` pairs."""
        near = ("not searched" if self.near_distance is None else
                f"{self.count('near')} pairs within {self.near_distance} phash bits")
        out = [f"{self.name}: {self.faces} faces",
               f"exact duplicates: {self.exact_faces()} faces repeat an earlier face",
               f"near-duplicates: {near}"]
        for row in self.by_splits.itertuples():
            out.append(f"  {row.kind:5} {row.splits:32} {row.pairs:>6}"
                       f"{'  ACROSS SPLITS' if row.across else ''}")
        out.append(f"blank faces (pixel std < {A.BLANK_STD:g}): {len(self.blank)}")
        if self.ferplus is not None:
            f = self.ferplus
            out.append(f"FER+ votes: {f['not_a_face']} not a face, {f['unknown']} unknown, "
                       f"{f['contradicted']} labels contradicted by a clear FER+ majority")
        if self.contempt is not None:
            out.append(self.contempt.text())
        for column, values in self.shared_groups.items():
            out.append(f"{len(values)} {column}s appear in several splits: "
                       f"{', '.join(values[:8])}{' ...' if len(values) > 8 else ''}")
        out += ["class balance:", self.balance.to_string(float_format=lambda v: f"{v:.3f}")]
        if len(self.pairs):
            out.append(f"pairs (first {min(show, len(self.pairs))} of {len(self.pairs)}):")
            out.append(self.pairs.head(show).to_string(index=False))
        return out


def audit_records(records: Records, near: int | None = A.NEAR_DISTANCE) -> Audit:
    """Audit loaded records; ``near=None`` skips the perceptual search."""
    if near is not None and not 0 <= near <= 32:
        raise FervizError(f"near-duplicate distance must be 0-32 phash bits, not {near}")
    frame = records.frame()
    exact = face_hashes(records, "exact")
    perceptual = face_hashes(records, "perceptual") if near is not None else None
    pairs = A.duplicate_pairs(frame, exact, perceptual, near if near is not None else 0)
    shared = {}
    for column in records.groups or {}:
        values = A.groups_across_splits(frame, column)
        if values:
            shared[column] = values
    return Audit(name=records.name, faces=len(records), near_distance=near, pairs=pairs,
                 by_splits=A.split_crosstab(pairs), blank=A.blank_faces(frame, records.images()),
                 balance=A.class_balance(frame), ferplus=A.ferplus_flags(frame),
                 contempt=records.contempt, shared_groups=shared)


def audit_data(spec: str, ferplus: str | os.PathLike | None = None, labels: str = "fer2013",
               contempt: str | None = None, near: int | None = A.NEAR_DISTANCE,
               groups: str | os.PathLike | None = None, group_regex: str | None = None
               ) -> Audit:
    """Load a data set (every split) and audit it."""
    records = open_data(spec, labels=labels, ferplus=ferplus, contempt=contempt,
                        groups=groups, group_regex=group_regex)
    return audit_records(records, near)


def leak_check(spec: str, split: str | None, records: Records) -> dict[str, Any] | None:
    """How many evaluated faces are exact copies of the source's training faces.

    Cheap: exact hashes only, cached. None when no split is evaluated, the split is itself
    a training split, or the source has no training split.
    """
    if split is None or split.lower() in TRAIN_SPLITS:
        return None
    full = open_data(spec)
    train = [s for s in sorted(set(map(str, full.splits))) if s.lower() in TRAIN_SPLITS]
    if not train:
        return None
    seen = set(face_hashes(full.split(*train), "exact").tolist())
    copies = int(sum(h in seen for h in face_hashes(records, "exact").tolist()))
    return {"split": split, "faces": len(records), "training_split": train[0],
            "duplicates": copies}


def leak_line(leak: dict[str, Any] | None) -> str | None:
    """The one-line warning, or None when nothing leaks."""
    if not leak or not leak["duplicates"]:
        return None
    return (f"warning: {leak['duplicates']} of {leak['faces']} {leak['split']} faces are exact "
            f"copies of {leak['training_split']} faces (training leak); `ferviz audit` lists "
            "the pairs and near-duplicates")
