"""The explanation-method registry: one table, resolved lazily so that a command imports
only the libraries its methods need (pytorch-grad-cam alone costs seconds)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import FervizError


@dataclass(frozen=True)
class Method:
    """One explanation method.

    Attributes:
        name: registry key, e.g. ``gradcam``.
        target: ``module:function`` computing raw N x H x W maps (see :mod:`ferviz.explain.core`).
        family: ``perturbation``, ``cam`` or ``gradient``.
        library: where the algorithm comes from.
        sign: how raw attributions become [0, 1] maps: ``positive`` (keep evidence for the
            target) or ``absolute`` (magnitude).
        score: the model output explained by default: ``prob`` or ``logit``.
        batch_size: images per internal batch (bounds memory).
        needs_layer: whether the method uses the card's CAM layer.
        class_agnostic: the map does not depend on the explained class (Eigen-CAM: the first
            principal component of the activations); such maps never name a class and cannot
            explain a contrast.
        predicts: called with ``targets=None`` the function explains the predicted class from
            its own forward pass and returns ``(maps, predicted classes)``: ``target="pred"``
            then costs no separate prediction pass.
        defaults: default options.
    """

    name: str
    target: str
    family: str
    library: str
    sign: str = "positive"
    score: str = "logit"
    batch_size: int = 64
    needs_layer: bool = False
    class_agnostic: bool = False
    predicts: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)

    def function(self) -> Callable[..., Any]:
        module, fn = self.target.split(":")
        return getattr(importlib.import_module(module), fn)


_CAM = "ferviz.explain.cam"
_GRAD = "ferviz.explain.gradients"
_CAM_KW: dict[str, Any] = {"needs_layer": True, "predicts": True, "batch_size": 256}
METHODS: dict[str, Method] = {m.name: m for m in (
    Method("occlusion", "ferviz.explain.occlusion:occlusion", "perturbation",
           "ferviz (captum-exact engine)", score="prob", batch_size=512, predicts=True,
           defaults={"window": 8, "stride": 4, "baseline": 0.5}),
    Method("gradcam", f"{_CAM}:gradcam", "cam", "pytorch-grad-cam", **_CAM_KW),
    Method("gradcam++", f"{_CAM}:gradcam_pp", "cam", "pytorch-grad-cam", **_CAM_KW),
    Method("scorecam", f"{_CAM}:scorecam", "cam", "pytorch-grad-cam", **{**_CAM_KW,
           "batch_size": 16}),
    Method("eigencam", f"{_CAM}:eigencam", "cam", "pytorch-grad-cam", class_agnostic=True,
           **_CAM_KW),
    Method("layercam", f"{_CAM}:layercam", "cam", "pytorch-grad-cam", **_CAM_KW),
    Method("integrated_gradients", f"{_GRAD}:integrated_gradients", "gradient", "captum",
           sign="absolute", batch_size=16, defaults={"n_steps": 32, "baseline": 0.5}),
    Method("saliency", f"{_GRAD}:saliency", "gradient", "captum", sign="absolute"),
    Method("guided_backprop", f"{_GRAD}:guided_backprop", "gradient", "captum",
           sign="absolute"),
    Method("guided_gradcam", f"{_GRAD}:guided_gradcam", "gradient", "captum",
           sign="absolute", needs_layer=True),
)}
ALIASES = {"grad-cam": "gradcam", "gradcampp": "gradcam++", "grad-cam++": "gradcam++",
           "score-cam": "scorecam", "eigen-cam": "eigencam", "layer-cam": "layercam",
           "ig": "integrated_gradients", "integrated-gradients": "integrated_gradients",
           "guided-backprop": "guided_backprop", "guided-gradcam": "guided_gradcam"}


def get_method(name: str) -> Method:
    """The registered method called ``name`` (or one of its aliases).

    Raises:
        FervizError: for an unknown name.
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key not in METHODS:
        raise FervizError(f"unknown explanation method {name!r}; available: "
                          f"{', '.join(METHODS)}")
    return METHODS[key]


def register_method(method: Method) -> Method:
    """Add a method to the registry (its ``target`` function is imported when first used).

    Raises:
        FervizError: if the name is taken.
    """
    if method.name in METHODS:
        raise FervizError(f"explanation method {method.name} is registered already")
    METHODS[method.name] = method
    return method
