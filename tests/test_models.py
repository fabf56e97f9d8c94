"""Model registry, the FERModel wrapper, and every loader path (with their failures)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from ferviz.errors import FervizError
from ferviz.labels import EMOTIONS, FERPLUS_LABELS, INDEX
from ferviz.models.card import ModelCard
from ferviz.models.fermodel import FERModel
from ferviz.models.load import load_model
from ferviz.models.registry import create_model, list_models

SEED_ARCHS = ["cs230_baseline", "cs230_five_layer", "mini_xception", "emotion_cnn", "ferplus_cnn"]


@pytest.mark.parametrize("name", list_models())
def test_every_architecture_builds_with_its_card(name):
    net, card = create_model(name)
    model = FERModel(net, card).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 1, 48, 48))
    assert out.shape == (2, 7) and torch.isfinite(out).all()
    assert isinstance(model.cam_layer(), nn.Module)
    assert card.params == sum(p.numel() for p in net.parameters()) and card.source


def test_seed_architectures_match_their_descriptions():
    sizes = {n: create_model(n)[1].params for n in SEED_ARCHS}
    assert 50_000 < sizes["mini_xception"] < 70_000  # "about 60k parameters"
    five, _ = create_model("cs230_five_layer")
    convs = [m for m in five.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0]) for c in convs] == [(32, 5), (32, 4), (64, 5)]
    base, _ = create_model("cs230_baseline")
    assert [c.kernel_size for c in base.modules() if isinstance(c, nn.Conv2d)] == [(3, 3)] * 4
    assert any(isinstance(m, nn.Linear) and m.out_features == 1024 for m in base.modules())
    emo, _ = create_model("emotion_cnn")
    assert [c.out_channels for c in emo.modules() if isinstance(c, nn.Conv2d)] == [32, 64, 128, 128]


def test_ferplus_label_order_maps_to_the_seven_emotions():
    net = nn.Sequential(nn.Flatten(), nn.Linear(48 * 48, 8))
    card = ModelCard(arch="x", labels=FERPLUS_LABELS)
    model = FERModel(net, card).eval()
    x = torch.rand(3, 1, 48, 48)
    probs = torch.softmax(net(x), 1)
    mine = torch.softmax(model(x), 1)
    assert torch.allclose(mine.sum(1), torch.ones(3))
    neutral = probs[:, FERPLUS_LABELS.index("neutral")] + probs[:, FERPLUS_LABELS.index("contempt")]
    assert torch.allclose(mine[:, INDEX["neutral"]], neutral, atol=1e-6)
    assert torch.allclose(mine[:, INDEX["happy"]], probs[:, FERPLUS_LABELS.index("happy")],
                          atol=1e-6)


def _trained_like(name="cs230_five_layer"):
    net, _ = create_model(name)
    torch.manual_seed(0)
    for p in net.parameters():
        p.data.normal_(0, 0.05)
    return net.eval()


def _same(model: FERModel, net: nn.Module, **kw) -> None:
    x = torch.rand(4, 1, 48, 48)
    with torch.no_grad():
        assert torch.allclose(model(x), net(x), atol=1e-5)


@pytest.mark.parametrize("suffix, wrap", [(".safetensors", None), (".pt", "state_dict"),
                                          (".pth", "model"), (".pth", "module.")])
def test_state_dict_files_with_an_architecture(tmp_path, suffix, wrap):
    net = _trained_like()
    sd = net.state_dict()
    path = tmp_path / f"w{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    elif wrap == "module.":
        torch.save({f"module.{k}": v for k, v in sd.items()}, path)
    else:
        torch.save({wrap: sd, "epoch": 3}, path)
    model = load_model(str(path), arch="cs230_five_layer")
    _same(model, net)
    assert model.card.arch == "cs230_five_layer" and model.card.cam_layer


def test_user_architecture_file_and_sidecar_options(tmp_path):
    (tmp_path / "mynet.py").write_text(
        "from torch import nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, width=4):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, width, 3)\n"
        "        self.fc = nn.Linear(width, 8)\n"
        "    def forward(self, x):\n"
        "        return self.fc(self.conv(x).mean((2, 3))).softmax(1)\n")
    import importlib.util

    spec = importlib.util.spec_from_file_location("mynet", tmp_path / "mynet.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.Net(width=6).eval()
    torch.save(net.state_dict(), tmp_path / "w.pt")
    (tmp_path / "w.pt.json").write_text(json.dumps({
        "arch": f"{tmp_path / 'mynet.py'}:Net", "input_size": 64, "channels": 3,
        "normalize": "-1..1", "labels": "ferplus", "output": "probs"}))
    with pytest.raises(FervizError, match=r"w\.pt\.json \(sidecar\) asks for arch .*would run "
                       r"the code in .*mynet\.py; pass --trust"):
        load_model(str(tmp_path / "w.pt"), arch_kwargs={"width": 6})
    model = load_model(str(tmp_path / "w.pt"), arch_kwargs={"width": 6}, trust=True)
    assert model.card.input_size == 64 and model.card.channels == 3
    x = torch.rand(2, 1, 48, 48)
    big = torch.nn.functional.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False)
    with torch.no_grad():
        p = net((big.expand(-1, 3, -1, -1) - 0.5) / 0.5)
        mine = torch.softmax(model(x), 1)
    assert torch.allclose(mine[:, INDEX["fear"]], p[:, FERPLUS_LABELS.index("fear")], atol=1e-5)
    (tmp_path / "w.pt.json").write_text(json.dumps({"arch": "x", "input_szie": 64}))
    with pytest.raises(FervizError, match="unknown keys input_szie"):
        load_model(str(tmp_path / "w.pt"))


def test_torchscript_and_onnx(tmp_path):
    net = _trained_like()
    torch.jit.trace(net, torch.rand(1, 1, 48, 48)).save(str(tmp_path / "m.ts.pt"))
    _same(load_model(str(tmp_path / "m.ts.pt"), trust=True), net)
    torch.onnx.export(net, torch.rand(1, 1, 48, 48), str(tmp_path / "m.onnx"), dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "n"}})
    _same(load_model(str(tmp_path / "m.onnx")), net)


def test_pickled_module_needs_trust(tmp_path):
    net = _trained_like("mini_xception")
    torch.save(net, tmp_path / "whole.pt")
    with pytest.raises(FervizError, match="--trust"):
        load_model(str(tmp_path / "whole.pt"))
    _same(load_model(str(tmp_path / "whole.pt"), trust=True), net)


def test_mismatches_name_the_keys(tmp_path):
    net = _trained_like("mini_xception")
    sd = net.state_dict()
    sd.pop("head.bias")
    sd["extra.weight"] = torch.zeros(1)
    torch.save(sd, tmp_path / "w.pt")
    with pytest.raises(FervizError,
                       match=r"missing keys: head\.bias.*unexpected keys: extra\.weight"):
        load_model(str(tmp_path / "w.pt"), arch="mini_xception")
    torch.save(_trained_like("cs230_five_layer").state_dict(), tmp_path / "five.pt")
    with pytest.raises(FervizError, match="do not match"):
        load_model(str(tmp_path / "five.pt"), arch="cs230_baseline")
    with pytest.raises(FervizError, match="state dict; say which architecture"):
        load_model(str(tmp_path / "five.pt"))
    eight, _ = create_model("mini_xception", num_classes=8)
    torch.save(eight.state_dict(), tmp_path / "eight.pt")
    with pytest.raises(FervizError, match="shape mismatches"):
        load_model(str(tmp_path / "eight.pt"), arch="mini_xception")


def test_wrong_label_count_and_bad_specs(tmp_path):
    net = nn.Sequential(nn.Flatten(), nn.Linear(48 * 48, 5))
    torch.save(net, tmp_path / "five.pt")
    with pytest.raises(FervizError, match="outputs 5 classes but its label order has 7"):
        load_model(str(tmp_path / "five.pt"), trust=True)
    with pytest.raises(FervizError, match="neither a file nor a zoo model"):
        load_model("no_such_model")
    with pytest.raises(FervizError, match="unknown architecture"):
        load_model(str(tmp_path / "five.pt"), arch="resnet9000")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(FervizError, match="not a readable PyTorch file"):
        load_model(str(tmp_path / "junk.pt"), arch="mini_xception")
    with pytest.raises(FervizError, match="label order"):
        load_model("fer_synth_cnn", labels="happy,sad")


def test_zoo_model_loads_with_its_card(synth_model):
    assert synth_model.card.name == "fer_synth_cnn" and synth_model.card.labels == EMOTIONS
    assert synth_model.card.info["metrics"]["accuracy"] > 0.95
    assert not synth_model.training
