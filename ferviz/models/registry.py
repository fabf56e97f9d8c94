"""A timm-style architecture registry: ``@register_model``, ``list_models``, ``create_model``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import FervizError
from .card import ModelCard

_BUILDERS: dict[str, Callable[..., Any]] = {}
_CARDS: dict[str, ModelCard] = {}
# Modules whose import registers architectures (they import torch, so they load on demand).
ARCH_MODULES = ("cs230", "xception", "emotion_cnn", "ferplus_cnn", "synth_cnn", "transfer")


def register_model(name: str, **card: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a builder under ``name`` with its default card fields."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _BUILDERS:
            raise ValueError(f"architecture {name} is registered twice")
        _BUILDERS[name] = fn
        _CARDS[name] = ModelCard(arch=name, name=name, **card)
        return fn
    return wrap


def _load_all() -> None:
    for module in ARCH_MODULES:
        importlib.import_module(f"ferviz.models.{module}")


def list_models() -> list[str]:
    """Names of all registered architectures."""
    _load_all()
    return sorted(_BUILDERS)


def default_card(name: str) -> ModelCard:
    """The default card of a registered architecture."""
    _load_all()
    if name not in _CARDS:
        raise FervizError(f"unknown architecture {name!r}; registered: {', '.join(sorted(_CARDS))}")
    return _CARDS[name]


def create_model(name: str, num_classes: int | None = None, **kwargs: Any):
    """Build a registered architecture with random weights, and its card.

    Returns:
        (network, card); the card's param count is filled in.
    """
    card = default_card(name)
    n = num_classes or len(card.labels)
    net = _BUILDERS[name](num_classes=n, **kwargs)
    params = sum(p.numel() for p in net.parameters())
    return net, replace(card, params=params)
