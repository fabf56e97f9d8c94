"""Keras models through ferviz: built and saved at test time (.h5 and .keras), loaded, explained
and converted; every refusal is one clear FervizError. Skipped without the keras extra."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is imported anywhere
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")
sys.path.insert(0, str(Path(__file__).parent))

import keras_nets as kn  # noqa: E402

from ferviz.errors import FervizError  # noqa: E402
from ferviz.explain import explain  # noqa: E402
from ferviz.explain.core import Scored  # noqa: E402
from ferviz.models.convert import convert  # noqa: E402
from ferviz.models.load import load_model  # noqa: E402

PRESET = {"seq": None, "res": "face_classification"}  # res: x / 127.5 - 1


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """An Emotion-detection Sequential CNN (48x48) and a face_classification mini-Xception
    (64x64, random batch-norm statistics), each saved as .h5 and .keras."""
    folder = tmp_path_factory.mktemp("keras")
    keras.utils.set_random_seed(0)
    models = {"seq": kn.emotion_cnn(), "res": kn.mini_xception((64, 64, 1))}
    kn.randomise_batchnorms(models["res"])
    for name, model in models.items():
        for ext in ("h5", "keras"):
            model.save(folder / f"{name}.{ext}")
    return folder, models


@pytest.fixture(scope="module")
def loaded(saved):
    """``load_model`` of a saved file, once per file."""
    cache = {}

    def load(name: str, ext: str):
        if (name, ext) not in cache:
            cache[name, ext] = load_model(str(saved[0] / f"{name}.{ext}"), preset=PRESET[name])
        return cache[name, ext]
    return load


@pytest.fixture(scope="module")
def faces():
    return np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)


def _x(faces: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(faces).unsqueeze(1).float() / 255


@pytest.mark.parametrize("ext", ["h5", "keras"])
@pytest.mark.parametrize("name", ["seq", "res"])
def test_predictions_equal_keras(saved, loaded, faces, name, ext):
    models = saved[1]
    m = loaded(name, ext)
    size = 64 if name == "res" else 48
    assert (m.card.input_size, m.card.channels, m.card.output) == (size, 1, "logits")
    layers = models[name].layers
    convs = [i for i, layer in enumerate(layers) if type(layer).__name__ == "Conv2D"]
    cam = layers[convs[-1] - 1 if name == "res" else convs[-1]]  # res: input of the score conv
    assert m.card.cam_layer == f"taps.{cam.name}"
    assert ("assumed" in m.card.info) == (PRESET[name] is None)
    with torch.no_grad():
        ours = m(_x(faces)).softmax(1)
    mean, std = (m.card.mean, m.card.std)
    assert (mean, std) == ((0.5, 0.5) if name == "res" else (0.0, 1.0))
    torch.testing.assert_close(ours, kn.keras_probs(models[name], _x(faces), mean, std),
                               atol=1e-5, rtol=0)


def test_occlusion_equals_captum(loaded, faces):
    from captum.attr import Occlusion

    m = loaded("res", "h5")
    maps = explain(m, faces[:1], method="occlusion", cache=False, window=8, stride=8)
    ref = Occlusion(Scored(m, "prob")).attribute(
        _x(faces[:1]), sliding_window_shapes=(1, 8, 8), strides=(1, 8, 8), baselines=0.5,
        target=torch.from_numpy(maps.targets), perturbations_per_eval=64)
    np.testing.assert_allclose(maps.raw, ref[:, 0].detach().numpy(), atol=1e-5)


def _scale(cams: np.ndarray, size: int | None) -> np.ndarray:
    """pytorch-grad-cam's min-max scaling (and cv2 resize)."""
    import cv2

    out = []
    for c in cams:
        c = c - c.min()
        c = c / (1e-7 + c.max())
        out.append(cv2.resize(np.float32(c), (size, size)) if size else c)
    return np.float32(out)


