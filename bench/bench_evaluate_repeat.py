"""Repeated ``ferviz evaluate`` on a 213-image folder of real FER2013 faces, measured in one run.

The folder is made at bench time in a temporary directory: the first 213 PrivateTest faces of
../shared/data/fer2013/fer2013.csv.xz written as PNGs into emotion-named folders (``--size``
upscales them, so that the first run cuts every face out with the detector, as for photos).
Each run is the console script in a fresh process (imports included), sharing one cache:

- cold: empty cache (decode the images, load the model, predict);
- repeated, model loaded: the digest index removed, so the model is loaded (torch imported) to
  find its cached predictions (what every repeated run did before the index);
- repeated: the torch-free path (digest index + cached predictions + numpy metrics).

Goal (issue 11): a repeated run <= 3 s.

Usage: python bench/bench_evaluate_repeat.py [--model cs230_five_layer] [--repeats 3]
    [--size 48]
"""

from __future__ import annotations

import argparse
import lzma
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FER2013 = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.xz"
IMAGES = 213
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def make_folder(root: Path, size: int) -> None:
    """The first :data:`IMAGES` PrivateTest faces as ``root/<emotion>/<row>.png``."""
    written = 0
    with lzma.open(FER2013, "rt") as f:
        next(f)  # header: emotion,pixels,Usage
        for row, line in enumerate(f):
            emotion, pixels, usage = line.rstrip("\n").split(",")
            if usage.strip('"') != "PrivateTest":
                continue
            face = np.array(pixels.strip('"').split(), np.uint8).reshape(48, 48)
            folder = root / EMOTIONS[int(emotion)]
            folder.mkdir(parents=True, exist_ok=True)
            if size != 48:
                face = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(folder / f"{row:05d}.png"), face)
            written += 1
            if written == IMAGES:
                return


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cs230_five_layer")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=48, help="side of the PNGs in pixels")
    args = parser.parse_args()
    if not FER2013.is_file():
        sys.exit(f"skipped: {FER2013} is absent")
    work = Path(tempfile.mkdtemp(prefix="ferviz-bench-evaluate-"))
    try:
        make_folder(work / "faces", args.size)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "FERVIZ_CACHE": str(work / "cache")}
        script = Path(sysconfig.get_path("scripts")) / "ferviz"
        command = [str(script) if script.is_file() else "ferviz", "evaluate", "-m",
                   args.model, "-d", str(work / "faces")]
        cold = timed(command, env)
        loaded, repeated = [], []
        for _ in range(args.repeats):
            shutil.rmtree(work / "cache" / "models")  # forget the digests: load the model
            loaded.append(timed(command, env))
            repeated.append(timed(command, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"ferviz evaluate -m {args.model} on {IMAGES} FER2013 PrivateTest faces "
          f"({args.size}x{args.size} PNGs), load average {os.getloadavg()[0]:.1f}:")
    print(f"  cold (empty cache)          {cold:6.2f} s")
    print(f"  repeated, model loaded      {min(loaded):6.2f} s  (runs: "
          f"{', '.join(f'{t:.2f}' for t in loaded)})")
    print(f"  repeated, torch-free        {min(repeated):6.2f} s  (runs: "
          f"{', '.join(f'{t:.2f}' for t in repeated)}; goal <= 3 s)")
    print(f"  repeated / model loaded     {min(repeated) / min(loaded):6.2f}x")


if __name__ == "__main__":
    main()
