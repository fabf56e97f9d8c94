"""Video speed: decode + detect + predict frames per second on a generated 640x480 clip with
one moving FER-Synth face, without and with Grad-CAM on every frame, one run.

    python bench/bench_video.py [--model cs230_five_layer] [--frames 300] [--cores 2]

The process is pinned to ``--cores`` CPU cores (OpenCV uses that many threads; torch one per
face, see ferviz.video.frames.TORCH_THREADS). Prints frames/s by the wall clock and by the
process's CPU time (what the work costs, whatever else the machine runs), a per-stage
breakdown, the load average before and after, and whether the goals (>= 25 frames/s; >= 10
with Grad-CAM) were met by the wall clock.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

GOALS = {"detect + predict": 25.0, "detect + predict + Grad-CAM": 10.0}


def timed(fn: Callable[[], int]) -> tuple[int, float, float]:
    """(frames, wall seconds, CPU seconds) of ``fn()``, which returns its frame count."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return n, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cs230_five_layer")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:args.cores]))
    import cv2
    import numpy as np

    from ferviz.models.load import load_model
    from ferviz.video.frames import FaceFinder, analyse, explain_faces
    from ferviz.video.run import explain_video
    from ferviz.video.source import open_video
    from ferviz.video.synthclip import Actor, write_clip

    cv2.setNumThreads(args.cores)
    load_before = os.getloadavg()
    model = load_model(args.model)
    folder = Path(tempfile.mkdtemp(prefix="ferviz-bench-video-"))
    actor = Actor(5, ("neutral", "happy", "surprise", "sad"), (0.3, 0.4), (0.7, 0.6), side=180)
    clip = write_clip(folder / "clip.mp4", [actor], args.frames, (640, 480), fps=30, pan=3)

    with_face = {}

    def pipeline(overlay: str | None) -> Callable[[], int]:
        def go() -> int:
            src = open_video(clip)
            frames = [f.faces[0].map is not None if f.faces else None
                      for f in analyse(src.frames(), model, src.fps, overlay=overlay)]
            with_face[overlay] = (sum(f is not None for f in frames),
                                  sum(f is True for f in frames))
            return len(frames)
        return go

    def decode() -> int:
        return sum(1 for _ in open_video(clip).frames())

    def whole() -> int:
        return explain_video(clip, model, folder / "out.mp4", force=True,
                             progress=False).summary["frames"]

    pipeline(None)()  # warm up: imports, first-call costs
    rows = {"decode only": timed(decode),
            "detect + predict": timed(pipeline(None)),
            "detect + predict + Grad-CAM": timed(pipeline("gradcam")),
            "all outputs (annotated video, table, timeline)": timed(whole)}
    load_after = os.getloadavg()
    print(f"{args.model}, {args.frames} frames of 640x480 MPEG-4 (one face, ~180 px, the "
          "background panning), "
          f"{len(os.sched_getaffinity(0))} cores, torch threads per face: 1")
    print(f"{'':48s} {'frames/s (wall)':>16s} {'frames/s (CPU)':>15s}  goal")
    for name, (n, wall, cpu) in rows.items():
        goal = GOALS.get(name)
        mark = "" if goal is None else f">= {goal:g}: {'met' if n / wall >= goal else 'NOT met'}"
        print(f"{name:48s} {n / wall:16.1f} {n / cpu:15.1f}  {mark}")
    print(f"frames with the face followed: {with_face[None][0]}; with a Grad-CAM map: "
          f"{with_face['gradcam'][1]}")
    stages(clip, model, FaceFinder, explain_faces, np, cv2)
    print(f"load average (1, 5, 15 min): before {fmt(load_before)}, after {fmt(load_after)} "
          f"on {os.cpu_count()} CPUs")


def stages(clip: Path, model, finder_cls, explain_faces, np, cv2, n: int = 60) -> None:
    """Milliseconds of CPU per frame for each stage, on the clip's first ``n`` frames."""
    from itertools import islice

    from ferviz.data.images import crop_face
    from ferviz.predict import predict_proba
    from ferviz.video.source import open_video

    grays = [cv2.cvtColor(im, cv2.COLOR_BGR2GRAY) for _, _, im in
             islice(open_video(clip).frames(), n)]
    find = finder_cls()
    boxes = [find(g) for g in grays]
    around = [np.asarray(b[0], float) for b in boxes if b]
    faces = np.stack([crop_face(g, b[0]) for g, b in zip(grays, boxes) if b])
    probs = predict_proba(model, faces, progress=False)
    costs = {
        "full search (frame shrunk to 320 px)": lambda: [find(g) for g in grays],
        "search around the followed face": lambda: [find(g, 1, [a]) for g, a in
                                                    zip(grays, around)],
        "predict (1 face)": lambda: [predict_proba(model, f[None], progress=False)
                                     for f in faces],
        "Grad-CAM (1 face)": lambda: [explain_faces(model, f[None], p[None], "gradcam", "pred")
                                      for f, p in zip(faces, probs)],
    }
    import torch

    torch.set_num_threads(1)
    print("CPU ms per frame:", "; ".join(f"{k} {cpu_ms(fn, len(grays)):.1f}"
                                         for k, fn in costs.items()))


def cpu_ms(fn: Callable[[], object], n: int) -> float:
    start = time.process_time()
    fn()
    return (time.process_time() - start) / n * 1000


def fmt(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.1f}" for v in load)


if __name__ == "__main__":
    main()
