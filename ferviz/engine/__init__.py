"""Sharded jobs: predictions and explanations of a whole data set written as a partitioned
parquet data set, by the single-process engine (the default) or by Ray Data across a cluster.
Both run the same unit of work (:class:`~ferviz.engine.work.ShardWorker`), so they write the
same parts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ..analysis.parts import SUMMARY, Summary, part_name, summarise
from ..cache import atomic_path, remove_stale_parts
from ..errors import FervizError
from .job import Job, Manifest, Shard, missing, prepare

ENGINES = ("local", "ray")


@dataclass
class JobResult:
    """What a run did: ``state`` (new, resumed, restarted), rows, shards computed now and
    skipped (written by an earlier run), seconds."""

    folder: Path
    state: str
    rows: int
    computed: int
    skipped: int
    seconds: float
    engine: str
    summary: Summary


def run_job(job: Job, folder: Path, engine: str = "local", address: str | None = None,
            workers: int | None = None, gpus: float | None = None, force: bool = False,
            progress: bool | None = None) -> JobResult:
    """Run ``job`` into ``folder``: plan the shards, skip the parts already written by an
    earlier run of the same job, compute the rest on ``engine``, then write the summary.

    Args:
        address: Ray cluster address (``auto``: the running cluster; None: start a local
            one unless Ray is already initialised).
        workers: Ray actors (default: one per CPU, or per GPU when ``gpus``).
        gpus: GPUs per Ray actor (e.g. 1, or 0.5 to share a GPU between two; None: 1 when
            the cluster has GPUs, else CPU actors).

    Raises:
        FervizError: bad options, data or model; an output folder holding something else.
    """
    from ..explain.registry import get_method

    if engine not in ENGINES:
        raise FervizError(f"unknown engine {engine!r}; choose {', '.join(ENGINES)}")
    if job.shard_size < 1:
        raise FervizError(f"--shard-size must be at least 1, not {job.shard_size}")
    if workers is not None and workers < 1:
        raise FervizError(f"--workers must be at least 1, not {workers}")
    if gpus is not None and gpus < 0:
        raise FervizError(f"--gpus must not be negative, not {gpus}")
    for m in job.methods:
        get_method(m)
    if engine == "ray":  # before anything is written: Ray itself waits minutes on a dead one
        from .on_ray import check_address

        check_address(address)
    start = time.perf_counter()
    records = job.data.open()
    model = job.model.load()
    manifest = Manifest(job, len(records), model.digest(), job.data.stamp(),
                        _layout(model), engine)
    state = prepare(folder, manifest, force)
    remove_stale_parts(folder, "part-")  # left by writers killed mid-write
    todo = missing(folder, manifest)
    if todo and engine == "ray":
        from .on_ray import run_on_ray

        run_on_ray(manifest, folder, todo, address, workers, gpus, progress)
    elif todo:
        _run_here(manifest, folder, todo, model, records, progress)
    left = missing(folder, manifest)
    if left:
        raise FervizError(f"{len(left)} of {len(manifest.shards())} shards are still missing "
                          f"in {folder}; run the command again to complete them")
    summary = summarise([folder / part_name(s.index) for s in manifest.shards()], job.methods)
    with atomic_path(folder / SUMMARY) as tmp:
        tmp.write_text(json.dumps(summary.to_dict()))
    shards = len(manifest.shards())
    return JobResult(folder, state, manifest.rows, len(todo), shards - len(todo),
                     time.perf_counter() - start, engine, summary)


def _run_here(manifest: Manifest, folder: Path, todo: list[Shard], model, records,
              progress: bool | None) -> None:
    """The single-process engine: the shards one after the other in this process."""
    from ..progress import progress as bar
    from .work import ShardWorker

    worker = ShardWorker(manifest.job.to_dict(), manifest.layout, str(folder), model, records)
    for shard in bar(todo, desc="shards", unit="shard", quiet=True if progress is False else None):
        worker.run(shard)


def _layout(model) -> str:
    """The memory layout every shard of every run of a job uses: channels-last where the
    layout owner's probe allows it (faster for convolutions and pooling on CPU and GPU),
    chosen without timing so that every run, engine and resumed driver computes alike."""
    from ..models.layout import channels_last_ok

    return "channels_last" if channels_last_ok(model) else "contiguous"


__all__ = ["ENGINES", "Job", "JobResult", "run_job"]
