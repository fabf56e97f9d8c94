"""A report on a Keras file against the same report on its converted network, in one run.

Goal (issue 24): the Keras file's report takes <= 2x the converted network's. The Keras file
is a twin of the zoo's mini_xception carrying the zoo's weights (tests/keras_nets.py), so
both models compute the same thing; each report is timed cold (its own empty cache), in
alternation.

    python bench/bench_keras_report.py [--data synth:1000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="synth:1000")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ferviz-bench-"))
    os.environ.setdefault("KERAS_BACKEND", "torch")
    sys.path.insert(0, str(ROOT / "tests"))
    import keras_nets as kn

    from ferviz.app.tasks import report
    from ferviz.models.convert import convert
    from ferviz.models.load import load_model
    from ferviz.specs import DataSpec, ModelSpec

    twin = kn.mini_xception(zoo_twin=True)
    kn.copy_native(load_model("mini_xception").net, twin)
    twin.save(work / "twin.keras")
    convert(str(work / "twin.keras"), work / "converted")
    specs = {"keras": ModelSpec(str(work / "twin.keras")),
             "converted": ModelSpec(str(work / "converted"))}
    times: dict[str, list[float]] = {k: [] for k in specs}
    for r in range(args.repeats):
        for name, spec in specs.items():
            os.environ["FERVIZ_CACHE"] = str(work / f"cache-{name}-{r}")
            t = time.perf_counter()
            report(spec, DataSpec(args.data), work / f"{name}-{r}.html", force=True)
            times[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    for k, v in best.items():
        print(f"{k:10} report {v:7.1f} s (best of {args.repeats}, cold cache)")
    print(f"keras / converted: {best['keras'] / best['converted']:.2f}x ({args.data})")


if __name__ == "__main__":
    main()
