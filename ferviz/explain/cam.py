"""The CAM family through pytorch-grad-cam: Grad-CAM, Grad-CAM++, Score-CAM, Eigen-CAM,
Layer-CAM. The library upsamples each CAM from the layer's resolution to the input's and
min-max scales it per image; its hooks are always released.

Two exact speed-ups over calling the library as its README does: with ``targets=None`` the
predicted class comes from the same forward pass the CAM hooks see (no separate prediction
pass), and the backward pass stops at the CAM layer: the parameters are frozen for the call
and the layer's output becomes the leaf the gradients flow to, so no weight gradients and no
gradients below the layer are computed (the CAM only reads the gradient at the layer).
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from .core import released

CamResult = np.ndarray | tuple[np.ndarray, torch.Tensor]


@contextlib.contextmanager
def gradients_from(model: nn.Module, layer: nn.Module) -> Iterator[None]:
    """Within the block, backward passes end at ``layer``'s output: parameters are frozen
    (restored on exit) and the output is made a leaf that requires gradients."""
    frozen = [p for p in model.parameters() if p.requires_grad]

    def leaf(_module: nn.Module, _inputs: object, output: object) -> object:
        if torch.is_tensor(output) and output.grad_fn is None and not output.requires_grad:
            return output.requires_grad_()
        return output

    handle = layer.register_forward_hook(leaf)
    try:
        for p in frozen:
            p.requires_grad_(False)
        yield
    finally:
        handle.remove()
        for p in frozen:
            p.requires_grad_(True)


def _cam(cls_name: str, forward: nn.Module, x: torch.Tensor, targets: torch.Tensor | None,
         layer: nn.Module, batch_size: int | None = None) -> CamResult:
    """The library's CAM of ``targets``; with ``targets=None``, of the predicted classes,
    returned with them."""
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    with gradients_from(forward, layer):  # registered first: runs before the library's hooks
        cam = getattr(pytorch_grad_cam, cls_name)(model=forward, target_layers=[layer])
        if batch_size:
            cam.batch_size = batch_size
        if cls_name == "ScoreCAM":
            cam.get_cam_weights = functools.partial(_batched_scorecam, cam)
        wanted = None if targets is None else [ClassifierOutputTarget(int(t)) for t in targets]
        with released(cam), contextlib.redirect_stderr(io.StringIO()):  # Score-CAM's tqdm bars
            maps = cam(input_tensor=x, targets=wanted)
            if targets is None:
                return maps, cam.outputs.detach().argmax(1)
            return maps


def gradcam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor | None,
            layer: nn.Module) -> CamResult:
    """Grad-CAM (Selvaraju et al. 2017)."""
    return _cam("GradCAM", forward, x, targets, layer)


def gradcam_pp(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor | None,
               layer: nn.Module) -> CamResult:
    """Grad-CAM++ (Chattopadhyay et al. 2018)."""
    return _cam("GradCAMPlusPlus", forward, x, targets, layer)


def scorecam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor | None,
             layer: nn.Module) -> CamResult:
    """Score-CAM (Wang et al. 2020): one forward pass per channel of the layer; the masked
    faces of all the batch's faces go through the model together, ``SCORE_BATCH`` at a time
    (the library scores one face's channels at a time; the maps are the same)."""
    return _cam("ScoreCAM", forward, x, targets, layer, batch_size=SCORE_BATCH)


SCORE_BATCH = 64  # masked faces per forward pass in Score-CAM


def _batched_scorecam(cam: object, input_tensor: torch.Tensor, target_layer: nn.Module,
                      targets: list, activations: np.ndarray, grads: object) -> np.ndarray:
    """``ScoreCAM.get_cam_weights`` with the masked faces of every face in one stream of
    batches: the library's masks (activations upsampled bilinearly, min-max scaled per
    channel), scores and softmax over the channels."""
    from torch.nn import functional as F

    with torch.no_grad():
        a = torch.from_numpy(activations).to(input_tensor.device)
        up = F.interpolate(a, size=input_tensor.shape[-2:], mode="bilinear", align_corners=True)
        flat = up.flatten(2)
        lo, hi = flat.min(-1)[0][..., None, None], flat.max(-1)[0][..., None, None]
        masks = (up - lo) / (hi - lo + 1e-8)
        n, c = masks.shape[:2]
        masked = (input_tensor[:, None] * masks[:, :, None]).flatten(0, 1)
        out = torch.cat([cam.model(b) for b in masked.split(cam.batch_size)]).view(n, c, -1)
        wanted = torch.tensor([t.category for t in targets], device=out.device)
        scores = out.gather(2, wanted.view(-1, 1, 1).expand(-1, c, 1))[..., 0]
        return torch.softmax(scores.float().cpu(), dim=-1).numpy()


def eigencam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor | None,
             layer: nn.Module) -> CamResult:
    """Eigen-CAM (Muhammad and Yeasin 2020): first principal component of the activations
    (class-agnostic: ``targets`` only label the result)."""
    return _cam("EigenCAM", forward, x, targets, layer)


def layercam(forward: nn.Module, x: torch.Tensor, targets: torch.Tensor | None,
             layer: nn.Module) -> CamResult:
    """Layer-CAM (Jiang et al. 2021)."""
    return _cam("LayerCAM", forward, x, targets, layer)
