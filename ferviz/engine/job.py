"""A sharded job and its output folder.

A job is a model, a data set and what to compute (predictions, and maps of explanation
methods). Its faces are cut into shards of consecutive rows; each shard becomes one part file
``part-NNNNN.parquet``, written atomically by whichever worker computed it. So a re-run skips
the parts already written, a retried shard replaces nothing but its own part, and the output
never has duplicates or holes. ``_job.json`` says what the folder holds; ``_summary.json``
holds the counts the views open first (see :mod:`ferviz.analysis.parts`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..analysis.job_files import (
    MANIFEST,
    SUMMARY,
    VERSION,
    Damaged,
    part_columns,
    part_present,
    read_manifest,
)
from ..analysis.parts import part_name
from ..cache import atomic_path
from ..errors import FervizError, regular_file, shown
from ..specs import DataSpec, ModelSpec

SHARD = 4096  # faces per shard: one part file, one task


@dataclass(frozen=True)
class Job:
    """What a sharded run computes.

    Attributes:
        model, data: the model and the faces (every row of ``data``, in its order).
        methods: explanation methods whose maps (float16), evidence shares and the faces are
            stored beside the predictions; empty for predictions only.
        target: the class each map explains (``pred``, ``true``, an emotion).
        tta: predictions with test-time augmentation.
        shard_size: faces per shard.
    """

    model: ModelSpec
    data: DataSpec
    methods: tuple[str, ...] = ()
    target: str = "pred"
    tta: bool = False
    shard_size: int = SHARD

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "methods": list(self.methods)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Job:
        return cls(ModelSpec(**d["model"]), DataSpec(**d["data"]), tuple(d["methods"]),
                   d["target"], d["tta"], d["shard_size"])


@dataclass(frozen=True)
class Shard:
    """Rows ``start:stop`` of the job's faces, written as part ``index``."""

    index: int
    start: int
    stop: int

    @property
    def rows(self) -> int:
        return self.stop - self.start


def shards(rows: int, size: int) -> list[Shard]:
    """Consecutive shards of at most ``size`` rows covering ``rows`` rows."""
    return [Shard(i, a, min(a + size, rows)) for i, a in enumerate(range(0, rows, size))]


@dataclass
class Manifest:
    """``_job.json``: the job, the facts a resumed run must share with it, and the shards."""

    job: Job
    rows: int
    model_digest: str
    data_stamp: str
    layout: str
    engine: str

    def same_work(self, other: Manifest) -> bool:
        """Whether ``other`` computes the same parts (the engine may differ)."""
        keys = ("rows", "model_digest", "data_stamp", "layout")
        return self.job == other.job and all(getattr(self, k) == getattr(other, k)
                                             for k in keys)

    def shards(self) -> list[Shard]:
        return shards(self.rows, self.job.shard_size)

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "job": self.job.to_dict(), "rows": self.rows,
                "model_digest": self.model_digest, "data_stamp": self.data_stamp,
                "layout": self.layout, "engine": self.engine, "shards": len(self.shards())}

    @classmethod
    def read(cls, folder: Path) -> Manifest | None:
        """The manifest of ``folder``, or None when it has none.

        Raises:
            FervizError: a damaged manifest (checked by
                :func:`~ferviz.analysis.job_files.read_manifest`), saying that ``--force``
                starts the job over.
        """
        again = "; use --force to start the job over (its parts are computed again)"
        try:
            d = read_manifest(folder)
        except Damaged as e:
            raise FervizError(f"{e}{again}") from e
        if d is None:
            return None
        try:
            job = Job.from_dict(d["job"])
        except TypeError as e:  # a model or data field this ferviz does not know
            raise FervizError(f"{shown(folder / MANIFEST)} is damaged: {e}{again}") from e
        return cls(job, d["rows"], d["model_digest"], d["data_stamp"], d["layout"], d["engine"])

    def write(self, folder: Path) -> None:
        with atomic_path(folder / MANIFEST) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1))


def prepare(folder: Path, manifest: Manifest, force: bool) -> str:
    """Make ``folder`` ready for ``manifest``'s job: new, resumed (same work) or, with
    ``force``, emptied of an earlier job's files. Returns ``new``, ``resumed`` or ``restarted``.

    Raises:
        FervizError: a file in the way, a folder holding other files, or a different job
            without ``force``.
    """
    if folder.exists() and not folder.is_dir():
        raise FervizError(f"{folder} is a file; a sharded job writes a folder")
    state = "new"
    if force and os.path.lexists(folder / MANIFEST):  # whatever it says, even damaged
        clear(folder)
        state = "restarted"
    elif (old := Manifest.read(folder) if folder.is_dir() else None) is not None:
        if old.same_work(manifest):
            return "resumed"
        raise FervizError(f"{folder} holds another job ({old.job.model.model} on "
                          f"{old.job.data.data}, {old.rows:,} rows); use --force to "
                          "replace it, or another folder")
    elif folder.is_dir() and any(folder.iterdir()):
        raise FervizError(f"{folder} is not empty and holds no ferviz job; name a new folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        manifest.write(folder)
    except OSError as e:
        raise FervizError(f"cannot write to {folder}: {e.strerror or e}") from e
    return state


def clear(folder: Path) -> None:
    """Remove an earlier job's files (its parts, summary and leftovers of killed writers), all
    but its manifest, which the next job's replaces atomically: cut short, the folder still
    holds a job to start over.

    Raises:
        FervizError: one of those names is a folder, a fifo or a device (not ferviz's: kept).
    """
    names = ("part-", ".part-", MANIFEST, SUMMARY, f".{MANIFEST}", f".{SUMMARY}")
    found = sorted(p for p in folder.iterdir() if p.name.startswith(names))
    for p in found:  # refuse before removing anything
        regular_file(p, "file of a job")
        if p.is_dir():
            raise FervizError(f"{shown(p)} is a folder, not a file of a job; --force removes "
                              "only files: move it away")
    for p in found:
        if p.name != MANIFEST:
            p.unlink()


def missing(folder: Path, manifest: Manifest) -> list[Shard]:
    """The shards whose part is absent (to compute).

    Raises:
        FervizError: a part that is there but damaged (never replaced: the message says how
            to have it computed again).
    """
    columns = part_columns(manifest.job.methods)
    return [s for s in manifest.shards()
            if not part_present(folder / part_name(s.index), s.rows, columns)]
