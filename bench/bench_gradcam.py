"""Grad-CAM through ``ferviz.explain.explain`` vs pytorch-grad-cam called directly, at its best
(one ``GradCAM`` object, the whole batch at once, ``targets=None``: the predicted class from
its own forward pass), on the same faces and layer, in one run.

    python bench/bench_gradcam.py [--n 512] [--threads 2] [--models cs230_five_layer,mini_xception]

Faces: FER2013 PrivateTest when ../shared/data has it, else FER-Synth. Prints both times
(best of ``--repeats``, interleaved), the ratio and the largest difference of the maps.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from bench_occlusion import faces

from ferviz.explain import explain
from ferviz.models.load import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", default="cs230_five_layer,mini_xception")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from pytorch_grad_cam import GradCAM

    f, source = faces(args.n)
    x = torch.from_numpy(f).unsqueeze(1).float() / 255
    print(f"{len(f)} {source} faces, {torch.get_num_threads()} threads, load average "
          f"{os.getloadavg()[0]:.1f}")
    for name in args.models.split(","):
        m = load_model(name).eval()

        def library(m=m) -> np.ndarray:
            cam = GradCAM(model=m, target_layers=[m.cam_layer()])
            try:
                return cam(input_tensor=x, targets=None)
            finally:
                cam.activations_and_grads.release()

        def ours(m=m):
            return explain(m, f, "pred", "gradcam", cache=False, device="cpu", progress=False)

        library(), ours()  # warm-up
        times: dict[str, list[float]] = {"library": [], "ferviz": []}
        for _ in range(args.repeats):
            for key, fn in (("library", library), ("ferviz", ours)):
                start = time.perf_counter()
                out = fn()
                times[key].append(time.perf_counter() - start)
                if key == "library":
                    ref = out
                else:
                    got = out
        lib, fer = min(times["library"]), min(times["ferviz"])
        print(f"{name}: pytorch-grad-cam {lib:.2f} s, ferviz explain() {fer:.2f} s: "
              f"{lib / fer:.2f}x; max map difference {np.abs(got.raw - ref).max():.1e}")


if __name__ == "__main__":
    main()
