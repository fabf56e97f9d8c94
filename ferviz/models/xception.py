"""mini-Xception (Arriaga et al. 2017, oarriaga/face_classification), about 60k parameters."""

from __future__ import annotations

from torch import nn

from .registry import register_model


class _SeparableConv(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                         nn.Conv2d(cin, cout, 1, bias=False))


class _Block(nn.Module):
    """Residual depthwise-separable block: two separable convs, a stride-2 pool, 1x1 shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=2, bias=False),
                                      nn.BatchNorm2d(cout))
        self.body = nn.Sequential(
            _SeparableConv(cin, cout), nn.BatchNorm2d(cout), nn.ReLU(),
            _SeparableConv(cout, cout), nn.BatchNorm2d(cout),
            nn.MaxPool2d(3, stride=2, padding=1))

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class MiniXception(nn.Module):
    incremental_occlusion = True  # layers and residual sums only: see ferviz.explain.incremental

    def __init__(self, num_classes: int = 7) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(_Block(8, 16), _Block(16, 32), _Block(32, 64),
                                    _Block(64, 128))
        self.head = nn.Conv2d(128, num_classes, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(self.head(self.blocks(self.stem(x)))).flatten(1)


@register_model("mini_xception", cam_layer="blocks.3",
                source="mini-Xception, Arriaga et al. 2017 (face_classification), 66%")
def mini_xception(num_classes: int = 7) -> nn.Module:
    """4 residual depthwise-separable blocks with batchnorm + ReLU, global average pooling."""
    return MiniXception(num_classes)
