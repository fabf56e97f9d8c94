"""Audit benchmark, measured in one run on this machine: ``ferviz audit`` of the full
FER2013 (35,887 faces) with FER+ votes, goal within 30 s on 2 cores.

1. CSV parse into the cache (once per machine; not part of the audit).
2. Audit with cold hashes (exact + perceptual hashes computed), then warm (hashes cached).
3. The leak check of ``ferviz evaluate`` on PrivateTest (exact hashes, cached).

Usage: python bench/bench_audit.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FER2013, FERPLUS = DATA / "fer2013" / "fer2013.csv.xz", DATA / "ferplus" / "fer2013new.csv"
GOAL = 30.0


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    if not (FER2013.is_file() and FERPLUS.is_file()):
        sys.exit(f"skipped: {DATA} lacks FER2013 or FER+")
    os.environ["FERVIZ_CACHE"] = tempfile.mkdtemp(prefix="ferviz-bench-")
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    from ferviz.app.audit import audit_data, leak_check
    from ferviz.data import open_data
    from ferviz.data.fer2013 import load_table

    _, parse = timed(lambda: load_table(FER2013))
    print(f"csv parse into the cache (once): {parse:.1f} s")
    audit, cold = timed(lambda: audit_data(str(FER2013), ferplus=FERPLUS))
    _, warm = timed(lambda: audit_data(str(FER2013), ferplus=FERPLUS))
    print(f"audit of {audit.faces} faces: cold hashes {cold:.1f} s ({cold / GOAL:.2f} of the "
          f"{GOAL:.0f} s goal), cached hashes {warm:.1f} s ({warm / GOAL:.2f})")
    print(f"  exact duplicates {audit.exact_faces()}, near-duplicate pairs "
          f"{audit.count('near')}, blank {len(audit.blank)}, FER+ {audit.ferplus}")
    test = open_data(FER2013, split="PrivateTest")
    leak, seconds = timed(lambda: leak_check(str(FER2013), "PrivateTest", test))
    print(f"evaluate's leak check (PrivateTest vs Training, cached hashes): {seconds:.2f} s, "
          f"{leak['duplicates']} duplicated faces")


if __name__ == "__main__":
    main()
