"""Evidence carried by every map (off-face share, region lifts, flags), class-agnostic and
degenerate targets refused, Grad-CAM equal to pytorch-grad-cam, occlusion engines (residual,
ensemble, undeclared networks) equal to captum, and the trust verdicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ferviz.errors import FervizError
from ferviz.explain import METHODS, SaliencyMaps, explain
from ferviz.explain.evidence import OFF_FACE_WARN
from ferviz.models.fermodel import Ensemble, FERModel
from ferviz.models.registry import create_model


def _model(name: str, seed: int = 0) -> FERModel:
    torch.manual_seed(seed)
    net, card = create_model(name)
    return FERModel(net, card).eval()


def _maps(maps: np.ndarray, contrast=None, targets=None, agnostic=False) -> SaliencyMaps:
    t = np.zeros(len(maps), np.int64) if targets is None else np.asarray(targets)
    return SaliencyMaps(maps=maps.astype(np.float32), raw=maps.astype(np.float32), targets=t,
                        method="m", contrast=contrast, class_agnostic=agnostic)


def test_evidence_always_carries_the_off_face_share_and_flags():
    border = np.zeros((48, 48))
    border[:, :3] = 1  # all attribution on the left edge: off the face
    mouth = np.zeros((48, 48))
    mouth[36:40, 18:30] = 1
    ev = _maps(np.stack([border, mouth, np.zeros((48, 48)), np.full((48, 48), 0.7)])).evidence()
    assert ev.regions[-1] == "other" and ev.off_face[0] == 1 and ev.off_face[1] == 0
    assert ev.flags[0] == ("off-face",) and ev.flags[1] == () and ev.warning(0)
    assert ev.flags[2] == ("blank",) and ev.flags[3] == ("constant",)
    assert ev.caption(0)[0].startswith("off-face 100%")
    assert "not facial evidence" in ev.caption(0)[-1]
    assert ev.caption(1)[0].startswith("off-face 0%") and ev.caption(1)[1].startswith("mouth 100%")
    uniform = _maps(np.full((1, 48, 48), 0.5) + np.eye(48)[None] * 1e-2).evidence()
    assert np.allclose(uniform.lift[0], 1, atol=0.2)  # a flat map: every region at its area
    d = ev.to_dict(1)
    assert d["off_face"] == 0 and d["region_lift"]["mouth"] > 5 and d["flags"] == []
    assert OFF_FACE_WARN < 1 and ev.lift_map(1).shape == (48, 48)
    assert ev.table()["off_face"].tolist()[:2] == [1.0, 0.0]


def test_class_agnostic_methods_and_degenerate_targets(synth_model, synth_test):
    faces = synth_test.images()[:3]
    assert METHODS["eigencam"].class_agnostic and not METHODS["gradcam"].class_agnostic
    happy = explain(synth_model, faces, "happy", "eigencam", cache=False)
    sad = explain(synth_model, faces, "sad", "eigencam", cache=False)
    np.testing.assert_array_equal(happy.maps, sad.maps)  # why it must not name a class
    assert happy.titles() == ["eigencam (class-agnostic)"] * 3
    assert "class-agnostic" in happy.evidence().flags[0]
    assert explain(synth_model, faces, "happy", "gradcam", cache=False).titles()[0] == \
        "gradcam (happy)"
    with pytest.raises(FervizError, match="class-agnostic"):
        explain(synth_model, faces, "sad-neutral", "eigencam", cache=False)
    with pytest.raises(FervizError, match="explains nothing"):
        explain(synth_model, faces, "sad-sad", "gradcam", cache=False)
    pred = explain(synth_model, faces, "pred", "gradcam", cache=False).targets
    same = explain(synth_model, faces, ("pred", int(pred[0])), "occlusion", cache=False,
                   stride=8)  # the first face's prediction minus itself: a blank map
    assert same.evidence().flags[0][:2] == ("degenerate", "blank")


@pytest.mark.parametrize("arch", ["cs230_five_layer", "mini_xception"])
def test_gradcam_equals_the_library_called_directly(arch, synth_test):
    from pytorch_grad_cam import GradCAM

    model = _model(arch)
    faces = synth_test.images()[:6]
    x = torch.from_numpy(faces).unsqueeze(1).float() / 255
    ours = explain(model, faces, "pred", "gradcam", cache=False)
    cam = GradCAM(model=model, target_layers=[model.cam_layer()])
    ref = cam(input_tensor=x, targets=None)
    cam.activations_and_grads.release()
    assert np.abs(ours.raw - ref).max() < 1e-5 and np.abs(ref).max() > 0.5
    with torch.no_grad():
        assert ours.targets.tolist() == model(x).argmax(1).tolist()
    assert all(p.requires_grad for p in model.parameters())  # frozen only during the call


def _ensemble() -> FERModel:
    from dataclasses import replace

    card = create_model("synth_cnn")[1]
    return FERModel(Ensemble([_model("synth_cnn", 1), _model("cs230_baseline", 2)]),
                    replace(card, arch="ensemble", output="log_probs")).eval()


class _Plain(torch.nn.Module):  # declares nothing: occlusion takes full passes
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.head = torch.nn.Conv2d(1, 4, 5, padding=2), torch.nn.Linear(4, 7)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).mean((2, 3)))


@pytest.mark.parametrize("which", ["ensemble", "plain", "mini_xception"])
def test_occlusion_engines_equal_captum(which, synth_test):
    from captum.attr import Occlusion

    from ferviz.explain.core import Scored
    from ferviz.explain.occlusion import engine_for

    if which == "plain":
        torch.manual_seed(0)
        model = FERModel(_Plain(), create_model("synth_cnn")[1]).eval()
    else:
        model = _ensemble() if which == "ensemble" else _model(which)
    assert engine_for(model, (48, 48)).__name__ == "<lambda>"
    faces = synth_test.images()[:1]
    x = torch.from_numpy(faces).unsqueeze(1).float() / 255
    maps = explain(model, faces, "pred", "occlusion", window=12, stride=8, cache=False)
    with torch.no_grad():  # 6 x 6 positions, the last ones clipped at the border
        ref = Occlusion(Scored(model, "prob")).attribute(
            x, sliding_window_shapes=(1, 12, 12), strides=(1, 8, 8), baselines=0.5,
            target=torch.as_tensor(maps.targets))[:, 0].numpy()
    assert np.abs(maps.raw - ref).max() < 1e-5 and np.abs(ref).max() > 1e-5


def test_trust_verdicts_cached_by_model(synth_model, synth_test, tmp_path, monkeypatch):
    from ferviz.explain.trust import trust_table, verdicts

    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path))
    faces = synth_test.images()[:24]
    got = verdicts(synth_model, faces, ["gradcam", "saliency"], n=16, n_random=8, stages=2,
                   steps=4)
    v = got["gradcam"]
    assert v.n == 16 and v.n_random == 8 and len(v.spearman) == len(v.stages) == 2
    assert v.sanity == ("PASS" if v.spearman[-1] < 0.5 else "FAIL") and v.sanity in v.badge()
    assert got["saliency"].deletion_random == v.deletion_random  # random curves shared
    assert len(list((tmp_path / "trust").glob("*.json"))) == 2
    again = verdicts(synth_model, faces, ["gradcam"], n=16, n_random=8, stages=2, steps=4)
    assert again["gradcam"] == v
    table = trust_table(synth_model, faces, ["gradcam", "saliency"], n=16, n_random=8,
                        stages=2, steps=4)
    assert list(table.index) == ["gradcam", "saliency"] and set(table["sanity"]) <= {"PASS", "FAIL"}


def test_checks_command():
    from typer.testing import CliRunner

    from ferviz.cli import app

    res = CliRunner().invoke(app, ["checks", "-m", "fer_synth_cnn", "-d", "synth", "--split",
                                   "test", "--n", "12", "-x", "gradcam", "-x", "eigencam"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert "12 faces" in lines[0] and "sanity" in lines[1]
    rows = [line.split()[0] for line in lines[2:]]
    assert rows[-2:] == ["gradcam", "eigencam"] and all(r in ("PASS", "FAIL") for r in
                                                       [line.split()[1] for line in lines[-2:]])
