"""A job's output read lazily: a partitioned parquet data set (one part per shard) and the
summary counts written beside it, so views never hold every row (or any face) at once.

Columns of every part: ``row`` (position in the job's data), the predictions table's columns
(see :mod:`ferviz.table`) and, for explanation jobs, ``face`` (48x48 uint8), and per method
``map_<method>`` (48x48 float16), ``offface_<method>``, ``share_<method>_<region>`` and
``flags_<method>``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FervizError, shown
from ..labels import EMOTIONS, FACE_SIZE, TRAIN_SPLITS
from .job_files import (
    BINS,
    MANIFEST,
    SUMMARY,
    VERSION,
    part_columns,
    part_present,
    read_manifest,
    read_summary,
)

TRUTH = [*EMOTIONS, "unknown"]  # rows of the summary's confusion counts
SCAN = ["split", "label", "pred", "confidence"]


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


@dataclass(frozen=True)
class Summary:
    """Counts of a whole job, read in a few milliseconds whatever its size.

    Attributes:
        rows: faces in the job.
        confusion: split -> 8 x 7 counts (rows: true emotion, then unknown; columns: pred).
        confidence: split -> {"correct", "wrong"} -> :data:`BINS` counts of the top
            probability (unlabelled faces count as wrong).
        regions: method -> {"regions": names, "by_pred": 7 x R summed shares, "n": 7 counts
            of maps with shares, "flagged": maps with a warning flag}.
    """

    rows: int
    confusion: dict[str, list[list[int]]]
    confidence: dict[str, dict[str, list[int]]]
    regions: dict[str, dict[str, Any]]

    def scored_splits(self) -> list[str]:
        """The splits a job's pooled scores cover: every split but the training ones
        (``Training``, ``train``), unless the job holds nothing else."""
        held_out = [k for k in self.confusion if k.lower() not in TRAIN_SPLITS]
        return held_out or list(self.confusion)

    def counts(self, split: str | Sequence[str] | None = None) -> pd.DataFrame:
        """True x predicted counts over all splits, one or several (8 x 7, with an
        ``unknown`` row)."""
        keys = [split] if isinstance(split, str) else list(split or self.confusion)
        unknown = [k for k in keys if k not in self.confusion]
        if unknown:
            raise FervizError(f"split {unknown[0]} is not in this job (splits: "
                              f"{', '.join(self.confusion)})")
        cm = sum((np.asarray(self.confusion[k], np.int64) for k in keys),
                 np.zeros((len(TRUTH), len(EMOTIONS)), np.int64))
        return pd.DataFrame(cm, index=pd.Index(TRUTH, name="true"),
                            columns=pd.Index(EMOTIONS, name="pred"))

    def rates(self, split: str | Sequence[str] | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """7 x 7 counts of labelled faces and the same normalised by row (true class)."""
        known = self.counts(split).loc[list(EMOTIONS)]
        rows = known.sum(axis=1).to_numpy()[:, None]
        return known, known.div(np.where(rows > 0, rows, 1))

    def histogram(self, split: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Right and wrong answers per confidence bin (columns low, high, right, wrong)."""
        keys = [split] if isinstance(split, str) else list(split or self.confidence)
        edges = np.linspace(0, 1, BINS + 1)
        return pd.DataFrame({
            "low": edges[:-1], "high": edges[1:],
            "right": sum((np.asarray(self.confidence[k]["correct"]) for k in keys),
                         np.zeros(BINS, np.int64)),
            "wrong": sum((np.asarray(self.confidence[k]["wrong"]) for k in keys),
                         np.zeros(BINS, np.int64))})

    def region_table(self, method: str) -> pd.DataFrame:
        """Mean share of attribution per region (columns) for each predicted class (rows)."""
        r = self.regions[method]
        sums, n = np.asarray(r["by_pred"], float), np.asarray(r["n"], float)[:, None]
        return pd.DataFrame(np.divide(sums, n, out=np.full_like(sums, np.nan), where=n > 0),
                            index=pd.Index(EMOTIONS, name="pred"), columns=r["regions"])

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Summary:
        """A summary from a checked ``_summary.json`` (see :mod:`.job_files`)."""
        return cls(d["rows"], d["confusion"], d["confidence"], d["regions"])

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "rows": self.rows, "confusion": self.confusion,
                "confidence": self.confidence, "regions": self.regions}


