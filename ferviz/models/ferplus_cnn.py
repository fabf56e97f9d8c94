"""A FER+ CNN in the style of the seed FER+ Keras project: conv blocks with batchnorm, dropout."""

from __future__ import annotations

from torch import nn

from .cs230 import _Net
from .registry import register_model


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25)]


@register_model("ferplus_cnn", cam_layer="features.21",
                source="Keras CNN on FER+ majority labels (seed FER+ project), about 84%")
def ferplus_cnn(num_classes: int = 7) -> nn.Module:
    """Three conv blocks (32, 64, 128; two 3x3 convs, batchnorm, pool, dropout each), FC 256."""
    return _Net(nn.Sequential(*_block(1, 32), *_block(32, 64), *_block(64, 128)),
                nn.Sequential(nn.Flatten(), nn.Linear(128 * 6 * 6, 256), nn.ReLU(),
                              nn.Dropout(0.5), nn.Linear(256, num_classes)))
