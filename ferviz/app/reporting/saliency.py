"""Saliency for the report through :mod:`ferviz.explain`, degrading to a message while that
package (or :mod:`ferviz.viz.overlays`) cannot be imported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...errors import FervizError
from ...labels import EMOTIONS
from ...viz.thumbs import image_uri

if TYPE_CHECKING:
    from ...models.fermodel import FERModel

MAX_SIDE = 64  # overlays larger than this are shrunk to keep the report small


def unavailable() -> str | None:
    """Why saliency cannot be computed here, or None when it can."""
    try:
        from ...explain import explain  # noqa: F401
        from ...explain.regions import class_table  # noqa: F401
        from ...viz.overlays import overlay  # noqa: F401
    except ImportError as e:
        return f"saliency is unavailable in this installation ({e})"
    return None


@dataclass
class Saliency:
    """Overlays per face row and the per-class region table of
    :func:`ferviz.explain.regions.class_table` (with its ``area`` row), or why there are none.
    ``evidence`` holds, per row and in the order of its overlays, what must be shown beside
    each: ``title`` (class-agnostic methods name no class), ``caption`` (off-face share
    first), ``badge`` (:func:`ferviz.explain.trust.badge` of the method), ``warning`` (an
    evidence flag, or the method failed its trust check) and the JSON ``evidence`` of
    :class:`ferviz.explain.evidence.Evidence`. ``trust`` holds the badge of every method
    that made maps, with the verdict's numbers when it was checked. ``region_note`` says
    which regions the table was read with (:meth:`ferviz.explain.face_masks.RegionsUsed.line`)."""

    overlays: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    evidence: dict[int, list[dict]] = field(default_factory=dict)
    trust: dict[str, dict] = field(default_factory=dict)
    regions: pd.DataFrame | None = None
    region_method: str = ""
    region_note: str = ""
    note: str | None = None


def _shrink(rgb: np.ndarray) -> np.ndarray:
    if max(rgb.shape[:2]) <= MAX_SIDE:
        return rgb
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((MAX_SIDE, MAX_SIDE), Image.LANCZOS))


def check_methods(methods: Sequence[str]) -> None:
    """Fail early on unknown method names (when explanations are available at all).

    Raises:
        FervizError: for a name :mod:`ferviz.explain` does not know, listing those it does.
    """
    if methods and unavailable() is None:
        from ...explain.registry import get_method

        for method in methods:
            get_method(method)


def compute(model: FERModel | None, faces: np.ndarray | None, rows: Sequence[int],
            methods: Sequence[str],
            region_rows: dict[str, Sequence[int]], check: bool = False,
            fit: Callable[[list[int]], Sequence] | None = None) -> Saliency:
    """Overlays of ``rows`` (explaining the predicted class) for each method, and the mean
    region shares per class of the first method that works over ``region_rows`` (each face
    read with its own landmark regions where ``fit``, given face rows, returns reliable
    landmarks for it, as :func:`ferviz.data.source_landmarks.fit_records`); with the
    trust verdict of each method on these faces (:func:`ferviz.explain.trust.verdicts`):
    computed when ``check``, else read from the cache (``ferviz checks`` on the same faces
    fills it), else "not checked".

    A method that fails on this model (say Grad-CAM without a convolution layer) is left out
    and named in the note; the rest of the report still renders.

    Raises:
        FervizError: for an unknown method name.
    """
    reason = unavailable() if methods else "no saliency method was asked for"
    if reason or model is None or faces is None:
        return Saliency(note=reason or "saliency needs the model and the face images")
    from ...explain import explain
    from ...explain.face_masks import choose
    from ...explain.regions import class_table
    from ...viz.overlays import overlay

    check_methods(methods)
    rows = list(dict.fromkeys(int(r) for r in rows))
    picked = [(i, int(r)) for i, c in enumerate(EMOTIONS) for r in region_rows.get(c, ())]
    own, used = choose(fit([r for _, r in picked]) if fit and picked else None, len(picked))
    out, failed = Saliency(region_note=used.line()), []
    for method in methods:
        try:
            maps = explain(model, faces[rows], target="pred", method=method) if rows else None
            if picked and out.regions is None:
                shares = explain(model, faces[[r for _, r in picked]], target="pred",
                                 method=method).maps
                out.regions = class_table(shares, [i for i, _ in picked], faces=own)
                out.region_method = method
        except FervizError as e:
            failed.append(f"{method} failed on this model ({e})")
            continue
        out.trust[method] = {}
        if maps is None:
            continue
        ev, titles = maps.evidence(), maps.titles()
        for i, (r, m) in enumerate(zip(rows, maps.maps)):
            out.overlays.setdefault(r, []).append(
                (method, image_uri(_shrink(overlay(faces[r], m)), "WEBP")))
            out.evidence.setdefault(r, []).append(
                {"method": method, "title": titles[i], "caption": ev.caption(i),
                 "warning": ev.warning(i), "evidence": ev.to_dict(i)})
    failed += _badges(out, model, faces, check)
    if failed:
        out.note = "; ".join(failed)
    elif not out.overlays and out.regions is None:
        out.note = "no face needed an explanation"
    return out


def _badges(out: Saliency, model: FERModel, faces: np.ndarray, check: bool) -> list[str]:
    """The trust badge of every method that made maps, added to the captions (a failed
    check turns each of the method's captions into a warning); why the checks could not
    run, if they could not."""
    from ...explain.trust import badge, verdicts

    try:
        found = verdicts(model, faces, list(out.trust), compute=check) if out.trust else {}
        why = []
    except FervizError as e:
        found, why = {}, [f"the trust checks failed on this model ({e})"]
    for method in out.trust:
        v = found.get(method)
        out.trust[method] = {**badge(v), **({"verdict": v.to_dict()} if v else {})}
    for entries in out.evidence.values():
        for e in entries:
            b = out.trust[e["method"]]
            e["badge"], e["warning"] = b, e["warning"] or b["warning"]
    return why
