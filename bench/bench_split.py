"""Whole-split occlusion: every FER2013 PrivateTest face (3,589) explained by occlusion
(window 8, stride 4, predicted class) with one zoo model. Goal for cs230_five_layer: 60 s on
2 cores (and on a GPU when there is one: ``--device cuda``).

    python bench/bench_split.py [--model cs230_five_layer] [--threads 2] [--device cpu]

Prints the time, faces per second, the load average (the machine may be shared) and, as a
gauge of the machine's speed at that hour, the plain forward passes per second of the same
faces (this machine ran the same code 20-30% apart at different hours).
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from bench_occlusion import faces

from ferviz.explain import explain
from ferviz.models.load import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cs230_five_layer")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, default=3589)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = load_model(args.model)
    f, source = faces(args.n)
    explain(m, f[:8], "pred", "occlusion", cache=False, device=args.device)  # warm-up
    x = torch.from_numpy(f.copy()).unsqueeze(1).float().div(255).to(args.device)
    with torch.inference_mode():
        tick = time.perf_counter()
        for batch in x.split(64):
            m.to(args.device)(batch)
        gauge = len(x) / (time.perf_counter() - tick)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    maps = explain(m, f, "pred", "occlusion", cache=False, device=args.device, progress=False)
    seconds = time.perf_counter() - start
    print(f"{args.model}: occlusion of {len(maps)} {source} faces on {args.device} "
          f"({torch.get_num_threads()} threads): {seconds:.1f} s, {len(maps) / seconds:.0f} "
          f"faces/s (goal 60 s); load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
          f"plain forward {gauge:.0f} faces/s")


if __name__ == "__main__":
    main()
