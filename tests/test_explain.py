"""explain(): every method on every zoo architecture, targets, contrasts, hooks and modes
restored, caching, and the occlusion engine against captum."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from ferviz.errors import FervizError
from ferviz.explain import METHODS, SaliencyMaps, explain
from ferviz.models.fermodel import FERModel
from ferviz.models.registry import create_model, list_models

BIG = {"resnet50", "vgg16", "seresnet50"}
FAST = {"occlusion", "gradcam"}


@functools.cache
def _zoo_arch(name: str) -> FERModel:
    return _model(name)


def _model(name: str) -> FERModel:
    torch.manual_seed(0)
    net, card = create_model(name)
    return FERModel(net, card).eval()


def _hooks(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in model.modules())


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("arch", list_models())
def test_every_method_on_every_architecture(arch, method, synth_test):
    if arch in BIG and method not in FAST:
        pytest.skip("slow method on a large backbone (Grad-CAM and occlusion run on it)")
    model = _zoo_arch(arch).train()
    n = 1 if arch in BIG else 2
    faces = synth_test.images()[:n]
    options = {"window": 24, "stride": 24} if method == "occlusion" and arch in BIG else {}
    maps = explain(model, faces, target="happy", method=method, cache=False, **options)
    assert maps.maps.shape == maps.raw.shape == (n, 48, 48)
    assert maps.maps.dtype == np.float32 and np.isfinite(maps.maps).all()
    assert maps.maps.min() >= 0 and maps.maps.max() <= 1
    assert list(maps.targets) == [3] * n and maps.method == method
    assert model.training, "train/eval mode must be restored"
    assert _hooks(model) == 0, "hooks must be removed"


def test_occlusion_matches_captum(synth_model, synth_test):
    from captum.attr import Occlusion

    from ferviz.explain.core import Scored

    faces = synth_test.images()[:2]
    x = torch.from_numpy(faces).unsqueeze(1).float() / 255
    # incremental engine (sequential CNNs) and batched full passes (mini-Xception)
    for model in (synth_model, _zoo_arch("cs230_five_layer"), _zoo_arch("mini_xception")):
        model.eval()  # other tests leave the shared models in train mode
        maps = explain(model, faces, target="pred", method="occlusion", window=12, stride=8,
                       cache=False)  # the last window sticks out and is clipped, as in captum
        t = torch.as_tensor(maps.targets)
        with torch.no_grad():
            ref = Occlusion(Scored(model, "prob")).attribute(
                x, sliding_window_shapes=(1, 12, 12), strides=(1, 8, 8), baselines=0.5,
                target=t)[:, 0].numpy()
        assert np.abs(maps.raw - ref).max() < 1e-4
        assert np.abs(ref).max() > 1e-6  # the comparison is not between two zero maps


def test_targets_and_contrast(synth_model, synth_test):
    faces, labels = synth_test.images()[:4], synth_test.labels[:4]
    pred = explain(synth_model, faces, "pred", "gradcam", cache=False)
    with torch.no_grad():
        expected = synth_model(torch.from_numpy(faces).unsqueeze(1).float() / 255).argmax(1)
    assert list(pred.targets) == expected.tolist()
    true = explain(synth_model, synth_test.select(slice(0, 4)), "true", "saliency", cache=False)
    assert list(true.targets) == labels.tolist()
    fast = {"window": 12, "stride": 8, "cache": False}
    sad = explain(synth_model, faces, "sad", "occlusion", **fast)
    neutral = explain(synth_model, faces, "neutral", "occlusion", **fast)
    contrast = explain(synth_model, faces, ("sad", "neutral"), "occlusion", **fast)
    assert contrast.contrast == 6 and contrast.target_names()[0] == "sad-neutral"
    # occlusion is linear in the explained output: (sad - neutral) = sad map - neutral map
    assert np.abs(contrast.raw - (sad.raw - neutral.raw)).max() < 1e-5
    assert explain(synth_model, faces, "sad-neutral", "occlusion", **fast).contrast == 6
    with pytest.raises(FervizError, match="known label"):
        explain(synth_model, faces, "true", "gradcam", cache=False)
    with pytest.raises(FervizError, match="unknown emotion"):
        explain(synth_model, faces, "bored", "gradcam")
    with pytest.raises(FervizError, match="unknown explanation method"):
        explain(synth_model, faces, "pred", "lime")
    with pytest.raises(FervizError, match="no option"):
        explain(synth_model, faces, "pred", "gradcam", window=3)
    with pytest.raises(FervizError, match="uint8"):
        explain(synth_model, faces.astype(float), "pred", "gradcam")


def test_cam_layer_override_and_error(synth_model, synth_test):
    faces = synth_test.images()[:2]
    early = explain(synth_model, faces, "happy", "gradcam", layer="features.2", cache=False)
    late = explain(synth_model, faces, "happy", "gradcam", cache=False)
    assert early.options["layer"] == "features.2" and late.options["layer"] == "features.10"
    assert not np.allclose(early.maps, late.maps)
    with pytest.raises(FervizError, match="no layer"):
        explain(synth_model, faces, "happy", "gradcam", layer="nope")


class _Boom(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


def test_hooks_and_mode_restored_on_error(synth_test):
    model = _model("synth_cnn").train()
    model.net.classifier = _Boom()
    for method in ("gradcam", "guided_backprop", "layercam"):
        with pytest.raises(RuntimeError, match="boom"):
            explain(model, synth_test.images()[:2], "happy", method, cache=False)
        assert model.training and _hooks(model) == 0


def test_cache_round_trip(synth_model, synth_test):
    faces = synth_test.images()[:3]
    first = explain(synth_model, faces, "pred", "occlusion", stride=8)
    again = explain(synth_model, faces, "pred", "occlusion", stride=8)
    other = explain(synth_model, faces, "pred", "occlusion", stride=4)
    assert not first.cached and again.cached and not other.cached
    assert isinstance(again, SaliencyMaps) and again.options == first.options
    np.testing.assert_array_equal(first.maps, again.maps)
    np.testing.assert_array_equal(first.targets, again.targets)