def summarise(files: Sequence[Path], methods: Sequence[str] = ()) -> Summary:
    """The summary counts of a job's part files, one record batch at a time."""
    ds = dataset(files)
    share_cols = {m: [c for c in ds.schema.names if c.startswith(f"share_{m}_")]
                  for m in methods}
    columns = SCAN + [c for cols in share_cols.values() for c in cols] + \
        [f"flags_{m}" for m in methods]
    confusion: dict[str, np.ndarray] = {}
    confidence: dict[str, dict[str, np.ndarray]] = {}
    regions = {m: {"regions": [c.removeprefix(f"share_{m}_") for c in cols],
                   "by_pred": np.zeros((len(EMOTIONS), len(cols))),
                   "n": np.zeros(len(EMOTIONS), np.int64), "flagged": 0}
               for m, cols in share_cols.items()}
    rows = 0
    truth, pred_index = {e: i for i, e in enumerate(TRUTH)}, {e: i for i, e in
                                                               enumerate(EMOTIONS)}
    for batch in ds.to_batches(columns=columns):
        b = batch.to_pandas()
        rows += len(b)
        t = b["label"].map(truth).fillna(len(EMOTIONS)).to_numpy(np.int64)
        p = b["pred"].map(pred_index).to_numpy(np.int64)
        bins = np.minimum((b["confidence"].to_numpy() * BINS).astype(np.int64), BINS - 1)
        right = (b["label"] == b["pred"]).to_numpy()
        for split in b["split"].unique():
            s = (b["split"] == split).to_numpy()
            cm = confusion.setdefault(split, np.zeros((len(TRUTH), len(EMOTIONS)), np.int64))
            np.add.at(cm, (t[s], p[s]), 1)
            h = confidence.setdefault(split, {"correct": np.zeros(BINS, np.int64),
                                              "wrong": np.zeros(BINS, np.int64)})
            h["correct"] += np.bincount(bins[s & right], minlength=BINS)
            h["wrong"] += np.bincount(bins[s & ~right], minlength=BINS)
        for m, cols in share_cols.items():
            shares = b[cols].to_numpy(np.float64)
            ok = ~np.isnan(shares).any(axis=1)
            np.add.at(regions[m]["by_pred"], p[ok], shares[ok])
            regions[m]["n"] += np.bincount(p[ok], minlength=len(EMOTIONS))
            regions[m]["flagged"] += int((b[f"flags_{m}"] != "").sum())
    return Summary(rows, {k: v.tolist() for k, v in confusion.items()},
                   {k: {c: h.tolist() for c, h in v.items()} for k, v in confidence.items()},
                   {m: {**r, "by_pred": r["by_pred"].tolist(), "n": r["n"].tolist()}
                    for m, r in regions.items()})


def dataset(files: Sequence[Path]):
    """Part files as one pyarrow data set."""
    import pyarrow.dataset as pads

    return pads.dataset([str(f) for f in files], format="parquet")


