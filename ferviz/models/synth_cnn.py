"""A tiny CNN for the FER-Synth demo set; it trains in seconds on a CPU."""

from __future__ import annotations

from torch import nn

from .cs230 import _Net
from .registry import register_model


@register_model("synth_cnn", cam_layer="features.10", source="ferviz FER-Synth demo model")
def synth_cnn(num_classes: int = 7) -> nn.Module:
    """Three conv-batchnorm-ReLU-pool stages (16, 32, 64), global average pooling, linear."""
    stage = lambda cin, cout: [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),  # noqa: E731
                               nn.ReLU()]
    return _Net(
        nn.Sequential(*stage(1, 16), nn.MaxPool2d(2), *stage(16, 32), nn.MaxPool2d(2),
                      *stage(32, 64), nn.MaxPool2d(2)),
        nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, num_classes)))
