"""ferviz's occlusion engine vs captum ``Occlusion.attribute`` at its best CPU setting
(``perturbations_per_eval=1``, on a channels-last copy of the model): same model, faces,
window, stride, baseline and target, one run.

    python bench/bench_occlusion.py [--arch cs230_five_layer | --zoo NAME | --zoo all]
        [--n 64] [--window 8] [--stride 4] [--threads 2]

``--arch``: the zoo entry of that architecture when there is one, else random weights (the
cost does not depend on the weights); ``--zoo all``: every zoo model in turn. Faces: FER2013
PrivateTest when ../shared/data has it, else FER-Synth. Prints both times, the speed-up and
the largest absolute difference, per model, and the CPU time each took (with one thread, its
ratio hardly moves when other processes share the cores; wall-clock ratios do).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from ferviz.explain import explain
from ferviz.explain.core import Scored
from ferviz.models import zoo
from ferviz.models.fermodel import FERModel
from ferviz.models.load import load_model
from ferviz.models.registry import create_model

FER2013 = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "fer2013.csv.xz"


def faces(n: int) -> tuple[np.ndarray, str]:
    if FER2013.is_file():
        from ferviz.data import open_data

        return open_data(FER2013, split="PrivateTest").images()[:n], "FER2013 PrivateTest"
    from ferviz.data.synth import load_synth

    return load_synth(n, seed=2).images(), "FER-Synth"


def model(arch: str) -> tuple[FERModel, str]:
    named = [n for n in zoo.names() if zoo.card(n).arch == arch]
    if named:
        return load_model(named[0]), f"zoo model {named[0]}"
    torch.manual_seed(0)
    net, card = create_model(arch)
    return FERModel(net, card).eval(), f"{arch} (random weights)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="cs230_five_layer")
    ap.add_argument("--zoo", default=None, help="a zoo model, or 'all'")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--stride", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2, help="timed runs of each; best is kept")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    f, source = faces(args.n)
    if args.zoo is None:
        compare(*model(args.arch), f, source, args)
        return
    for name in zoo.names() if args.zoo == "all" else [args.zoo]:
        compare(load_model(name).eval(), f"zoo model {name}", f, source, args)


def compare(m: FERModel, what: str, f: np.ndarray, source: str, args) -> None:
    import copy

    from captum.attr import Occlusion

    x = torch.from_numpy(f).unsqueeze(1).float() / 255
    opts = {"window": args.window, "stride": args.stride, "baseline": 0.5}
    fast_copy = copy.deepcopy(m).eval().to(memory_format=torch.channels_last)
    occluder = Occlusion(Scored(fast_copy, "prob"))

    def ours_run(faces_: np.ndarray):
        return explain(m, faces_, "pred", "occlusion", cache=False, device="cpu", **opts)

    def captum_run(x_: torch.Tensor, targets_: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return occluder.attribute(
                x_, sliding_window_shapes=(1, args.window, args.window),
                strides=(1, args.stride, args.stride), baselines=0.5, target=targets_)

    warm = ours_run(f[:4])  # warm-up both (first-call allocations, kernel selection)
    captum_run(x[:4], torch.as_tensor(warm.targets))
    times: dict[str, list[tuple[float, float]]] = {"ours": [], "captum": []}
    for _ in range(args.repeats):  # interleaved, so load drift hits both alike
        start, cpu = time.perf_counter(), time.process_time()
        ours = ours_run(f)
        times["ours"].append((time.perf_counter() - start, time.process_time() - cpu))
        start, cpu = time.perf_counter(), time.process_time()
        ref = captum_run(x, torch.as_tensor(ours.targets))
        times["captum"].append((time.perf_counter() - start, time.process_time() - cpu))
    (ours_s, ours_cpu), (captum_s, captum_cpu) = min(times["ours"]), min(times["captum"])
    diff = float(np.abs(ours.raw - ref[:, 0].numpy()).max())
    positions = ((48 - args.window) // args.stride + 1) ** 2
    print(f"{what}, {len(f)} {source} faces, window {args.window}, stride {args.stride} "
          f"({positions} positions), target-class probability, {torch.get_num_threads()} "
          "threads")
    print(f"captum Occlusion.attribute (perturbations_per_eval=1, channels-last copy): "
          f"{captum_s:.2f} s (best of {args.repeats})")
    print(f"ferviz occlusion engine: {ours_s:.2f} s (best of {args.repeats})")
    print(f"speed-up {captum_s / ours_s:.2f}x, max abs difference {diff:.2e}")
    print(f"CPU time (less sensitive to other processes): captum {captum_cpu:.2f} s, ferviz "
          f"{ours_cpu:.2f} s, {captum_cpu / ours_cpu:.2f}x; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
