"""Repeated ``ferviz evaluate`` on a 213-image folder, measured in one run.

The folder holds FER-Synth faces saved as 256x256 PNGs in emotion class folders (big enough
that every image goes through face detection, as photos do). The first run decodes the
images and predicts; later runs read the decoded faces (cached by path, size and mtime) and
the cached predictions. Goal (issue 11): a repeated run <= 3 s.

Usage: python bench/bench_folder.py [--model fer_synth_cnn] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = 213


def make_folder(root: Path) -> None:
    import cv2

    from ferviz.data.synth import load_synth
    from ferviz.labels import EMOTIONS

    records = load_synth(IMAGES, seed=21, ambiguity=0)
    for k, (face, label) in enumerate(zip(records.faces, records.labels)):
        folder = root / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{k:03d}.png"), cv2.resize(face, (256, 256)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fer_synth_cnn")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ferviz-bench-folder-"))
    make_folder(work / "photos")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FERVIZ_CACHE": str(work / "cache")}
    script = Path(sysconfig.get_path("scripts")) / "ferviz"
    command = [str(script) if script.is_file() else "ferviz", "evaluate", "-m", args.model,
               "-d", str(work / "photos")]
    times = []
    for _ in range(1 + args.repeats):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    print(f"ferviz evaluate -m {args.model} on a {IMAGES}-image folder (256x256 PNGs):")
    print(f"  first run {times[0]:.2f} s; repeated runs {', '.join(f'{t:.2f}' for t in times[1:])}"
          f" s (best {min(times[1:]):.2f} s, goal <= 3 s)")


if __name__ == "__main__":
    main()
