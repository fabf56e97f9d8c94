"""Gradient attributions through captum: Integrated Gradients, Saliency, Guided Backprop and
Guided Grad-CAM. Maps are summed over input channels."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
from torch import nn


def integrated_gradients(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
                         n_steps: int = 32, baseline: float = 0.5) -> torch.Tensor:
    """Integrated Gradients (Sundararajan et al. 2017) from a uniform ``baseline`` face; the
    internal batch is bounded to 256 interpolated faces."""
    from captum.attr import IntegratedGradients

    attr = IntegratedGradients(forward).attribute(
        x.requires_grad_(), baselines=baseline, target=targets, n_steps=n_steps,
        internal_batch_size=max(len(x), 64))
    return attr.sum(1)


def saliency(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Vanilla gradients (Simonyan et al. 2014), absolute value."""
    from captum.attr import Saliency

    return Saliency(forward).attribute(x.requires_grad_(), target=targets, abs=True).sum(1)


def guided_backprop(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Guided Backpropagation (Springenberg et al. 2015); needs ``nn.ReLU`` modules."""
    from captum.attr import GuidedBackprop

    with _quiet_hooks():
        return GuidedBackprop(forward).attribute(x.requires_grad_(), target=targets).sum(1)


def guided_gradcam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
                   layer: nn.Module) -> torch.Tensor:
    """Guided Grad-CAM: guided backprop times the layer's Grad-CAM, upsampled."""
    from captum.attr import GuidedGradCam

    with _quiet_hooks():
        attr = GuidedGradCam(forward, layer).attribute(x.requires_grad_(), target=targets,
                                                       interpolate_mode="bilinear")
    return attr.sum(1)


@contextlib.contextmanager
def _quiet_hooks() -> Iterator[None]:
    """Silence captum's notice that it hooks (and afterwards unhooks) the ReLUs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
        yield
