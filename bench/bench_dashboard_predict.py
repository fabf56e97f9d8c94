"""The dashboard's background predictions against ``ferviz evaluate``'s, in one run.

Goal (issue 23): the dashboard's job predicts at >= 0.9x the faces/s of ``evaluate`` on the
same model and split. Both now call the one prediction path (``predict_proba`` with progress
and cancel hooks); this bench times the dashboard's job thread body (``jobs._work``, which
also writes the table to a scratch cache) against ``predict_proba`` as ``evaluate`` runs it,
interleaved, and prints the faces/s of each and their ratio.

    python bench/bench_dashboard_predict.py [--model cs230_five_layer] [--data synth:3589]
        [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cs230_five_layer")
    ap.add_argument("--data", default="synth:3589", help="e.g. fer2013.csv.xz@PrivateTest")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ["FERVIZ_CACHE"] = tempfile.mkdtemp(prefix="ferviz-bench-")

    from ferviz.dashboard.jobs import Job, _work
    from ferviz.data import open_data
    from ferviz.models.load import load_model
    from ferviz.predict import predict_proba

    path, _, split = args.data.partition("@")
    records = open_data(path, split or None)
    faces = records.images()
    model = load_model(args.model)
    predict_proba(model, faces[:1100], progress=False)  # layout probe and warm-up
    lock = threading.RLock()
    times: dict[str, list[float]] = {"evaluate": [], "dashboard": []}
    for _ in range(args.repeats):
        t = time.perf_counter()
        predict_proba(model, faces, progress=False)
        times["evaluate"].append(time.perf_counter() - t)
        job = Job(len(faces), 0.0)
        t = time.perf_counter()
        _work(job, model, records, False, lock)
        times["dashboard"].append(time.perf_counter() - t)
        assert job.done == len(faces) and job.error is None, job.error
    best = {k: min(v) for k, v in times.items()}
    for k, v in best.items():
        print(f"{k:10} {len(faces) / v:8.0f} faces/s (best of {args.repeats}: {v:.2f} s)")
    print(f"dashboard / evaluate: {best['evaluate'] / best['dashboard']:.2f}x the faces/s "
          f"({args.model}, {len(faces):,} faces of {args.data})")


if __name__ == "__main__":
    main()
