"""Explanations: one :func:`explain` call for every method in :data:`METHODS`.

    from ferviz.explain import explain
    maps = explain(model, faces, target="pred", method="occlusion")
    maps.maps  # N x 48 x 48 float32 in [0, 1]

Face-region shares are in :mod:`ferviz.explain.regions`, sanity and faithfulness checks in
:mod:`ferviz.explain.checks`.
"""

from .core import SaliencyMaps, explain
from .registry import METHODS, Method, get_method, register_method

__all__ = ["METHODS", "Method", "SaliencyMaps", "explain", "get_method", "register_method"]
