"""mini-Xception (Arriaga et al. 2017, oarriaga/face_classification), about 60k parameters.

``mini_xception`` pads every convolution and pools symmetrically; ``mini_xception_keras`` is
face_classification's Keras ``mini_XCEPTION`` layer for layer (unpadded stem convolutions,
TensorFlow's ``'same'`` max-pools), the target of ``ferviz convert`` for its ``.hdf5`` files.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .registry import register_model


class _SeparableConv(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                         nn.Conv2d(cin, cout, 1, bias=False))


class _SamePool(nn.Module):
    """3x3 stride-2 max-pool with TensorFlow's ``'same'`` padding: the extra row and column of
    an even-sized map go after it, where PyTorch's symmetric padding puts one on each side."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % 2 == 0 and w % 2 == 0:
            return F.max_pool2d(x, 3, 2, ceil_mode=True)
        if h % 2 and w % 2:
            return F.max_pool2d(x, 3, 2, padding=1)
        return F.max_pool2d(F.pad(x, (w % 2, 1, h % 2, 1), value=float("-inf")), 3, 2)


class _Block(nn.Module):
    """Residual depthwise-separable block: two separable convs, a stride-2 pool, 1x1 shortcut."""

    def __init__(self, cin: int, cout: int, keras: bool = False) -> None:
        super().__init__()
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False),
                                      nn.BatchNorm2d(cout))
        self.body = nn.Sequential(
            _SeparableConv(cin, cout), nn.BatchNorm2d(cout), nn.ReLU(),
            _SeparableConv(cout, cout), nn.BatchNorm2d(cout),
            _SamePool() if keras else nn.MaxPool2d(3, stride=2, padding=1))

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class MiniXception(nn.Module):
    incremental_occlusion = True  # layers and residual sums only: see ferviz.explain.incremental

    def __init__(self, num_classes: int = 7, keras: bool = False) -> None:
        super().__init__()
        pad = 0 if keras else 1
        self.stem = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=pad, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=pad, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(*(_Block(cin, cin * 2, keras) for cin in (8, 16, 32, 64)))
        self.head = nn.Conv2d(128, num_classes, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(self.head(self.blocks(self.stem(x)))).flatten(1)


@register_model("mini_xception", cam_layer="blocks.3",
                source="mini-Xception, Arriaga et al. 2017 (face_classification), 66%")
def mini_xception(num_classes: int = 7) -> nn.Module:
    """4 residual depthwise-separable blocks with batchnorm + ReLU, global average pooling."""
    return MiniXception(num_classes)


@register_model("mini_xception_keras", cam_layer="blocks.3",
                source="face_classification's Keras mini_XCEPTION, layer for layer "
                       "(ferviz convert target)")
def mini_xception_keras(num_classes: int = 7) -> nn.Module:
    """mini-Xception with unpadded stem convolutions and TensorFlow 'same' max-pools."""
    return MiniXception(num_classes, keras=True)