def test_gradcam_equals_hand_computed_on_the_keras_layer(loaded, faces):
    m = loaded("res", "keras")
    faces = faces[:2]
    maps = explain(m, faces, method="gradcam", cache=False)
    layer = m.net.keras_model.get_layer(m.card.cam_layer.split(".", 1)[1])
    seen = {}
    hook = layer.register_forward_hook(lambda mod, i, out: seen.update(a=out))
    try:
        x = _x(faces)
        out = m(x)
        grads, = torch.autograd.grad(out[range(len(x)), torch.from_numpy(maps.targets)].sum(),
                                     seen["a"])
    finally:
        hook.remove()
    act = seen["a"].detach().permute(0, 3, 1, 2)  # NHWC -> NCHW
    cam = (grads.permute(0, 3, 1, 2).mean((2, 3), keepdim=True) * act).sum(1).clamp_min(0)
    ref = _scale(np.maximum(_scale(cam.numpy(), 48), 0), None)
    assert act.shape[-1] < 48 and ref.max() > 0.99
    np.testing.assert_allclose(maps.raw, ref, atol=1e-5)


@pytest.mark.parametrize("name,arch", [("seq", "emotion_cnn"), ("res", "mini_xception_keras")])
def test_conversion_gives_the_keras_outputs(saved, faces, tmp_path, name, arch):
    folder, models = saved
    card, diff = convert(str(folder / f"{name}.h5"), tmp_path / "entry", preset=PRESET[name])
    assert card.arch == arch and diff < 1e-4 and card.output == "logits"
    native = load_model(str(tmp_path / "entry"))
    assert type(native.net).__module__.startswith("ferviz.models")
    with torch.no_grad():
        ours = native(_x(faces)).softmax(1)
    torch.testing.assert_close(ours, kn.keras_probs(models[name], _x(faces), card.mean,
                                                    card.std), atol=1e-5, rtol=0)
    with pytest.raises(FervizError, match="--force"):
        convert(str(folder / f"{name}.h5"), tmp_path / "entry")


def test_a_keras_file_is_explained_like_its_converted_network(tmp_path, faces):
    """Both explain the logit (the Keras file's final softmax is split off), so Grad-CAM maps
    of the same weights agree."""
    from ferviz.explain import explain

    zoo = load_model("mini_xception")
    twin = kn.mini_xception(zoo_twin=True)
    kn.copy_native(zoo.net, twin)
    twin.save(tmp_path / "twin.keras")
    convert(str(tmp_path / "twin.keras"), tmp_path / "entry")
    keras_model, native = load_model(str(tmp_path / "twin.keras")), load_model(
        str(tmp_path / "entry"))
    assert keras_model.card.output == native.card.output == "logits"
    maps = [explain(m, faces[:8], "pred", "gradcam", cache=False).raw
            for m in (keras_model, native)]
    np.testing.assert_allclose(maps[0], maps[1], atol=1e-4)


def test_trust_checks_randomise_keras_weights_and_put_them_back(loaded, faces):
    from ferviz.explain.checks import cascading_randomization

    m = loaded("seq", "h5")
    with torch.no_grad():
        before = m(_x(faces[:8]))
    result = cascading_randomization(m, faces[:8], "gradcam", stages=2)
    assert len(result.stages) == 2 and np.isfinite(result.spearman).all()
    assert result.spearman[-1] < 0.9  # the maps moved once the weights were shuffled
    with torch.no_grad():
        torch.testing.assert_close(m(_x(faces[:8])), before, atol=0, rtol=0)


