"""Torch threads beside a busy process: ferviz's choice (:mod:`ferviz.models.threads`)
against one thread and against torch's default (one per core), in one run.

Goal (issue 23): with another process busy on the machine, ferviz's predictions are never
slower than on one thread (ratio chosen / one thread <= 1.05, noise allowed), and on an idle
machine they keep torch's default speed. Each setting predicts the same faces (default
3,589, as FER2013 PrivateTest) ``--repeats`` times, interleaved; a spinning process per
``--busy`` core competes during the "busy" rounds.

    python bench/bench_threads.py [--model cs230_five_layer] [--data synth:3589]
        [--busy 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import tempfile
import time


def spin(stop) -> None:  # noqa: ANN001 (a multiprocessing Event)
    while not stop.is_set():
        sum(range(10_000))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cs230_five_layer")
    ap.add_argument("--data", default="synth:3589", help="e.g. fer2013.csv.xz@PrivateTest")
    ap.add_argument("--busy", type=int, default=1, help="cores kept busy by other processes")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ["FERVIZ_CACHE"] = tempfile.mkdtemp(prefix="ferviz-bench-")
    os.environ.pop("FERVIZ_THREADS", None)

    import torch

    from ferviz.data import open_data
    from ferviz.models import threads as owner
    from ferviz.models.load import load_model
    from ferviz.predict import predict_proba

    path, _, split = args.data.partition("@")
    faces = open_data(path, split or None).images()
    model = load_model(args.model)
    default = torch.get_num_threads()
    predict_proba(model, faces[:1100], progress=False)  # layout probe and warm-up

    def timed(n: int | None) -> tuple[float, int]:
        owner._chosen = None  # sample the machine afresh, as a new run would
        with owner.threads(n) as used:
            t = time.perf_counter()
            predict_proba(model, faces, progress=False)
            return time.perf_counter() - t, used

    settings = {"one thread": 1, f"torch default ({default})": default, "ferviz": None}
    for load in ("idle", "busy"):
        stop = mp.Event()
        spinners = [mp.Process(target=spin, args=(stop,), daemon=True)
                    for _ in range(args.busy if load == "busy" else 0)]
        for p in spinners:
            p.start()
        time.sleep(0.5 if spinners else 0)
        runs: dict[str, list[float]] = {k: [] for k in settings}
        used: dict[str, set[int]] = {k: set() for k in settings}
        for _ in range(args.repeats):
            for name, n in settings.items():
                s, u = timed(n)
                runs[name].append(s)
                used[name].add(u)
        stop.set()
        for p in spinners:
            p.join()
        one = statistics.median(runs["one thread"])
        print(f"{load} ({len(spinners)} spinning processes, {owner.cores()} cores, load "
              f"average {os.getloadavg()[0]:.1f}): {len(faces):,} faces")
        for name in settings:
            med = statistics.median(runs[name])
            print(f"  {name:22} threads {sorted(used[name])}: median {med:.2f} s "
                  f"({', '.join(f'{s:.2f}' for s in runs[name])}), {med / one:.2f}x one thread")


if __name__ == "__main__":
    main()
