"""Networks written the way users write them (the file a user passes as --arch net.py:Class):
``.view`` after the convolutions, ``x.size(0)`` reshapes and in-place ops, a functional-only
net, and a 3-channel 64x64 input."""

import torch
from torch import nn
from torch.nn import functional as F


class ViewNet(nn.Module):
    """``x.view(-1, self.latent_dim)`` after the convolutions (fails in channels-last)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.latent_dim = 16 * 12 * 12
        self.fc = nn.Linear(self.latent_dim, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = x.view(-1, self.latent_dim)
        return self.fc(x)


class SizeNet(nn.Module):
    """``reshape(x.size(0), -1)``, in-place ReLUs and an in-place residual add."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(4)
        self.fc = nn.Linear(8 * 12 * 12, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        y = self.conv2(x)
        y += x
        x = self.pool(F.relu(y, inplace=True))
        return self.fc(x.reshape(x.size(0), -1))


class FunctionalNet(nn.Module):
    """Parameters only; every operation functional."""

    def __init__(self) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(8, 1, 5, 5) * 0.2)
        self.w2 = nn.Parameter(torch.randn(16, 8, 3, 3) * 0.1)
        self.head = nn.Parameter(torch.randn(7, 16) * 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(F.conv2d(x, self.w1, padding=2)), 2)
        x = F.relu(F.conv2d(x, self.w2, padding=1))
        return F.linear(x.mean((2, 3)), self.head)


class RGB64Net(nn.Module):
    """A 3-channel 64x64 input (--input-size 64 --channels 3)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(16, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


NETS = {"ViewNet": (48, 1), "SizeNet": (48, 1), "FunctionalNet": (48, 1), "RGB64Net": (64, 3)}
