"""Photo-mode face detectors compared: dlib's MMOD CNN vs OpenCV's Haar cascade on composed
photos with faces at known boxes and distractors.

    python bench/bench_detector.py [--photos 20] [--seed 0]

Each photo (640x480) is a textured background with 1-3 FER2013 PrivateTest faces (real
faces, 48x48 upsampled to 110-200 px; FER-Synth faces when ../shared/data is absent), in
every other photo one smaller face (60-90 px), and three distractor patches from
scikit-image (coins, brick, grass, gravel, a cat's face, a clock, text, a horse) or a
shoulders-like shape. A face is found when a kept box has IoU >= 0.5 with its pasted square
(FER2013's crops frame the face the way the Haar box does); a false face is a box with IoU
< 0.1 with every face; a loose box lies on a face with IoU < 0.5. Reported per detector, on
the default path (``find_faces``: small-box rule, unlikely-face rules): recall, false faces,
loose boxes, mean IoU of the matches, seconds per photo; then both detectors' raw boxes
(MMOD without upsampling, Haar without its eye rule) as recall and false faces per score
threshold, the median Haar side / MMOD
side on faces both find (``MMOD_TO_HAAR``), and MMOD's time on a 640x480 and a 1920x1080
photo, with and without the 2x upsampling pass.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from ferviz.data import detectors as det
from ferviz.data.boxes import iou
from ferviz.data.photos import find_faces

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
H, W = 480, 640
THRESHOLDS = (0.0, 0.25, 0.5, 0.75, 0.9)


def texture(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur((rng.random((h, w)) * 255).astype(np.uint8), (0, 0), 2)
    ramp = np.tile(np.linspace(60, 200, w, dtype=np.uint8), (h, 1))
    return cv2.addWeighted(noise, 0.5, ramp, 0.5, 0)


def shoulders(side: int) -> np.ndarray:
    """A dark rounded torso under a lighter neck stub on a mid-grey patch."""
    img = np.full((side, side), 150, np.uint8)
    cv2.ellipse(img, (side // 2, side), (side // 2, side // 2), 0, 180, 360, 50, -1)
    cv2.rectangle(img, (side * 2 // 5, side // 4), (side * 3 // 5, side // 2 + 4), 110, -1)
    return cv2.GaussianBlur(img, (0, 0), 3)


def distractors() -> list[np.ndarray]:
    from skimage import color, data

    gray = [data.coins(), data.brick(), data.grass(), data.gravel(), data.text(),
            (color.rgb2gray(data.chelsea()) * 255).astype(np.uint8)[40:260, 100:320],
            data.clock()[:, 40:340],
            (data.horse() * 255).astype(np.uint8)]
    return [np.asarray(g, np.uint8) for g in gray] + [shoulders(160)]


def real_faces(n: int, seed: int) -> np.ndarray:
    """FER2013 PrivateTest faces, or FER-Synth cartoons without ../shared/data."""
    path = SHARED / "fer2013" / "fer2013.csv.xz"
    if path.is_file():
        from ferviz.data import open_data

        rec = open_data(path)
        faces = rec.images()[np.asarray(rec.splits) == "PrivateTest"]
        return faces[np.random.default_rng(seed).choice(len(faces), n, replace=False)]
    from ferviz.data.synth import load_synth

    return load_synth(n, seed=seed).images()


def place(taken: list, side: int, rng) -> tuple[int, int] | None:
    """A free spot for a square of ``side`` px (None after 200 tries)."""
    for _ in range(200):
        x, y = int(rng.integers(0, W - side)), int(rng.integers(0, H - side))
        if all(x + side <= a or a + s <= x or y + side <= b or b + s <= y
               for a, b, s in taken):
            return x, y
    return None


def compose(k: int, faces: np.ndarray, patches: list[np.ndarray], seed: int):
    """Photo ``k``: the image and its faces' squares (x, y, side)."""
    rng = np.random.default_rng(seed * 1000 + k)
    img, taken, truth = texture(H, W, seed * 1000 + k), [], []
    sides = [int(rng.integers(110, 200)) for _ in range(int(rng.integers(1, 4)))]
    if k % 2:
        sides.append(int(rng.integers(60, 90)))
    for j, side in enumerate(sides):
        spot = place(taken, side, rng)
        if spot is None:
            continue
        x, y = spot
        img[y:y + side, x:x + side] = cv2.resize(faces[(4 * k + j) % len(faces)], (side, side),
                                                 interpolation=cv2.INTER_CUBIC)
        taken.append((x, y, side))
        truth.append((x, y, side, side))
    for p in rng.choice(len(patches), 3, replace=False):
        side = int(rng.integers(90, 170))
        spot = place(taken, side, rng)
        if spot is not None:
            x, y = spot
            img[y:y + side, x:x + side] = cv2.resize(patches[p], (side, side),
                                                     interpolation=cv2.INTER_AREA)
            taken.append((x, y, side))
    return img, truth


