"""Sharded jobs: the Ray engine vs the single-process engine on the same job, in one run,
and the dashboard's Job page on a 1,000,000-row output.

    python bench/bench_ray.py [--n 200000] [--model cs230_five_layer] [--cpus 2]
        [--explain 2000] [--rows 1000000]

1. Predictions of ``--n`` FER-Synth faces (``synth:N``, rendered once and cached): the local
   engine (torch on every core) vs Ray Data (one actor per CPU, one torch thread each) on a
   local cluster; prints both times, the overhead and the Ray cluster's start-up separately.
2. Throughput per worker (one Ray actor = one CPU here) for predictions and for gradcam and
   occlusion maps on ``--explain`` faces, and the projection for AffectNet (450,000 faces).
3. A synthetic ``--rows``-row job output (random probabilities: a table of that size, not a
   model's) summarised by the job's own code, then the Job page rendered under AppTest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ferviz.engine import Job, run_job
from ferviz.specs import DataSpec, ModelSpec

AFFECTNET = 450_000


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def engines(args, root: Path) -> None:
    import ray

    ms, ds = ModelSpec(args.model), DataSpec(f"synth:{args.n}")
    _, render = timed(lambda: ds.open())
    print(f"{args.n:,} FER-Synth faces opened in {render:.1f} s (rendered once, then cached)")
    job = Job(ms, ds)
    local, t_local = timed(lambda: run_job(job, root / "local", progress=False))
    _, t_init = timed(lambda: ray.init(num_cpus=args.cpus, include_dashboard=False,
                                       log_to_driver=False))
    on_ray, t_ray = timed(lambda: run_job(job, root / "ray", engine="ray", progress=False))
    same = _same(root / "local", root / "ray")
    print(f"predictions, {args.model}, {args.n:,} faces, {local.computed} shards:")
    print(f"  local engine         {t_local:7.1f} s  ({args.n / t_local:,.0f} faces/s)")
    print(f"  ray engine           {t_ray:7.1f} s  ({args.n / t_ray:,.0f} faces/s) on "
          f"{args.cpus} actors; overhead {t_ray / t_local - 1:+.1%} (goal <= +20%)")
    print(f"  ray cluster start    {t_init:7.1f} s  (once per session; with it: "
          f"{(t_ray + t_init) / t_local - 1:+.1%})")
    print(f"  tables identical:    {same}")


def per_worker(args, root: Path) -> None:
    """What one Ray actor does (a ShardWorker on one torch thread), timed in this process."""
    import torch

    from ferviz.engine.job import Shard
    from ferviz.engine.work import ShardWorker

    ms, ds = ModelSpec(args.model), DataSpec(f"synth:{args.explain}")
    records, model = ds.open(), ms.load()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    print(f"throughput per worker (one actor: 1 CPU, 1 torch thread), {args.model}, "
          f"{args.explain:,} faces:")
    try:
        for what, methods in (("predictions", ()), ("gradcam", ("gradcam",)),
                              ("occlusion", ("occlusion",))):
            job = Job(ms, ds, methods, shard_size=args.explain)
            (root / what).mkdir()
            worker = ShardWorker(job.to_dict(), "contiguous", str(root / what), model, records)
            seconds = worker.run(Shard(0, 0, args.explain))
            rate = args.explain / seconds
            hours = AFFECTNET / rate / 3600
            print(f"  {what:12} {rate:8,.0f} faces/s -> AffectNet ({AFFECTNET:,} faces): "
                  f"{hours:6.2f} h on 1 worker, {hours / 8:5.2f} h on 8, {hours / 64:5.2f} h "
                  "on 64")
    finally:
        torch.set_num_threads(threads)


def big_table(args, root: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from streamlit.testing.v1 import AppTest

    from ferviz.analysis.parts import MANIFEST, SUMMARY, part_name, summarise
    from ferviz.data.records import Records
    from ferviz.engine.job import Manifest
    from ferviz.labels import EMOTIONS
    from ferviz.predict import table

    folder, shard, rng = root / "million", 50_000, np.random.default_rng(0)
    folder.mkdir()
    start = time.perf_counter()
    for i, a in enumerate(range(0, args.rows, shard)):
        n = min(shard, args.rows - a)
        probs = rng.dirichlet(np.ones(len(EMOTIONS)) * 0.5, n).astype(np.float32)
        rec = Records(ids=np.array([f"synthetic:{a + k}" for k in range(n)], object),
                      labels=rng.integers(0, len(EMOTIONS), n), splits=np.full(n, "test", object),
                      sources=np.full(n, "synthetic", object), faces=np.zeros((n, 1, 1), np.uint8))
        df = table(rec, probs)
        df.insert(0, "row", np.arange(a, a + n))
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), folder / part_name(i))
    written = time.perf_counter() - start
    job = Job(ModelSpec("synthetic"), DataSpec("synthetic"), shard_size=shard)
    manifest = Manifest(job, args.rows, "synthetic", "synthetic", "contiguous", "synthetic")
    (folder / MANIFEST).write_text(json.dumps(manifest.to_dict()))
    files = [folder / part_name(k) for k in range(i + 1)]
    summary, t_sum = timed(lambda: summarise(files))
    (folder / SUMMARY).write_text(json.dumps(summary.to_dict()))
    os.environ["FERVIZ_ROOTS"] = str(root)
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"),
                            default_timeout=120)
    app.query_params["page"], app.query_params["job"] = "job", str(folder)
    _, t_page = timed(app.run)
    assert not app.exception and not app.error, (app.exception, app.error)
    print(f"{args.rows:,}-row job output ({i + 1} parts, written in {written:.1f} s):")
    print(f"  summary (streamed over the parts)  {t_sum:5.2f} s, once, by the job")
    print(f"  Job page, first run (summary charts + a confusion cell read from the parts): "
          f"{t_page:.2f} s (goal: first chart <= 5 s); charts: "
          f"{len(app.get('plotly_chart'))}")


def _same(a: Path, b: Path) -> bool:
    import pandas as pd

    x = pd.read_parquet(a).sort_values("row").reset_index(drop=True)
    y = pd.read_parquet(b).sort_values("row").reset_index(drop=True)
    return x.equals(y)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--model", default="cs230_five_layer")
    p.add_argument("--cpus", type=int, default=os.cpu_count())
    p.add_argument("--explain", type=int, default=2000)
    p.add_argument("--rows", type=int, default=1_000_000)
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    try:
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        engines(args, root)
        per_worker(args, root)
        big_table(args, root)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
