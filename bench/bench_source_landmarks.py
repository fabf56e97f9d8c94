"""What per-face landmark regions cost ``ferviz regions`` over a folder of JAFFE-size images:
seconds per face to fit the landmarks on the source images (cold, then from the cache),
against decoding the faces and explaining them, in one run.

    python bench/bench_source_landmarks.py [--n 60] [--method gradcam]

The folder is built at run time: scikit-image's astronaut cut around her face at jittered
offsets and sizes, scaled to 256x256 (JAFFE's size; her face then 100-130 px), grey.
Needs the ``landmarks`` extra.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


def build(root: Path, n: int) -> None:
    from skimage import data

    g = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    rng = np.random.default_rng(0)
    (root / "happy").mkdir(parents=True)
    for k in range(n):
        side = int(rng.integers(180, 240))
        x, y = int(rng.integers(110, 150)), int(rng.integers(10, 40))
        cut = g[y:y + side, x:x + side]
        if k % 2:
            cut = cut[:, ::-1]
        img = cv2.resize(np.ascontiguousarray(cut), (256, 256), interpolation=cv2.INTER_AREA)
        Image.fromarray(img).save(root / "happy" / f"KA.HA{k}.{k}.tiff")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--method", default="gradcam")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FERVIZ_CACHE"] = str(Path(tmp) / "cache")
        from ferviz.data import landmarks as lm
        from ferviz.data.folders import load_folder
        from ferviz.data.source_landmarks import fit_records
        from ferviz.explain import explain
        from ferviz.explain.face_masks import choose
        from ferviz.models.load import load_model

        build(Path(tmp) / "set", a.n)
        lm._models()  # load dlib's models outside the timings (once per process)
        model = load_model("fer_synth_cnn")
        records = load_folder(Path(tmp) / "set")
        t0 = time.perf_counter()
        records.images()
        t1 = time.perf_counter()
        fits = fit_records(records, quiet=True)
        t2 = time.perf_counter()
        fit_records(records, quiet=True)
        t3 = time.perf_counter()
        maps = explain(model, records, target="pred", method=a.method)
        t4 = time.perf_counter()
        _, used = choose(fits, len(records))
    n = len(records)
    print(used.line())
    print(f"{n} faces of 256x256 images: decode {(t1 - t0) / n * 1e3:.1f} ms/face, "
          f"landmarks cold {(t2 - t1) / n * 1e3:.1f} ms/face, cached {(t3 - t2) / n * 1e3:.2f} "
          f"ms/face, {a.method} {(t4 - t3) / n * 1e3:.1f} ms/face ({maps.seconds:.2f} s); "
          f"landmarks cold / {a.method}: {(t2 - t1) / (t4 - t3):.1f}x")


if __name__ == "__main__":
    main()