@dataclass(frozen=True)
class Parts:
    """A finished job's output, opened without reading its rows. Its files are checked as
    they are opened (:mod:`.job_files`); parts missing from a finished job (deleted since)
    are left out of everything shown, and :attr:`missing` names them."""

    folder: Path

    @cached_property
    def manifest(self) -> dict[str, Any]:
        m = read_manifest(self.folder)
        if m is None:
            raise FervizError(f"{shown(self.folder)} is not the output of a ferviz job (no "
                              f"{MANIFEST})")
        return m

    @cached_property
    def summary(self) -> Summary:
        """The job's summary counts; when parts are missing, those of the parts present
        (counted again, not written)."""
        self.manifest  # not a job at all: say so first
        path = self.folder / SUMMARY
        if not os.path.lexists(path):
            raise FervizError(f"{shown(self.folder)}: the job is not finished (no {SUMMARY}); "
                              "run its command again to complete it")
        summary = Summary.from_dict(read_summary(self.folder, self.methods))
        if self.missing:
            return summarise(self.files, self.methods)
        if summary.rows != self.manifest["rows"]:
            raise FervizError(f"{shown(path)} is damaged: {summary.rows:,} rows, but the job "
                              f"has {self.manifest['rows']:,}")
        return summary

    @cached_property
    def _parts(self) -> tuple[list[Path], list[str], int]:
        size, total = self.manifest["job"]["shard_size"], self.manifest["rows"]
        files, missing, rows = [], [], 0
        for i in range(self.manifest["shards"]):
            path, n = self.folder / part_name(i), min(size, total - i * size)
            if part_present(path, n, part_columns(self.methods)):
                files.append(path)
                rows += n
            else:
                missing.append(path.name)
        if not files:
            raise FervizError(f"{shown(self.folder)}: none of the job's "
                              f"{self.manifest['shards']:,} part files is there; run its "
                              "command again to compute them")
        return files, missing, rows

    @property
    def files(self) -> list[Path]:
        """The job's part files that are there, each checked (its footer read)."""
        return self._parts[0]

    @property
    def missing(self) -> list[str]:
        """Names of the job's part files that are not there."""
        return self._parts[1]

    @property
    def covered(self) -> int:
        """The faces in the part files that are there (of the manifest's ``rows``)."""
        return self._parts[2]

    def gaps(self, view: str = "this view") -> str | None:
        """What ``view`` of this output leaves out (the part files missing), or None."""
        if not self.missing:
            return None
        names = ", ".join(self.missing[:5]) + (f" and {len(self.missing) - 5:,} more"
                                               if len(self.missing) > 5 else "")
        m = self.manifest
        return (f"{len(self.missing):,} of the job's {m['shards']:,} part files missing "
                f"({names}): {view} covers {self.covered:,} of its {m['rows']:,} faces")

    @property
    def methods(self) -> list[str]:
        return list(self.manifest["job"]["methods"])

    def rows(self, columns: Sequence[str], label: str | None = None, pred: str | None = None,
             split: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The given columns of the rows matching a true label, prediction and split or
        splits (each optional), read column by column from every part."""
        import pyarrow.compute as pc

        cond = None
        for col, value in (("label", label), ("pred", pred), ("split", split)):
            if value is not None:
                term = pc.field(col).isin(list(value)) if not isinstance(value, str) \
                    else pc.field(col) == value
                cond = term if cond is None else cond & term
        return dataset(self.files).to_table(columns=list(columns), filter=cond).to_pandas()

    def cell(self, label: str, pred: str, limit: int = 50,
             split: str | Sequence[str] | None = None, by: str = "confidence") -> pd.DataFrame:
        """The ``limit`` rows of one confusion cell with the highest ``by``."""
        cols = ["row", "id", "split", "label", "pred", "confidence", "margin", "entropy"]
        df = self.rows(cols, label, pred, split)
        return df.nlargest(limit, by).reset_index(drop=True)

    def arrays(self, rows: Sequence[int], column: str) -> np.ndarray:
        """``face`` (uint8) or ``map_<method>`` (float16) of the given rows as N x 48 x 48,
        reading only the parts that hold them."""
        size = self.manifest["job"]["shard_size"]
        out = None
        import pyarrow.parquet as pq

        for shard, where in _by_shard(rows, size):
            table = pq.read_table(self.folder / part_name(shard), columns=[column])
            flat = table.column(column).combine_chunks().flatten().to_numpy(zero_copy_only=False)
            values = flat.reshape(-1, FACE_SIZE, FACE_SIZE)
            if out is None:
                out = np.zeros((len(rows), FACE_SIZE, FACE_SIZE), values.dtype)
            for i, row in where:
                out[i] = values[row - shard * size]
        return out if out is not None else np.zeros((0, FACE_SIZE, FACE_SIZE), np.float32)


def _by_shard(rows: Sequence[int], size: int) -> Iterator[tuple[int, list[tuple[int, int]]]]:
    groups: dict[int, list[tuple[int, int]]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(int(row) // size, []).append((i, int(row)))
    yield from sorted(groups.items())
