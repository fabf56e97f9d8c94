"""First FER2013 parse (empty cache): ferviz vs a plain pandas script, measured in one run.

Each side runs in a fresh subprocess on ../shared/data/fer2013/fer2013.csv.xz; the bench
prints its CPU time (user + system) and peak RSS, and the ratio ferviz / plain.
Goals (issue 11): peak RSS <= 1 GB, CPU time <= 0.5x the plain script.

Usage: python bench/bench_parse.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FER2013 = ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.xz"

PLAIN = """
import sys
import numpy as np
import pandas as pd
df = pd.read_csv(sys.argv[1])
faces = np.array(df["pixels"].str.split().tolist(), dtype=np.uint8).reshape(-1, 48, 48)
print(faces.shape)
"""
FERVIZ = """
import sys
from ferviz.data.fer2013 import load_table
faces, codes, usage = load_table(sys.argv[1], quiet=True)
print(faces.shape)
"""


def run(code: str, env: dict[str, str]) -> tuple[float, float, str]:
    """(CPU seconds, peak RSS in GB, stdout) of ``python -c code FER2013``."""
    proc = subprocess.Popen([sys.executable, "-c", code, str(FER2013)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(err)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1e6, out.strip()


def main() -> None:
    if not FER2013.is_file():
        sys.exit(f"skipped: {FER2013} is absent")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "FERVIZ_CACHE": tempfile.mkdtemp(prefix="ferviz-bench-parse-")}
    plain_cpu, plain_rss, plain_shape = run(PLAIN, env)
    ours_cpu, ours_rss, ours_shape = run(FERVIZ, env)
    assert plain_shape == ours_shape, (plain_shape, ours_shape)
    print(f"FER2013 first parse of {FER2013.name}, {plain_shape} faces")
    print(f"  plain pandas.read_csv + str.split: CPU {plain_cpu:6.2f} s, peak RSS "
          f"{plain_rss:5.2f} GB")
    print(f"  ferviz load_table (empty cache):   CPU {ours_cpu:6.2f} s, peak RSS "
          f"{ours_rss:5.2f} GB")
    print(f"  ratio ferviz / plain CPU {ours_cpu / plain_cpu:.2f} (goal <= 0.5); "
          f"peak RSS {ours_rss:.2f} GB (goal <= 1)")


if __name__ == "__main__":
    main()