def test_zoo_twin_converts_to_the_zoo_architecture(tmp_path, faces):
    """A Keras twin of the zoo's mini_xception (padded stem, PyTorch-aligned pools) given the
    zoo's weights predicts like the zoo model and converts back to ``mini_xception``."""
    zoo = load_model("mini_xception")
    twin = kn.mini_xception(zoo_twin=True)
    kn.copy_native(zoo.net, twin)
    twin.save(tmp_path / "twin.keras")
    card, _ = convert(str(tmp_path / "twin.keras"), tmp_path / "entry")
    assert card.arch == "mini_xception"
    with torch.no_grad():
        want = zoo(_x(faces)).softmax(1)
        for spec in ("twin.keras", "entry"):
            got = load_model(str(tmp_path / spec))(_x(faces)).softmax(1)
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_cli_convert_and_evaluate_with_preset(saved, faces, tmp_path):
    from PIL import Image
    from typer.testing import CliRunner

    from ferviz.cli import app

    for i, (face, emotion) in enumerate(zip(faces, ("happy", "sad", "angry"))):
        (tmp_path / "faces" / emotion).mkdir(parents=True)
        Image.fromarray(face).save(tmp_path / "faces" / emotion / f"{i}.png")
    runner = CliRunner()
    res = str(saved[0] / "res.h5")
    out = runner.invoke(app, ["convert", res, "-o", str(tmp_path / "e"),
                              "--preset", "face_classification"])
    assert out.exit_code == 0 and "mini_xception_keras" in out.output, out.output
    for spec, preset in ((res, ["--preset", "face_classification"]), (str(tmp_path / "e"), [])):
        out = runner.invoke(app, ["evaluate", "-m", spec, *preset, "-d",
                                  str(tmp_path / "faces"), "--json"])
        assert out.exit_code == 0, out.output
        acc = json.loads(out.output)["accuracy"]
        if preset:
            first = acc
    assert acc == first  # the converted entry scores what the Keras file scores
    out = runner.invoke(app, ["convert", str(saved[0] / "seq.keras"), "-o", str(tmp_path / "s")])
    assert "note: seq.keras: assumed pixels scaled to 0..1" in out.output


def _tiny(*layers, inputs=(48, 48, 1)):
    return keras.Sequential([keras.layers.Input(inputs), *layers])


def test_refusals(saved, tmp_path, monkeypatch):
    L = keras.layers
    folder = saved[0]
    saved[1]["seq"].save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(FervizError, match="only weights"):
        load_model(str(tmp_path / "w.weights.h5"))
    lam = _tiny(L.Lambda(lambda t: t * 2), L.GlobalAveragePooling2D(), L.Dense(7))
    lam.save(tmp_path / "lam.keras")
    with pytest.raises(FervizError, match="Lambda.*--trust"):
        load_model(str(tmp_path / "lam.keras"))
    assert load_model(str(tmp_path / "lam.keras"), trust=True).card.output == "logits"

    @keras.saving.register_keras_serializable(package="test")
    class Doubler(L.Layer):
        def call(self, x):
            return x * 2

    _tiny(Doubler(), L.GlobalAveragePooling2D(), L.Dense(7)).save(tmp_path / "custom.h5")
    keras.saving.get_custom_objects().pop("test>Doubler")
    with pytest.raises(FervizError, match="custom layer classes test>Doubler"):
        load_model(str(tmp_path / "custom.h5"))
    _tiny(L.Conv2D(4, 3), L.GlobalAveragePooling2D(), L.Dense(1000, activation="softmax")
          ).save(tmp_path / "imagenet.h5")
    with pytest.raises(FervizError, match=r"outputs 1000 classes.*--label-order"):
        load_model(str(tmp_path / "imagenet.h5"))
    for bad in ("bad.h5", "bad.keras"):
        (tmp_path / bad).write_bytes(b"not a model" * 10)
        with pytest.raises(FervizError, match="not a readable"):
            load_model(str(tmp_path / bad))
    with pytest.raises(FervizError, match="--arch is for state dicts"):
        load_model(str(folder / "seq.h5"), arch="emotion_cnn")
    with pytest.raises(FervizError, match="unknown preset"):
        load_model(str(folder / "seq.h5"), preset="nope")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(FervizError, match="KERAS_BACKEND is 'jax'"):
        load_model(str(folder / "seq.h5"))
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.setitem(sys.modules, "keras", None)
    with pytest.raises(FervizError, match=r"pip install 'ferviz\[keras\]'"):
        load_model(str(folder / "seq.h5"))


def test_unmatched_keras_model_does_not_convert(tmp_path):
    L = keras.layers
    _tiny(L.Conv2D(4, 3), L.GlobalAveragePooling2D(), L.Dense(7)).save(tmp_path / "t.keras")
    with pytest.raises(FervizError, match="no registered architecture matches.*-m"):
        convert(str(tmp_path / "t.keras"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
