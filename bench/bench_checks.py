"""Trust checks of every explanation method (``ferviz.explain.trust.verdicts``: cascading
randomisation and deletion / insertion) for one model on 256 faces, from a cold cache.
Goal: all methods within 60 s on 2 cores for cs230_five_layer.

    python bench/bench_checks.py [--model cs230_five_layer] [--n 256] [--threads 2]

Faces: FER2013 PrivateTest when ../shared/data has it, else FER-Synth. Prints the table, the
total time, the per-method time of its maps alone, and the load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from bench_occlusion import faces


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cs230_five_layer")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--per-method", action="store_true", help="then time each method's maps")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ["FERVIZ_CACHE"] = tempfile.mkdtemp(prefix="bench-checks-")  # cold caches
    import pandas as pd

    from ferviz.explain import METHODS, explain
    from ferviz.explain.trust import trust_table
    from ferviz.models.load import load_model

    m = load_model(args.model)
    f, source = faces(args.n)
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    table = trust_table(m, f, n=args.n)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    pd.set_option("display.width", 160)
    print(table.drop(columns=["n", "n_random"]).round(3).to_string())
    print(f"{args.model}, {len(f)} {source} faces, all {len(METHODS)} methods: {total:.1f} s "
          f"on {torch.get_num_threads()} threads (goal 60 s), {cpu:.1f} CPU seconds; load "
          f"average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
    if args.per_method:
        for name in METHODS:  # where the time goes: each method's maps once, uncached
            t = time.perf_counter()
            explain(m, f, "pred", name, cache=False, progress=False)
            print(f"  {name}: maps of {len(f)} faces {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
