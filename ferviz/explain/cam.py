"""The CAM family through pytorch-grad-cam: Grad-CAM, Grad-CAM++, Score-CAM, Eigen-CAM,
Layer-CAM. The library upsamples each CAM from the layer's resolution to the input's and
min-max scales it per image; its hooks are always released."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import torch
from torch import nn

from .core import released


def _cam(cls_name: str, forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
         layer: nn.Module, batch_size: int | None = None) -> np.ndarray:
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    cam = getattr(pytorch_grad_cam, cls_name)(model=forward, target_layers=[layer])
    if batch_size:
        cam.batch_size = batch_size
    with released(cam), contextlib.redirect_stderr(io.StringIO()):  # Score-CAM's tqdm bars
        return cam(input_tensor=x, targets=[ClassifierOutputTarget(int(t)) for t in targets])


def gradcam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
            layer: nn.Module) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017)."""
    return _cam("GradCAM", forward, x, targets, layer)


def gradcam_pp(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
               layer: nn.Module) -> np.ndarray:
    """Grad-CAM++ (Chattopadhyay et al. 2018)."""
    return _cam("GradCAMPlusPlus", forward, x, targets, layer)


def scorecam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
             layer: nn.Module) -> np.ndarray:
    """Score-CAM (Wang et al. 2020): one forward pass per channel of the layer."""
    return _cam("ScoreCAM", forward, x, targets, layer, batch_size=64)


def eigencam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
             layer: nn.Module) -> np.ndarray:
    """Eigen-CAM (Muhammad and Yeasin 2020): first principal component of the activations
    (class-agnostic)."""
    return _cam("EigenCAM", forward, x, targets, layer)


def layercam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor,
             layer: nn.Module) -> np.ndarray:
    """Layer-CAM (Jiang et al. 2021)."""
    return _cam("LayerCAM", forward, x, targets, layer)
