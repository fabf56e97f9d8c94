"""Trust checks of every explanation method (``ferviz.explain.trust.verdicts``: cascading
randomisation and deletion / insertion) for one model on 256 faces, from a cold cache.
Goal: all methods within 60 s on 2 cores for cs230_five_layer.

    python bench/bench_checks.py [--model cs230_five_layer] [--n 256] [--threads 2]
                                 [--before REV] [--per-method]

Faces: FER2013 PrivateTest when ../shared/data has it, else FER-Synth. Prints the table, the
total time and the load average. ``--before REV`` first runs the same checks with the ferviz
of git revision REV (copied to a temporary folder, in a subprocess), then prints both times,
their ratio and how the verdicts differ (the machine is shared: compare times of one run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from bench_occlusion import faces

ROOT = Path(__file__).resolve().parents[1]


def run(args: argparse.Namespace) -> tuple[dict, float, float]:
    """The table (method -> row), wall and CPU seconds of the checks with this ferviz."""
    import pandas as pd

    from ferviz.explain import METHODS
    from ferviz.explain.trust import trust_table
    from ferviz.models.load import load_model

    os.environ["FERVIZ_CACHE"] = tempfile.mkdtemp(prefix="bench-checks-")  # cold caches
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
          f"average {load:.1f} before, {os.getloadavg()[0]:.1f} after", flush=True)
    return json.loads(table.to_json(orient="index")), total, cpu


def before(args: argparse.Namespace) -> tuple[dict, float, float]:
    """The same checks with the ferviz of ``args.before``, in a subprocess."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-checks-before-"))
    archive = subprocess.run(["git", "archive", args.before, "ferviz"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    out = tmp / "result.json"
    cmd = [sys.executable, __file__, "--model", args.model, "--n", str(args.n), "--threads",
           str(args.threads), "--json", str(out)]
    print(f"== before: ferviz at {args.before}", flush=True)
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": str(tmp)})
    return json.loads(out.read_text())


def compare(old: list, new: tuple[dict, float, float]) -> None:
    """Both times, their ratio, and every difference of the verdicts."""
    (t_old, wall_old, cpu_old), (t_new, wall_new, cpu_new) = old, new
    print(f"before {wall_old:.1f} s ({cpu_old:.1f} CPU s), after {wall_new:.1f} s "
          f"({cpu_new:.1f} CPU s): {wall_old / wall_new:.2f}x wall, "
          f"{cpu_old / cpu_new:.2f}x CPU")
    for m, a in t_old.items():
        b = t_new[m]
        same = a["sanity"] == b["sanity"] and a["trusted"] == b["trusted"]
        print(f"  {m:22s} {'same verdict' if same else 'VERDICT CHANGED'}: sanity "
              f"{a['sanity']} -> {b['sanity']}, rho {a['rho']:+.3f} -> {b['rho']:+.3f}, "
              f"faithfulness {a['faithfulness']:+.3f} -> {b['faithfulness']:+.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cs230_five_layer")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--before", metavar="REV", help="first time the ferviz of git revision REV")
    ap.add_argument("--per-method", action="store_true", help="then time each method's maps")
    ap.add_argument("--json", help=argparse.SUPPRESS)  # where a --before run writes its result
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    old = before(args) if args.before else None
    if old:
        print("== after: this ferviz", flush=True)
    new = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(new))
    if old:
        compare(old, new)
    if args.per_method:
        from ferviz.explain import METHODS, explain
        from ferviz.models.load import load_model

        m, (f, _) = load_model(args.model), faces(args.n)
        for name in METHODS:  # where the time goes: each method's maps once, uncached
            t = time.perf_counter()
            explain(m, f, "pred", name, cache=False, progress=False)
            print(f"  {name}: maps of {len(f)} faces {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
