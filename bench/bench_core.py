"""Core benchmark, measured in one run on this machine.

1. FER2013 PrivateTest load: cold (csv parse, empty cache) vs cached (memory-mapped .npy).
2. Predictions throughput on PrivateTest: ``ferviz.predict.predict_proba`` vs a bare batched
   forward pass of the same network (goal: at least 0.8 of it).

Usage: python bench/bench_core.py [--model fer_synth_cnn] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

FER2013 = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "fer2013.csv.xz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fer_synth_cnn")
    parser.add_argument("--repeats", type=int, default=3)
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
    from ferviz.predict import predict_proba, to_tensor

    model = load_model(args.model)
    faces = records.images()
    x = to_tensor(faces)

    def bare() -> None:
        with torch.inference_mode():
            for s in range(0, len(x), 512):
                torch.softmax(model.net(x[s:s + 512]), 1)

    def ours() -> None:
        predict_proba(model, faces, batch_size=512, progress=False)

    bare(), ours()  # warm-up
    timings = {"bare": [], "ferviz": []}
    for _ in range(args.repeats):  # interleaved, so drift hits both alike
        for name, fn in (("bare", bare), ("ferviz", ours)):
            t = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - t)
    b, f = min(timings["bare"]), min(timings["ferviz"])
    print(f"predictions on {len(faces)} faces with {args.model}: bare forward "
          f"{len(faces) / b:,.0f} faces/s, ferviz {len(faces) / f:,.0f} faces/s; "
          f"ratio {b / f:.2f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
