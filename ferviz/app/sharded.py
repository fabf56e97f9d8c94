"""Use cases of sharded jobs: predictions or explanations of a whole data set written as a
partitioned parquet data set by the local or the Ray engine, and what the views show of it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FervizError
from ..specs import DataSpec, ModelSpec

if TYPE_CHECKING:
    from ..engine import JobResult


def run(ms: ModelSpec, ds: DataSpec, out: Path, methods: list[str] | None = None,
        target: str = "pred", tta: bool = False, engine: str = "local",
        address: str | None = None, workers: int | None = None, gpus: float | None = None,
        shard_size: int | None = None, force: bool = False) -> JobResult:
    """Run (or resume) a sharded job into the folder ``out``."""
    from ..engine import run_job
    from ..engine.job import SHARD, Job

    names = tuple(dict.fromkeys(m.strip() for spec in methods or () for m in spec.split(",")
                                if m.strip()))
    if methods is not None and not names:
        raise FervizError("name at least one method with -x (e.g. -x occlusion,gradcam)")
    if engine != "ray" and (address or workers is not None or gpus is not None):
        raise FervizError("--address, --workers and --gpus are options of --engine ray")
    job = Job(ms, ds, names, target, tta, SHARD if shard_size is None else shard_size)
    return run_job(job, out, engine, address, workers, gpus, force)


def lines(r: JobResult) -> list[str]:
    """What the CLI prints after a job: what was written, and the scores from its summary."""
    from ..analysis.counts import summary_counts

    done = f"{r.computed} shards computed" + (f", {r.skipped} kept from an earlier run"
                                              if r.skipped else "")
    out = [f"wrote {r.rows:,} rows to {r.folder} ({done}; {r.engine} engine, "
           f"{r.seconds:.1f} s)"]
    summary = r.summary
    for split in summary.confusion:
        s = summary_counts(summary.counts(split))
        if s["n"]:
            out.append(f"  {split}: accuracy {s['accuracy']:.2%}, macro-F1 "
                       f"{s['macro_f1']:.3f} on {s['n']:,} labelled faces")
    return out


def report(folder: Path, out: Path, force: bool = False, top: int = 6,
           per_cell: int = 8) -> tuple[Path, list[str]]:
    """Write the self-contained HTML report of a finished job; returns its path and warnings
    (part files missing from the job, which the report also shows)."""
    from ..analysis.parts import Parts
    from ..outputs import check_output
    from ..report import write_report
    from .reporting.job import job_html

    if top < 0 or per_cell < 0:
        raise FervizError("--top and --per-cell must be at least 0")
    check_output(out, force)
    parts = Parts(folder)
    path = write_report(job_html(parts, top, per_cell), out, force=force)
    return path, [w for w in [parts.gaps("the report")] if w]
