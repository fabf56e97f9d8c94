"""Core benchmark, measured in one run on this machine.

1. FER2013 PrivateTest load: cold (csv parse, empty cache) vs cached (memory-mapped .npy).
2. Predictions throughput on PrivateTest: ``ferviz.predict.predict_proba`` vs the best bare
   batched forward pass of the same network (default and channels-last layouts), on CUDA when
   available, else on the CPU with ``--threads`` threads (goal: at least 0.95 of it).

Usage: python bench/bench_core.py [--model cs230_five_layer] [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

FER2013 = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "fer2013.csv.xz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cs230_five_layer")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not FER2013.is_file():
        sys.exit(f"skipped: {FER2013} is absent")
    os.environ["FERVIZ_CACHE"] = tempfile.mkdtemp(prefix="ferviz-bench-")
    from ferviz.data.fer2013 import load_fer2013

    t = time.perf_counter()
    records = load_fer2013(FER2013, splits="PrivateTest")
    cold = time.perf_counter() - t
    cached = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        records = load_fer2013(FER2013, splits="PrivateTest")
        cached.append(time.perf_counter() - t)
    print(f"FER2013 PrivateTest load: cold {cold:.2f} s, cached {min(cached):.3f} s "
          f"(best of {args.repeats}); {cold / min(cached):.0f}x")

    import torch

    from ferviz.models.load import load_model
    from ferviz.predict import default_device, predict_proba, to_tensor

    torch.set_num_threads(args.threads)
    device = default_device()
    model = load_model(args.model)
    faces = records.images()

    def bare(layout: torch.memory_format):
        net = copy.deepcopy(model.net).to(device=device, memory_format=layout).eval()

        def forward() -> None:
            with torch.inference_mode():
                for s in range(0, len(faces), 512):
                    x = to_tensor(faces[s:s + 512], device).contiguous(memory_format=layout)
                    torch.softmax(net(x), 1).cpu()
        return forward

    def ours() -> None:
        predict_proba(model, faces, batch_size=512, progress=False)

    runs = {"bare default layout": bare(torch.contiguous_format),
            "bare channels-last": bare(torch.channels_last), "ferviz": ours}
    for fn in runs.values():
        fn()  # warm-up
    timings = {name: [] for name in runs}
    for _ in range(args.repeats):  # interleaved, so drift hits all alike
        for name, fn in runs.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            timings[name].append(time.perf_counter() - t)
    best = {name: min(t) for name, t in timings.items()}
    where = torch.cuda.get_device_name() if device.type == "cuda" else \
        f"CPU, {args.threads} thread(s)"
    print(f"predictions on {len(faces)} faces with {args.model} ({where}), best of "
          f"{args.repeats}: " + ", ".join(f"{n} {t:.3f} s" for n, t in best.items()))
    bare_best = min(best["bare default layout"], best["bare channels-last"])
    print(f"ratio ferviz / best bare forward (speed): {bare_best / best['ferviz']:.2f} "
          "(goal >= 0.95)")


if __name__ == "__main__":
    main()
