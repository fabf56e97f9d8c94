"""Wall time of ``ferviz saliency face.png --method occlusion`` against
``python -c "import torch, captum.attr"`` (goal: at most 1.5x), medians of interleaved runs.

    python bench/bench_saliency_startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from ferviz.data.synth import load_synth

    with tempfile.TemporaryDirectory() as tmp:
        face = Path(tmp) / "face.png"
        Image.fromarray(load_synth(1, seed=2).images()[0]).save(face)
        ferviz = [sys.executable, "-c", "from ferviz.cli import main; main()", "saliency",
                  str(face), "--method", "occlusion", "--force"]
        baseline = [sys.executable, "-c", "import torch, captum.attr"]
        wall(ferviz)  # warm the file-system cache
        ours, base = [], []
        for _ in range(args.runs):
            base.append(wall(baseline))
            ours.append(wall(ferviz))
    b, o = statistics.median(base), statistics.median(ours)
    print(f"python -c 'import torch, captum.attr': {b:.2f} s (median of {args.runs})")
    print(f"ferviz saliency face.png --method occlusion: {o:.2f} s (median of {args.runs})")
    print(f"ratio {o / b:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
