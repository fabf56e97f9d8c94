"""Trustworthiness on FER-Synth, where the right answer is known: ground-truth region share
and pointing game, model randomisation, deletion / insertion."""

from __future__ import annotations

import copy

import cv2
import numpy as np
import pytest
import torch

from ferviz.errors import FervizError
from ferviz.explain import explain
from ferviz.explain.checks import (
    cascading_randomization,
    deletion_insertion,
    ground_truth_scores,
    random_maps,
)


@pytest.fixture(scope="module")
def pure(synth_test):
    """40 single-expression FER-Synth faces with their ground-truth masks."""
    return synth_test.select(np.flatnonzero(synth_test.soft.max(1) == 1)[:40])


def _chance(masks: np.ndarray) -> dict[str, float]:
    runs = [ground_truth_scores(random_maps(masks.shape, seed), masks) for seed in range(5)]
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


@pytest.mark.parametrize("method", ["occlusion", "gradcam"])
def test_ground_truth_beats_random(method, synth_model, pure):
    maps = explain(synth_model, pure, "true", method, cache=False)
    got, chance = ground_truth_scores(maps.maps, pure.masks), _chance(pure.masks)
    assert got["share_inside"] > 2.5 * chance["share_inside"]
    # a random map's maximum lands in the region with probability = the region's area
    assert abs(chance["share_inside"] - got["area"]) < 0.01
    assert got["pointing"] > 2.5 * got["area"]


def test_randomised_model_fails_ground_truth(synth_model, pure):
    shuffled = copy.deepcopy(synth_model)
    torch.manual_seed(0)
    for m in shuffled.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    trained = ground_truth_scores(explain(synth_model, pure, "true", "gradcam",
                                          cache=False).maps, pure.masks)
    random = ground_truth_scores(explain(shuffled, pure, "true", "gradcam",
                                         cache=False).maps, pure.masks)
    assert random["share_inside"] < trained["share_inside"] - 0.15


def test_cascading_randomization(synth_model, pure):
    faces = pure.select(slice(0, 12))
    result = cascading_randomization(synth_model, faces, "gradcam", target="true")
    assert result.passed and "PASS" in result.verdict()
    assert len(result.stages) == len(result.spearman) == 4
    assert result.spearman[-1] < 0.5

    def edges(model, f, targets):  # ignores the model: must fail the check
        return np.stack([np.abs(cv2.Sobel(a.astype(np.float32), cv2.CV_32F, 1, 1)) for a in f])

    control = cascading_randomization(synth_model, faces, edges)
    assert not control.passed and "FAIL" in control.verdict()
    assert control.spearman[-1] > 0.99


def test_deletion_insertion_beat_random_order(synth_model, pure):
    faces = pure.select(slice(0, 10))
    maps = explain(synth_model, faces, "true", "occlusion", cache=False)
    scores = deletion_insertion(synth_model, faces, maps.maps, maps.targets, steps=10)
    assert scores["deletion"] < scores["deletion_random"]
    assert scores["insertion"] > scores["insertion_random"] + 0.2
    with pytest.raises(FervizError, match="do not match"):
        deletion_insertion(synth_model, faces, maps.maps[:2], maps.targets)


def test_ground_truth_scores_by_hand():
    masks = np.zeros((2, 4, 4), bool)
    masks[:, :2, :2] = True
    maps = np.zeros((2, 4, 4))
    maps[0, 0, 0], maps[0, 3, 3] = 3, 1  # 75% inside, maximum inside
    maps[1, 3, 3] = 1  # nothing inside
    got = ground_truth_scores(maps, masks)
    assert got == {"share_inside": 0.375, "pointing": 0.5, "area": 0.25}


def test_batched_curves_equal_one_map_at_a_time(synth_model, pure):
    from ferviz.explain.checks import deletion_insertion_all

    faces = pure.select(slice(0, 8))
    maps = {m: explain(synth_model, faces, "true", m, cache=False).maps
            for m in ("gradcam", "saliency")}
    together = deletion_insertion_all(synth_model, faces, maps, faces.labels, steps=6)
    for m, one in maps.items():
        alone = deletion_insertion(synth_model, faces, one, faces.labels, steps=6)
        assert abs(alone["deletion"] - together[m]["deletion"]) < 1e-5
        assert abs(alone["insertion"] - together[m]["insertion"]) < 1e-5
        assert abs(alone["deletion_random"] - together["random"]["deletion"]) < 1e-5
    assert together["gradcam"]["insertion"] != together["saliency"]["insertion"]


def test_fused_copy_folds_batch_norms_and_keeps_the_maps(synth_model, pure):
    from ferviz.explain.checks import fused_copy

    fast = fused_copy(synth_model)
    assert fast is not synth_model and not any(
        isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    faces = pure.select(slice(0, 6))
    for m in ("gradcam", "guided_backprop"):
        a = explain(synth_model, faces, "true", m, cache=False).maps
        b = explain(fast, faces, "true", m, cache=False).maps
        assert np.abs(a - b).max() < 1e-3
