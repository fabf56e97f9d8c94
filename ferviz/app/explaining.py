"""Explanations of given faces for the interactive views: one face's map with its region
shares and captions, gallery overlays, the faces of a photo, a video or the camera, and the
trust verdicts shown beside them (each through :mod:`ferviz.explain`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..data.photos import NoFace  # noqa: F401 (views catch it: no face in a photo)

if TYPE_CHECKING:
    import pandas as pd

    from ..models.fermodel import FERModel


def warm_up() -> None:
    """Import the explanation libraries (pytorch-grad-cam alone takes seconds), so that a
    view's first map comes quickly."""
    import pytorch_grad_cam  # noqa: F401

    import ferviz.explain.cam  # noqa: F401
    import ferviz.explain.gradients  # noqa: F401
    import ferviz.models.load  # noqa: F401


class FaceMap(NamedTuple):
    """One face's map for one method: the map, region shares, title, evidence caption lines
    and why the map must not be read as facial evidence (empty when it may)."""

    map: np.ndarray
    shares: dict[str, float]
    title: str
    caption: list[str]
    warning: str | None


def face_map(model: FERModel, face: np.ndarray, method: str, target: Any) -> FaceMap:
    """The map of one face (1 x H x W) explaining ``target`` with ``method``."""
    from ..explain import explain
    from ..explain.regions import region_shares

    maps = explain(model, face[None] if face.ndim == 2 else face, target=target,
                   method=method, progress=False)
    ev = maps.evidence()
    return FaceMap(maps.maps[0], region_shares(maps.maps).iloc[0].to_dict(),
                   maps.titles()[0], ev.caption(0), ev.warning(0))


def region_areas() -> dict[str, float]:
    """Each face region's share of the image (a uniform map's shares)."""
    from ..explain.regions import area_shares

    return area_shares()


def overlays(model: FERModel, faces: np.ndarray, rows: Sequence[int], method: str,
             scale: int = 2) -> dict[int, list[tuple[str, str]]]:
    """Maps of ``method`` (explaining the predicted class) over the faces at ``rows``, as
    WEBP data URIs per row."""
    from ..explain import explain
    from ..viz.overlays import overlay
    from ..viz.thumbs import image_uri

    some = faces[list(rows)]
    if not len(some):
        return {}
    maps = explain(model, some, target="pred", method=method, progress=False)
    return {r: [(method, image_uri(overlay(f, m, scale=scale), "WEBP"))]
            for r, f, m in zip(rows, some, maps.maps)}


def photo(model: FERModel, path: str | os.PathLike, detect: str, methods: Sequence[str],
          target: Any = "pred") -> list:
    """The faces of a photo, predicted and explained with each method."""
    from ..data.photos import read_photo
    from ..explain.photo import explain_photo

    return explain_photo(read_photo(path, detect=detect), model, list(methods), target)


def video(model: FERModel, path: str | os.PathLike, out: Path, overlay: str | None,
          every: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """A video's summary and per-frame table (the annotated video written to ``out``)."""
    from ..video.run import explain_video

    r = explain_video(path, model, out, force=True, overlay=overlay or None, every=every,
                      progress=False)
    return r.summary, r.table


def video_frame(path: str | os.PathLike, index: int) -> np.ndarray:
    """One frame of a video (BGR)."""
    from ..video.source import read_frame

    return read_frame(path, index)


def live_analyser(model: FERModel, lock: Any) -> Any:
    """An analyser of camera frames (:class:`ferviz.video.live.LiveAnalyser`): faces
    followed, predicted and kept for a rolling timeline; model calls hold ``lock``."""
    from ..video.live import LiveAnalyser

    return LiveAnalyser(model, lock)


def video_face(model: FERModel, path: str | os.PathLike, frame: int,
               box: tuple[int, int, int, int], face_id: int, methods: Sequence[str]) -> list:
    """One face of one video frame, predicted and explained (as a photo's face)."""
    from ..explain.photo import explain_photo
    from ..video.frames import face_records

    return explain_photo(face_records(path, frame, box, face_id), model, list(methods))


def frozen_faces(model: FERModel, faces: np.ndarray, ids: Sequence[str],
                 methods: Sequence[str]) -> list:
    """Faces frozen from the camera, predicted and explained (as a photo's faces)."""
    from ..explain.photo import explain_photo
    from ..video.frames import records_of

    return explain_photo(records_of(faces, ids), model, list(methods))


def verdicts(model: FERModel, faces: np.ndarray, methods: Sequence[str], n: int,
             compute: bool = True, **hooks: Any) -> tuple[dict[str, Any], list[str]]:
    """The trust verdicts of ``methods`` on a seeded sample of ``n`` faces (``compute``
    false: only those cached already), and why the checks of a method could not run (say,
    a CAM method on a TorchScript model): the other methods are still checked. ``hooks``:
    ``on_step`` and ``cancelled`` (:func:`ferviz.explain.trust.verdicts`)."""
    from ..errors import FervizError
    from ..explain.trust import verdicts as checked

    try:
        return checked(model, faces, list(methods), n=n, compute=compute, **hooks), []
    except FervizError:
        found, why = {}, []
        for method in methods:  # one by one: which method cannot be checked
            try:
                found.update(checked(model, faces, [method], n=n, compute=compute, **hooks))
            except FervizError as e:
                why.append(f"{method}: the trust checks could not run ({e})")
        return found, why


def check_passes(methods: Sequence[str], n: int) -> int:
    """Forward passes the trust checks of ``methods`` on ``n`` faces take, roughly."""
    from ..explain.trust import passes

    return passes(methods, n, min(64, n))


def badge(verdict: Any) -> dict[str, Any]:
    """What a view shows beside a method's maps (:func:`ferviz.explain.trust.badge`)."""
    from ..explain.trust import badge as shown

    return shown(verdict)
