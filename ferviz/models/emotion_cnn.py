"""The Emotion-detection CNN (atulapra/Emotion-detection) used by the user-specific project."""

from __future__ import annotations

from torch import nn

from .cs230 import _Net
from .registry import register_model


@register_model("emotion_cnn", cam_layer="features.10",
                source="atulapra/Emotion-detection Keras CNN, about 63%")
def emotion_cnn(num_classes: int = 7) -> nn.Module:
    """conv32-conv64-pool-dropout-conv128-pool-conv128-pool-dropout-FC1024-dropout-7 (valid
    padding, as in Keras)."""
    relu = lambda: nn.ReLU()  # noqa: E731
    return _Net(
        nn.Sequential(nn.Conv2d(1, 32, 3), relu(), nn.Conv2d(32, 64, 3), relu(),
                      nn.MaxPool2d(2), nn.Dropout(0.25), nn.Conv2d(64, 128, 3), relu(),
                      nn.MaxPool2d(2), nn.Conv2d(128, 128, 3), relu(), nn.MaxPool2d(2),
                      nn.Dropout(0.25)),
        nn.Sequential(nn.Flatten(), nn.Linear(128 * 4 * 4, 1024), relu(), nn.Dropout(0.5),
                      nn.Linear(1024, num_classes)))
