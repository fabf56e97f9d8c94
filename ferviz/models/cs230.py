"""The Stanford CS230 FER project's CNNs (baseline and five-layer)."""

from __future__ import annotations

from torch import nn

from .registry import register_model

_SOURCE = "Stanford CS230 FER project (Khanzada, Bai, Celepcikay)"


def _conv(cin: int, cout: int, k: int) -> list[nn.Module]:
    """A same-padded conv (explicit padding for even kernels, as Keras pads), BN, ReLU."""
    lo, hi = (k - 1) // 2, k // 2
    conv = [nn.Conv2d(cin, cout, k, padding=lo)] if lo == hi else \
        [nn.ZeroPad2d((lo, hi, lo, hi)), nn.Conv2d(cin, cout, k)]
    return [*conv, nn.BatchNorm2d(cout), nn.ReLU()]


@register_model("cs230_baseline", cam_layer="features.12", source=_SOURCE + ": baseline, 64.0%")
def cs230_baseline(num_classes: int = 7) -> nn.Module:
    """Four 3x3x32 same-padded ReLU convs, two 2x2 max-pools, batchnorm, 50% dropout, FC 1024."""
    return _Net(
        nn.Sequential(*_conv(1, 32, 3), *_conv(32, 32, 3), nn.MaxPool2d(2),
                      *_conv(32, 32, 3), *_conv(32, 32, 3), nn.MaxPool2d(2)),
        nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(32 * 12 * 12, 1024),
                      nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, num_classes)))


@register_model("cs230_five_layer", cam_layer="features.11",
                source=_SOURCE + ": five-layer CNN, 66.3%")
def cs230_five_layer(num_classes: int = 7) -> nn.Module:
    """Convs of 32, 32, 64 filters sized 5x5, 4x4, 5x5, 3x3 max-pools stride 2, batchnorm at
    every layer, FC 1024, 30% dropout."""
    pool = lambda: nn.MaxPool2d(3, stride=2, padding=1)  # noqa: E731
    return _Net(
        nn.Sequential(*_conv(1, 32, 5), pool(), *_conv(32, 32, 4), pool(),
                      *_conv(32, 64, 5), pool()),
        nn.Sequential(nn.Flatten(), nn.Linear(64 * 6 * 6, 1024), nn.BatchNorm1d(1024),
                      nn.ReLU(), nn.Dropout(0.3), nn.Linear(1024, num_classes)))


class _Net(nn.Module):
    """Convolutional ``features`` followed by a ``classifier`` head."""

    incremental_occlusion = True  # a plain layer chain: see ferviz.explain.incremental

    def __init__(self, features: nn.Module, classifier: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(self.features(x))
