"""Keras models: a converted native mini-Xception against the zoo's own, and the direct Keras
path beside them, measured in one run (goal: converted >= 0.9x the zoo model's speed).

    python bench/bench_keras.py [--n 512] [--occlusion-n 16] [--workflow] [--keep DIR]

The Keras model is face_classification's ``mini_XCEPTION`` (48x48 input) built with Keras 3,
given the zoo mini_xception's trained weights (its x/255 input folded into the first
convolution, so the ``face_classification`` preset's x/127.5 - 1 applies) and saved as
``.hdf5``; ``ferviz.models.convert`` turns it into a native ``mini_xception_keras``.
A Keras twin of the zoo network (padded stem, PyTorch-aligned pools) given the same weights
converts to ``mini_xception`` itself: its row shows the speed at equal architecture.
``--workflow`` adds PrivateTest accuracies: the file through ferviz, Keras's own ``model(x)``,
the converted network, the zoo model, and the twin through ferviz. Faces: FER2013 PrivateTest (needs
../shared/data), else FER-Synth. One CPU thread for every path.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
FER2013 = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013" / "fer2013.csv.xz"


def best_times(jobs: dict, repeats: int) -> dict[str, float]:
    """Best wall time of each job over ``repeats`` rounds, jobs interleaved within a round
    (after one untimed warm-up round), so drifting machine load hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for r in range(repeats + 1):
        for name, fn in jobs.items():
            t = time.perf_counter()
            fn()
            if r:
                times[name].append(time.perf_counter() - t)
    return {name: min(ts) for name, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512, help="faces to predict")
    ap.add_argument("--occlusion-n", type=int, default=16, help="faces to explain")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workflow", action="store_true", help="PrivateTest accuracies")
    ap.add_argument("--keep", type=Path, help="write the .hdf5 files here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    import keras_nets as kn

    from ferviz.data import open_data
    from ferviz.explain import explain
    from ferviz.models.convert import convert
    from ferviz.models.load import load_model
    from ferviz.predict import predict_proba

    folder = args.keep or Path(tempfile.mkdtemp(prefix="ferviz-keras-"))
    folder.mkdir(parents=True, exist_ok=True)
    zoo = load_model("mini_xception")
    fc = kn.mini_xception()
    kn.copy_native(zoo.net, fc, fold_minus_one=True)
    fc.save(folder / "fer2013_mini_XCEPTION.hdf5")
    t = time.perf_counter()
    direct = load_model(str(folder / "fer2013_mini_XCEPTION.hdf5"), preset="face_classification")
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    card, diff = convert(str(folder / "fer2013_mini_XCEPTION.hdf5"), folder / "converted",
                         preset="face_classification", force=True)
    convert_s = time.perf_counter() - t
    native = load_model(str(folder / "converted"))
    print(f"Keras file loaded in {load_s:.1f} s; converted to {card.arch} in {convert_s:.1f} s "
          f"(largest log-probability difference {diff:.2g})")
    twin = kn.mini_xception(zoo_twin=True)
    kn.copy_native(zoo.net, twin)
    twin.save(folder / "zoo_twin.hdf5")
    twin_card, _ = convert(str(folder / "zoo_twin.hdf5"), folder / "twin_converted", force=True)
    twin_native = load_model(str(folder / "twin_converted"))

    records = open_data(FER2013, split="PrivateTest") if FER2013.is_file() else None
    if records is None:
        from ferviz.data.synth import load_synth

        records = load_synth(args.n, seed=2)
    faces = records.images()[:args.n]
    print(f"faces: {'FER2013 PrivateTest' if FER2013.is_file() else 'FER-Synth'}, "
          f"{len(faces)} predicted, {args.occlusion_n} explained (occlusion 8/4), 1 thread")
    paths = (("zoo mini_xception", zoo), ("converted", native), ("Keras direct", direct),
             (f"twin -> {twin_card.arch}", twin_native))
    jobs = {}
    for name, m in paths:
        jobs[name, "predict"] = lambda m=m: predict_proba(m, faces)
        jobs[name, "occlusion"] = lambda m=m: explain(m, faces[:args.occlusion_n], cache=False,
                                                      method="occlusion", progress=False)
    t = best_times(jobs, args.repeats)
    speeds = {name: (len(faces) / t[name, "predict"], args.occlusion_n / t[name, "occlusion"])
              for name, _ in paths}
    for name, (p, o) in speeds.items():
        print(f"{name:26} predict {p:8.0f} faces/s   occlusion {o:7.2f} faces/s")
    for i, what in enumerate(("predict", "occlusion")):
        ratio = speeds["converted"][i] / speeds["zoo mini_xception"][i]
        keras_ratio = speeds["Keras direct"][i] / speeds["zoo mini_xception"][i]
        print(f"{what}: converted / zoo = {ratio:.2f}x (goal >= 0.9: "
              f"{'met' if ratio >= 0.9 else 'NOT met'}); Keras direct / zoo = {keras_ratio:.2f}x")
    if args.workflow:
        workflow(records, zoo, direct, native, fc, folder, kn)


def workflow(records, zoo, direct, native, fc, folder: Path, kn) -> None:
    """PrivateTest accuracy of every path (the whole split)."""
    from ferviz.models.load import load_model
    from ferviz.predict import predict_proba

    faces, labels = records.images(), np.asarray(records.labels)
    x = torch.from_numpy(faces).unsqueeze(1).float() / 255
    own = torch.cat([kn.keras_probs(fc, b, 0.5, 0.5) for b in x.split(256)]).numpy()
    rows = [("Keras's own model(x) on the .hdf5", own),
            ("the .hdf5 through ferviz", predict_proba(direct, faces)),
            ("its converted native network", predict_proba(native, faces)),
            ("the zoo's mini_xception", predict_proba(zoo, faces)),
            ("Keras twin of the zoo net through ferviz",
             predict_proba(load_model(str(folder / "zoo_twin.hdf5")), faces))]
    for what, p in rows:
        print(f"PrivateTest accuracy, {what:42} {np.mean(p.argmax(1) == labels) * 100:6.2f}%")
    print(f"largest probability difference, ferviz vs Keras's own: "
          f"{np.abs(rows[1][1] - own).max():.2g}")


if __name__ == "__main__":
    main()