def score(boxes: list, truth: list) -> tuple[int, int, int, list[float]]:
    """Faces found (IoU >= 0.5), false faces (boxes with IoU < 0.1 with every face), loose
    boxes (on a face, but IoU < 0.5 with every face) and each found face's best IoU."""
    overlap = iou(truth, boxes)  # faces x boxes
    best = list(overlap.max(1, initial=0.0))
    on = list(overlap.max(0, initial=0.0))
    return (sum(v >= 0.5 for v in best), sum(v < 0.1 for v in on),
            sum(0.1 <= v < 0.5 for v in on), [v for v in best if v >= 0.5])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not det.mmod_available():
        raise SystemExit("needs the landmarks extra (dlib and face-recognition-models)")
    faces, patches = real_faces(4 * args.photos + 4, args.seed), distractors()
    photos = [compose(k, faces, patches, args.seed) for k in range(args.photos)]
    n = sum(len(t) for _, t in photos)
    print(f"{args.photos} photos {W}x{H}, {n} faces")
    det.mmod(photos[0][0])  # load the weights outside the timings
    for name in ("mmod", "haar"):
        hit = false = loose = 0
        ious, secs = [], 0.0
        for img, truth in photos:
            t = time.perf_counter()
            found, _ = find_faces(img, detector=name)
            secs += time.perf_counter() - t
            h, f, lo, v = score([x.box for x in found], truth)
            hit, false, loose, ious = hit + h, false + f, loose + lo, ious + v
        print(f"{name}: recall {hit}/{n} = {hit / n:.2f}, false faces {false}, loose boxes "
              f"{loose}, mean IoU {np.mean(ious):.2f}, {secs / len(photos):.2f} s/photo")
    raw = [(det.mmod(img), det.haar(img), truth) for img, truth in photos]
    for th in THRESHOLDS:
        for label, k in (("mmod", 0), ("haar", 1)):
            hit = false = 0
            for both in raw:
                h, f, _, _ = score([b for b, s, _ in both[k] if s >= th], both[2])
                hit, false = hit + h, false + f
            print(f"{label} raw, score >= {th}: recall {hit / n:.2f}, false faces {false}")
    trues = [s for m, _, t in raw for b, s, _ in m if score([b], t)[0]]
    falses = [s for m, _, t in raw for b, s, _ in m if score([b], t)[1]]
    print(f"mmod raw scores: faces {np.round(np.percentile(trues, [0, 10, 50]), 2)} "
          f"(min, p10, median); false faces {np.round(sorted(falses), 2)}")
    ratio = [hb[2] / mb[2] * det.MMOD_TO_HAAR for m, hs, _ in raw for mb, _, _ in m
             for hb, _, _ in hs if iou([mb], [hb]).item() > 0.5]
    print(f"Haar side / raw MMOD side on {len(ratio)} faces both find: median "
          f"{np.median(ratio):.2f}")
    big = cv2.resize(photos[0][0], (1920, 1080), interpolation=cv2.INTER_CUBIC)
    for img in (photos[0][0], big):
        for up in (False, True):
            t = time.perf_counter()
            det.mmod(img, upsample=up)
            print(f"mmod {img.shape[1]}x{img.shape[0]} upsample={up}: "
                  f"{time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        det.haar(img)
        print(f"haar {img.shape[1]}x{img.shape[0]}: {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
