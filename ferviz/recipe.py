"""The training recipe: every option that decides a run, checked before any work starts
(no torch import, so a bad option fails fast)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .data.fer2013 import check_labels
from .errors import FervizError

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant")


def _whole(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise FervizError(f"{name} must be a whole number of at least {low}, not {value!r}")


def _number(name: str, value: object, low: float, high: float = math.inf,
            low_ok: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value) and (low <= value if low_ok else low < value) and value < high
    if not ok:
        bounds = f"{'>=' if low_ok else '>'} {low:g}" + (f" and < {high:g}" if high < math.inf
                                                       else "")
        raise FervizError(f"{name} must be a finite number {bounds}, not {value!r}")


def _choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise FervizError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run; saved in the model card.

    Raises:
        FervizError: on construction, for any option out of its range (named).
    """

    arch: str
    labels: str = "fer2013"
    epochs: int = 60
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adam"
    schedule: str = "cosine"
    augment: bool = True
    class_weights: bool = False
    patience: int = 15
    seed: int = 0
    label_smoothing: float = 0.0
    init: str = ""
    teacher: str = ""
    distill: float = 0.0
    temperature: float = 4.0

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience"):
            _whole(name.replace("_", " "), getattr(self, name), 1)
        _whole("seed", self.seed, 0)
        if self.seed >= 2 ** 63:
            raise FervizError(f"seed must be below 2**63, not {self.seed}")
        _number("learning rate", self.lr, 0.0)
        _number("weight decay", self.weight_decay, 0.0, low_ok=True)
        _number("label smoothing", self.label_smoothing, 0.0, 1.0, low_ok=True)
        _number("distillation weight", self.distill, 0.0, 1.0 + 1e-9, low_ok=True)
        _number("temperature", self.temperature, 0.0)
        if self.distill > 0 and not self.teacher:
            raise FervizError("a distillation weight needs a teacher (--teacher)")
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        check_labels(self.labels)
