"""Training: augmentation, resumable checkpoints, the zoo entry it writes, fine-tuning."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ferviz.data.synth import load_synth
from ferviz.models.fermodel import FERModel
from ferviz.models.load import load_model
from ferviz.models.registry import create_model
from ferviz.train import Recipe, class_weights, finetune, random_augment, train


def test_augmentation_keeps_shape_and_varies(synth_test):
    x = torch.from_numpy(synth_test.images()[:8]).unsqueeze(1).float() / 255
    g = torch.Generator().manual_seed(0)
    a, b = random_augment(x, g), random_augment(x, g)
    assert a.shape == x.shape and not torch.allclose(a, b)
    assert (a - x).abs().mean() < 0.2  # small transformations, not noise


def test_class_weights_are_balanced():
    w = class_weights(np.array([0] * 8 + [1] * 2 + [2] * 4 + [3, 4, 5, 6]))
    counts = np.array([8, 2, 4, 1, 1, 1, 1])
    np.testing.assert_allclose(w.numpy() * counts, np.full(7, 18 / 7), rtol=1e-6)


def test_training_resumes_and_writes_a_loadable_zoo_entry(tmp_path):
    data = load_synth(280, seed=11, ambiguity=0)
    val = load_synth(70, seed=12, ambiguity=0)
    recipe = Recipe(arch="synth_cnn", epochs=2, batch_size=32, lr=3e-3, augment=False, seed=3)

    def fresh():
        torch.manual_seed(0)
        net, card = create_model("synth_cnn")
        return FERModel(net, card)

    first = train(fresh(), recipe, data, val, tmp_path / "a", progress=False, log=lambda _: None)
    assert first["epochs_run"] == 2

    def interrupt(line: str) -> None:
        raise KeyboardInterrupt(line)

    with pytest.raises(KeyboardInterrupt, match="epoch 1:"):  # stopped after epoch 1
        train(fresh(), recipe, data, val, tmp_path / "b", progress=False, log=interrupt)
    logs: list[str] = []
    resumed = train(fresh(), recipe, data, val, tmp_path / "b", progress=False, log=logs.append)
    assert logs[0].startswith("resuming") and len(logs) == 2  # only epoch 2 ran again
    assert resumed["history"] == first["history"]
    card = json.loads((tmp_path / "a" / "card.json").read_text())
    assert card["arch"] == "synth_cnn" and card["info"]["recipe"]["seed"] == 3
    a = load_model(str(tmp_path / "a" / "weights.safetensors"), arch="synth_cnn")
    b = load_model(str(tmp_path / "b" / "weights.safetensors"), arch="synth_cnn")
    x = torch.rand(3, 1, 48, 48)
    assert torch.allclose(a(x), b(x), atol=1e-5)


def test_finetune_on_one_person_improves_held_out_accuracy(tmp_path):
    """A 'person' the zoo model has never seen (contrast-inverted FER-Synth identity)."""
    person = load_synth(175, seed=21, ambiguity=0, person=4)
    from ferviz.labels import EMOTIONS

    for i, (face, label) in enumerate(zip(person.faces, person.labels)):
        folder = tmp_path / "me" / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - face).save(folder / f"{i}.png")
    from ferviz.data import open_data

    model = load_model("fer_synth_cnn")
    head_before = model.net.classifier[-1].weight.clone()
    conv_before = model.net.features[0].weight.clone()
    result = finetune(model, open_data(tmp_path / "me"), tmp_path / "out", epochs=30,
                      log=lambda _: None)
    assert result["held_out"] == 35 and result["train"] == 140
    assert result["accuracy_before"] < 0.35
    assert result["accuracy_after"] > result["accuracy_before"] + 0.25
    assert torch.equal(model.net.features[0].weight, conv_before)  # frozen
    assert not torch.equal(model.net.classifier[-1].weight, head_before)
    card = json.loads((tmp_path / "out" / "card.json").read_text())
    assert card["info"]["finetune"]["accuracy_after"] == result["accuracy_after"]


def test_train_init_continues_from_a_trained_model(tmp_path):
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ferviz", "train", "-d", "synth",
                               "--epochs", "1", "--lr", "1e-5", *args],
                              capture_output=True, text=True, timeout=300)

    out = run("--arch", "synth_cnn", "--init", "fer_synth_cnn", "-o", str(tmp_path / "c"))
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "c" / "card.json").read_text())["info"]
    assert info["recipe"]["init"].startswith("fer_synth_cnn (")
    assert info["training"]["val_accuracy"] > 0.9  # a random start is at chance after 1 epoch
    bad = run("--arch", "cs230_five_layer", "--init", "fer_synth_cnn", "-o", str(tmp_path / "d"))
    assert bad.returncode == 2 and "is a synth_cnn, not a cs230_five_layer" in bad.stderr
