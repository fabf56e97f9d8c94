"""Per-face landmark regions vs the fixed boxes of the aligned 48x48 frame: how often dlib's
landmarks are found reliably, how far their regions sit from the boxes, and how much real
Grad-CAM region shares change between the two.

    python bench/bench_landmarks.py [--n 3589] [--photos 200] [--model cs230_five_layer]

Sets (every one built at run time, nothing stored):
- ``fer2013``: FER2013 PrivateTest faces (48x48, upsampled for dlib) on the FER frame's face
  box (``landmarks.fit_crop``); ``not-a-face``: the FER2013 images FER+ marks "not a face"
  (NF >= 8 of 10 votes), which the check should refuse.
- ``photo:fer2013``: PrivateTest faces upsampled to 160-220 px and pasted on textured
  backgrounds, read as photos (photo mode's detector, MMOD with the ``landmarks`` extra or
  ``$FERVIZ_DETECTOR``; levelling, landmarks on the full-resolution square) — the path
  ``ferviz saliency`` takes.
- ``photo:astronaut``: scikit-image's astronaut at 9 scales and tilts on textured
  backgrounds; ``photo:fer-synth``: FER-Synth cartoon faces pasted the same way.

Needs the ``landmarks`` extra and ../shared/data (FER2013 and FER+ votes).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from ferviz.data import landmarks as lm
from ferviz.data import open_data
from ferviz.data.ferplus import read_votes
from ferviz.data.photos import read_photo
from ferviz.data.synth import load_synth
from ferviz.errors import FervizError
from ferviz.explain import explain
from ferviz.explain.regions import OTHER, landmark_masks, region_masks, share_array
from ferviz.labels import FERPLUS_COLUMNS
from ferviz.models.load import load_model

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXED = {k: v for k, v in region_masks().items() if k != OTHER}


def texture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur((rng.random((h, w)) * 255).astype(np.uint8), (0, 0), 2)
    ramp = np.tile(np.linspace(60, 200, w, dtype=np.uint8), (h, 1))
    return cv2.addWeighted(noise, 0.5, ramp, 0.5, 0)


def compose(face: np.ndarray, side: int, tilt: float, seed: int, folder: Path) -> Path:
    """``face`` scaled to ``side`` px, rotated by ``tilt`` degrees, pasted on a texture."""
    f = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    if tilt:
        f = cv2.warpAffine(f, cv2.getRotationMatrix2D((side / 2, side / 2), tilt, 1.0),
                           (side, side), borderMode=cv2.BORDER_REPLICATE)
    img = texture(side * 2 + 40, side * 3, seed)
    img[20 + side // 2:20 + side // 2 + side, side:2 * side] = f
    path = folder / f"p{seed}.png"
    Image.fromarray(img).save(path)
    return path


def photo_fits(faces: list[np.ndarray], sides: list[int], tilts: list[float], folder: Path
               ) -> tuple[list, np.ndarray, int]:
    """Landmarks and crops of the largest face found in each composed photo (None, a
    blank crop when no face is found) and how many photos had no face."""
    marks, crops, missed = [], [], 0
    for k, (face, side, tilt) in enumerate(zip(faces, sides, tilts)):
        try:
            p = read_photo(compose(face, side, tilt, k, folder), detect="always")
        except FervizError:  # no face found: counted, not fatal
            missed += 1
            marks.append(None)
            crops.append(np.zeros((48, 48), np.uint8))
            continue
        marks.append(p.landmarks[0])
        crops.append(p.records.images()[0])
    return marks, np.stack(crops), missed


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def compare(marks: list, crops: np.ndarray, model, name: str) -> dict:
    """Reliability, region IoU and centre shift vs the boxes, and Grad-CAM share changes on
    the reliable faces of one set."""
    ok = [i for i, m in enumerate(marks) if m is not None and m.reliable]
    problems = Counter(p for m in marks if m is not None for p in m.problems)
    out = {"set": name, "n": len(marks), "reliable": len(ok), "problems": problems}
    if not ok:
        return out
    ious = {k: [] for k in FIXED}
    shift = {k: [] for k in FIXED}
    maps = explain(model, crops[ok], "pred", "gradcam", cache=False, progress=False).maps
    fixed = share_array(maps, region_masks())
    moved, dshare = [], []
    for j, i in enumerate(ok):
        masks = landmark_masks(marks[i].points)
        for k, box in FIXED.items():
            ious[k].append(iou(masks[k], box))
            if masks[k].any():
                shift[k].append(np.linalg.norm(np.argwhere(masks[k]).mean(0) -
                                               np.argwhere(box).mean(0)))
        own = share_array(maps[j:j + 1], region_masks(masks))[0]
        dshare.append(np.abs(own - fixed[j]))
        moved.append(np.nanargmax(own[:-1]) != np.nanargmax(fixed[j, :-1]))
    d = np.nanmean(np.stack(dshare), 0)
    out.update(iou={k: float(np.mean(v)) for k, v in ious.items()},
               shift={k: float(np.mean(v)) for k, v in shift.items()},
               dshare=dict(zip([*FIXED, OTHER], d.tolist())), top_moved=float(np.mean(moved)))
    return out


def show(results: list[dict]) -> None:
    print("\n| set | faces | reliable | most common failed check |")
    print("|---|---:|---:|---|")
    for r in results:
        top = ", ".join(f"{p} ({c})" for p, c in r["problems"].most_common(2)) or "-"
        print(f"| {r['set']} | {r['n']} | {r['reliable']} ({r['reliable'] / r['n']:.1%}) "
              f"| {top} |")
    rows = [r for r in results if "iou" in r]
    print("\nLandmark regions vs fixed boxes on the reliable faces: IoU / centre shift (px "
          "of 48) / mean |change| of Grad-CAM share (points)")
    print("| region | " + " | ".join(r["set"] for r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for k in [*FIXED, OTHER]:
        cells = []
        for r in rows:
            geo = f"{r['iou'][k]:.2f} / {r['shift'][k]:.1f} / " if k in r["iou"] else ""
            cells.append(f"{geo}{r['dshare'][k] * 100:.1f}")
        print(f"| {k} | " + " | ".join(cells) + " |")
    print("| top face region changes | " + " | ".join(f"{r['top_moved']:.1%}" for r in rows)
          + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3589, help="PrivateTest faces")
    ap.add_argument("--photos", type=int, default=200, help="composed photos per set")
    ap.add_argument("--model", default="cs230_five_layer")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not lm.available():
        raise SystemExit(f"error: needs the landmarks extra ({lm.INSTALL_HINT})")
    torch.set_num_threads(args.threads)
    model = load_model(args.model).eval()
    rec = open_data(SHARED / "fer2013" / "fer2013.csv.xz")
    faces, splits = rec.images(), np.asarray(rec.splits)
    votes = read_votes(SHARED / "ferplus" / "fer2013new.csv", len(faces))
    private = faces[splits == "PrivateTest"][:args.n]
    nonface = faces[votes[:, list(FERPLUS_COLUMNS).index("NF")] >= 8]
    results = []
    start = time.perf_counter()
    marks = [lm.fit_crop(f) for f in private]
    per_face = (time.perf_counter() - start) / len(private)
    results.append(compare(marks, private, model, "fer2013"))
    results.append(compare([lm.fit_crop(f) for f in nonface], nonface, model, "not-a-face"))
    rng = np.random.default_rng(0)
    k = args.photos
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pick = rng.choice(len(private), k, replace=False)
        sides = rng.integers(160, 221, k).tolist()
        tilts = rng.uniform(-12, 12, k).round(1).tolist()
        m, c, missed = photo_fits([private[i] for i in pick], sides, tilts, folder)
        results.append({**compare(m, c, model, "photo:fer2013"), "missed": missed})
        from skimage import data

        astro = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)[20:300, 90:370]
        grid = [(s, t) for s in (140, 220, 320) for t in (-10, 0, 8)]
        m, c, missed = photo_fits([astro] * len(grid), [s for s, _ in grid],
                                  [t for _, t in grid], folder)
        results.append({**compare(m, c, model, "photo:astronaut"), "missed": missed})
        synth = load_synth(k, seed=3).images()
        m, c, missed = photo_fits(list(synth), sides, tilts, folder)
        results.append({**compare(m, c, model, "photo:fer-synth"), "missed": missed})
    print(f"model {args.model}; dlib fit with checks: {per_face * 1000:.1f} ms per 48x48 face")
    for r in results:
        if "missed" in r:
            print(f"{r['set']}: no face detected in {r['missed']} of {r['n']} photos")
    show(results)


if __name__ == "__main__":
    main()
