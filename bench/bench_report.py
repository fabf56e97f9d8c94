"""Benchmark ``ferviz report`` on FER2013 PrivateTest (3,589 faces, FER+ votes attached) with
occlusion and Grad-CAM overlays for 100 gallery faces: file size and wall time.

Requirement (issue 5): under 10 MB and under 60 s on a 2-core CPU machine with a small zoo
model. Predictions and saliency are computed cold (an empty ferviz cache); the decoded
FER2013 array is reused when the user's cache has it, as parsing the csv is data preparation
that every ferviz command shares (about 30 s once per machine).

    python bench/bench_report.py [--model NAME]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FER2013 = SHARED / "fer2013" / "fer2013.csv.xz"
FERPLUS = SHARED / "ferplus" / "fer2013new.csv"
PREFERRED = ("cs230_five_layer",)


def pick_model(names: list[str], cards) -> tuple[str, str]:
    """A small zoo model trained on FER2013 if there is one, else the FER-Synth model."""
    fer = [n for n in names if "fer2013" in str(cards[n].info.get("data", "")).lower()]
    for name in (*[p for p in PREFERRED if p in fer], *sorted(fer, key=lambda n: cards[n].params)):
        return name, "a FER2013 zoo model"
    return "fer_synth_cnn", ("no FER2013 zoo model yet: the FER-Synth model stands in (a valid "
                             "small CNN; its accuracy on FER2013 is meaningless, its cost is not)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="zoo model (default: a FER2013 one if present)")
    parser.add_argument("--saliency", default="occlusion,gradcam")
    parser.add_argument("--faces", type=int, default=100, help="gallery faces to explain")
    parser.add_argument("--keep", type=Path, help="also copy the report here")
    args = parser.parse_args()
    if not (FER2013.is_file() and FERPLUS.is_file()):
        print(f"skipped: {SHARED} (FER2013 and FER+) is absent")
        return 0
    user_cache = Path(os.environ.get("FERVIZ_CACHE") or Path.home() / ".cache" / "ferviz")
    tmp = tempfile.TemporaryDirectory(prefix="ferviz-bench-")
    if (user_cache / "fer2013").is_dir():
        os.symlink(user_cache / "fer2013", Path(tmp.name) / "fer2013")
    os.environ["FERVIZ_CACHE"] = tmp.name

    t0 = time.perf_counter()
    from ferviz.app.reporting import Options, build_html
    from ferviz.data import open_data
    from ferviz.models import zoo
    from ferviz.models.load import load_model
    from ferviz.predict import predict
    from ferviz.report import write_report

    names = zoo.names()
    name, why = (args.model, "chosen") if args.model else \
        pick_model(names, {n: zoo.card(n) for n in names})
    print(f"model: {name} ({why})")
    marks = {}
    model = load_model(name)
    records = open_data(FER2013, split="PrivateTest", ferplus=FERPLUS)
    marks["load model + data"] = time.perf_counter()
    df = predict(model, records)
    marks["predict"] = time.perf_counter()
    methods = tuple(m for m in args.saliency.split(",") if m)
    per = 8
    opts = Options(saliency=methods, max_saliency=args.faces, per_confusion=per,
                   top_k=-(-args.faces // per))
    html = build_html(df, records.images(), model=model, model_card=model.card.to_dict(),
                      data_info={"data": records.name, "split": "PrivateTest"}, options=opts)
    marks["analyses + saliency + render"] = time.perf_counter()
    out = write_report(html, Path(tmp.name) / "report.html")
    marks["write"] = time.perf_counter()
    size = out.stat().st_size / 1e6
    total = marks["write"] - t0
    prev = t0
    for stage, t in marks.items():
        print(f"  {stage:30} {t - prev:6.1f} s")
        prev = t
    top = html[html.index('<section id="top">'):html.index('<section id="ambiguity">')]
    explained = top.count(f'alt="{methods[0]} saliency"') if methods else 0
    print(f"faces: {len(df)}, gallery faces with saliency: {explained}, methods: "
          f"{', '.join(methods) or 'none'}; CPU threads: {os.cpu_count()}")
    print(f"report size: {size:.2f} MB (limit 10 MB)   time: {total:.1f} s (limit 60 s)")
    if args.keep:
        write_report(html, args.keep, force=True)
        print(f"kept a copy at {args.keep}")
    tmp.cleanup()
    return 0 if size < 10 and total < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
