"""FERModel: any network plus its card, seen as faces in [0, 1] -> 7 emotion logits."""

from __future__ import annotations

import hashlib

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import FervizError
from ..labels import EMOTIONS, INDEX, canonical
from .card import ModelCard


def _target_index(label: str) -> int | None:
    """Which of the 7 emotions a network class feeds (contempt merges into neutral)."""
    if label == "contempt":
        return INDEX["neutral"]
    emotion = canonical(label)
    return None if emotion is None else INDEX[emotion]


class FERModel(nn.Module):
    """Wraps a network so every model looks the same to ferviz.

    Input: N x 1 x 48 x 48 float faces in [0, 1]. Output: N x 7 logits in
    :data:`ferviz.labels.EMOTIONS` order. Resizing, channel repetition and normalisation
    come from the card; other label orders are mapped (FER+ contempt merges into neutral,
    unknown / not-a-face classes are dropped), and probability outputs become log-probabilities.
    """

    def __init__(self, net: nn.Module, card: ModelCard) -> None:
        super().__init__()
        self.net = net
        self.card = card
        self.register_buffer("_mean", torch.tensor(float(card.mean)), persistent=False)
        self.register_buffer("_std", torch.tensor(float(card.std)), persistent=False)
        targets = [_target_index(label) for label in card.labels]
        if {t for t in targets if t is not None} != set(range(len(EMOTIONS))):
            raise FervizError(f"label order {', '.join(card.labels)} does not cover the 7 "
                              f"emotions {', '.join(EMOTIONS)}")
        self._targets = targets
        self._identity = targets == list(range(len(EMOTIONS))) and card.output == "logits"
        self._normalise = (card.mean, card.std) != (0.0, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.card.input_size
        if x.shape[-1] != size or x.shape[-2] != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        if self.card.channels == 3:
            x = x.expand(-1, 3, -1, -1)
        return self.emotions(self.raw(x, resized=True))

    def raw(self, x: torch.Tensor, resized: bool = False) -> torch.Tensor:
        """The network's own outputs (checked: N x classes floats) for N x 1 x H x W faces in
        [0, 1], before the conversion to the 7 emotions."""
        if not resized:
            size = self.card.input_size
            if x.shape[-1] != size or x.shape[-2] != size:
                x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            if self.card.channels == 3:
                x = x.expand(-1, 3, -1, -1)
        if self._normalise:
            x = (x - self._mean) / self._std
        return self._checked(self.net(x), len(x))

    def emotions(self, out: torch.Tensor) -> torch.Tensor:
        """The network's raw outputs -> the 7 emotion logits this model returns."""
        return out if self._identity else self._to_emotions(out)

    def _checked(self, out: object, n: int) -> torch.Tensor:
        """The network's output if it is an n x classes float tensor, else a FervizError."""
        name, classes = self.card.name or self.card.arch, len(self.card.labels)
        if not torch.is_tensor(out):
            raise FervizError(f"{name}: the network returns a {type(out).__name__}, not one "
                              f"tensor of class scores; make forward return a N x {classes} "
                              "tensor")
        if not out.is_floating_point():
            raise FervizError(f"{name}: the network returns {str(out.dtype).split('.')[-1]} "
                              "values, not scores (logits or probabilities)")
        if out.ndim != 2 or out.shape[0] != n:
            raise FervizError(f"{name}: the network returns shape {tuple(out.shape)} for {n} "
                              f"faces; expected {n} x {classes}")
        if out.shape[1] != classes:
            raise FervizError(f"{name}: the model outputs {out.shape[1]} classes but its label "
                              f"order has {classes} ({', '.join(self.card.labels)}); pass "
                              "--label-order")
        return out

    def _to_emotions(self, out: torch.Tensor) -> torch.Tensor:
        if self.card.output == "logits":
            logp = F.log_softmax(out, dim=1)
        elif self.card.output == "probs":
            logp = torch.log(out.clamp_min(1e-12))
        elif self.card.output == "sigmoid":  # independent scores: renormalised
            s = out.clamp_min(1e-12)
            logp = torch.log(s / s.sum(dim=1, keepdim=True))
        else:
            logp = out
        columns = []
        for e in range(len(EMOTIONS)):
            src = [j for j, t in enumerate(self._targets) if t == e]
            columns.append(logp[:, src[0]] if len(src) == 1 else
                           torch.logsumexp(logp[:, src], dim=1))
        return torch.stack(columns, dim=1)

    def cam_layer(self, path: str | None = None) -> nn.Module:
        """The Grad-CAM target layer (the card's, or ``path`` inside the network).

        Raises:
            FervizError: if the layer does not exist.
        """
        path = path or self.card.cam_layer
        modules = dict(self.net.named_modules())
        if path and path in modules:
            return modules[path]
        convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
        if isinstance(self.net, torch.jit.ScriptModule):
            raise FervizError(f"{self.card.name}: CAM methods need layer hooks, which "
                              "TorchScript models do not take; use occlusion or a gradient "
                              "method, or load the model as a state dict with --arch")
        if not path:
            raise FervizError(f"{self.card.name} has no convolution module with a spatial "
                              "output for CAM methods; name a layer with --cam-layer NAME, or "
                              "use occlusion or a gradient method")
        raise FervizError(f"no layer {path!r} in {self.card.name}; convolution layers: "
                          f"{', '.join(convs[-5:]) or 'none'} (--cam-layer NAME)")

    def digest(self) -> str:
        """Hash of the weights and of the card fields that change outputs (cache key)."""
        h = hashlib.blake2b(digest_size=16)
        c = self.card
        h.update(repr((c.arch, c.input_size, c.channels, c.mean, c.std, c.labels, c.output))
                 .encode())
        for name, tensor in self.net.state_dict().items():
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()


class Ensemble(nn.Module):
    """Averages the probabilities of several FERModels; outputs log of the mean.

    Declares ``members`` and :meth:`combine` (its output from the members' outputs), so that
    occlusion can run each member by its own fastest path.
    """

    def __init__(self, members: list[FERModel]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.combine([m(x) for m in self.members])

    @staticmethod
    def combine(outputs: list[torch.Tensor]) -> torch.Tensor:
        """The ensemble's output from its members' (log of the mean probability)."""
        probs = torch.stack([F.softmax(o, dim=1) for o in outputs]).mean(0)
        return torch.log(probs.clamp_min(1e-12))
