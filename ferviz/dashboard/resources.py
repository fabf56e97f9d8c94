"""Cached data sets, models, predictions and explanations, keyed by the specs and their file
stamps (so a file changed on disk is read again). Sessions share them; one lock serialises
model calls, since explanation hooks must not see another session's forward pass."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ..specs import DataSpec, ModelSpec

WORTH_A_CLICK = 10.0  # seconds: longer work waits for a Run click


@st.cache_resource(show_spinner=False)
def torch_lock() -> threading.RLock:
    return threading.RLock()


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Import the explanation libraries in the background (pytorch-grad-cam alone takes
    seconds), so the first saliency panel is quick."""
    def work() -> None:
        time.sleep(2)  # let the first page draw first
        import pytorch_grad_cam  # noqa: F401

        import ferviz.explain.cam  # noqa: F401
        import ferviz.explain.gradients  # noqa: F401
        import ferviz.models.load  # noqa: F401
    thread = threading.Thread(target=work, name="ferviz-warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False, max_entries=4)
def _all_records(ds: DataSpec, stamp: str):
    return ds.open_all()


def all_records(ds: DataSpec):
    """Every face of a data set."""
    return _all_records(ds.with_split(None), ds.stamp())


@st.cache_resource(show_spinner=False, max_entries=8)
def _records(ds: DataSpec, stamp: str):
    records = all_records(ds)
    return records.split(ds.split) if ds.split else records


def records(ds: DataSpec):
    """The faces of the spec's split."""
    return _records(ds, ds.stamp())


def faces(ds: DataSpec) -> np.ndarray:
    return records(ds).images()


@st.cache_resource(show_spinner=False, max_entries=6)
def _model(ms: ModelSpec, stamp: str):
    return ms.load()


def model(ms: ModelSpec):
    return _model(ms, ms.stamp())


@st.cache_data(show_spinner=False, max_entries=16, persist="disk")
def _predictions(ms: ModelSpec, ds: DataSpec, tta: bool, stamps: tuple[str, str]
                 ) -> pd.DataFrame:
    from ..app.tasks import predictions as run

    with torch_lock():
        return run(model(ms), records(ds), tta)


def predictions(ms: ModelSpec, ds: DataSpec, tta: bool) -> pd.DataFrame:
    """The predictions table (the core caches it as parquet; this copy, kept by Streamlit on
    disk too, lets the first page draw before torch is even imported)."""
    return _predictions(ms, ds, tta, (ms.stamp(), ds.stamp()))


def predicted(ms: ModelSpec, ds: DataSpec, tta: bool) -> bool:
    """Whether the predictions are already on disk (no model work to wait for)."""
    from ..predict import cache_path

    return cache_path(model(ms), records(ds), tta).is_file()


@st.cache_data(show_spinner=False, max_entries=64)
def _seconds_per_face(ms: ModelSpec, stamp: str, tta: bool) -> float:
    """Measured: one pass over 256 faces in one batch, as the real run batches them (all 10
    views with TTA: augmenting costs too), per face. (32 faces overestimated tenfold: a small
    batch costs mostly overhead.)"""
    from ..predict import predict_proba

    x = np.zeros((256, 48, 48), np.uint8)
    with torch_lock():
        predict_proba(model(ms), x[:32], tta, progress=False)  # warm up
        t = time.perf_counter()
        predict_proba(model(ms), x, tta, progress=False)
    return (time.perf_counter() - t) / len(x)


def estimate(ms: ModelSpec, n: int, tta: bool) -> float:
    """Seconds to predict ``n`` faces (with TTA if asked), from a measured pass."""
    return _seconds_per_face(ms, ms.stamp(), tta) * n


def scores(ms: ModelSpec, ds: DataSpec, tta: bool) -> dict[str, Any]:
    """The Overview's numbers and tables, and the confusion matrices."""
    return _scores(predictions(ms, ds, tta))


@st.cache_data(show_spinner=False, max_entries=16)
def _scores(df: pd.DataFrame) -> dict[str, Any]:
    from ..analysis.confusions import top_confusions
    from ..analysis.groups import default_cluster, intervals
    from ..analysis.metrics import class_report, confusion, summary

    return {"ci": intervals(df, default_cluster(df)), "summary": summary(df),
            "report": class_report(df), "top": top_confusions(df), "counts": confusion(df),
            "rates": confusion(df, normalize=True)}


@st.cache_data(show_spinner=False, max_entries=16)
def warnings(ms: ModelSpec, ds: DataSpec, tta: bool) -> list[str]:
    """The application layer's warnings and notes on this model and split (domain, leak,
    preprocessing), as ``ferviz evaluate`` and the report show them."""
    from ..app.tasks import scored

    ev = scored(predictions(ms, ds, tta), records(ds), model(ms), ds,
                check_preprocessing=not ms.is_zoo())
    return [*ev.warnings, *(f"note: {n}" for n in ev.notes)]


@st.cache_resource(show_spinner=False, max_entries=4)
def _audit(ds: DataSpec, near: int, stamp: str):
    from ..app.audit import audit_records

    return audit_records(all_records(ds), near=near or None)


def audit(ds: DataSpec, near: int):
    """The audit of the whole data set (every split)."""
    return _audit(ds.with_split(None), near, ds.stamp())


@st.cache_data(show_spinner=False, max_entries=1024)
def face_saliency(ms: ModelSpec, ds: DataSpec, row: int, method: str, target: str):
    """One face's map, region shares, title, evidence caption and whether the map must not be
    read as facial evidence, for one method."""
    from ..explain import explain
    from ..explain.regions import region_shares

    face = faces(ds)[row:row + 1]
    with torch_lock():
        maps = explain(model(ms), face, target=target, method=method, progress=False)
    shares = region_shares(maps.maps).iloc[0].to_dict()
    ev = maps.evidence()
    return maps.maps[0], shares, maps.titles()[0], ev.caption(0), ev.warning(0)


@st.cache_data(show_spinner=False, max_entries=256)
def gallery_block(ms: ModelSpec, ds: DataSpec, tta: bool, rows: tuple[int, ...],
                  overlay_method: str, hrefs: tuple[str, ...], name: str,
                  extra: tuple = ()) -> str:
    """A gallery of table rows as one HTML block (optionally with saliency overlays, and
    ``extra`` (name, 7 probabilities) bars per row, e.g. a second model's)."""
    from ..table import PROBS
    from ..viz.gallery import Gallery
    from ..viz.html import gallery_html

    df = predictions(ms, ds, tta)
    overlays = _overlays(ms, ds, rows, overlay_method) if overlay_method else {}
    g = Gallery.of(df, faces(ds), overlays)
    items = [g.item(r, probs=[(lab, pd.Series(p, index=PROBS))] if lab else ())
             for r, (lab, p) in zip(rows, extra or [("", ())] * len(rows))]
    return gallery_html(items, list(hrefs), name)


def _overlays(ms: ModelSpec, ds: DataSpec, rows: tuple[int, ...], method: str) -> dict:
    """Saliency overlays (WEBP data URIs) of some rows for the gallery."""
    from ..explain import explain
    from ..viz.overlays import overlay
    from ..viz.thumbs import image_uri

    some = faces(ds)[list(rows)]
    if not len(some):
        return {}
    with torch_lock():
        maps = explain(model(ms), some, target="pred", method=method, progress=False)
    return {r: [(method, image_uri(overlay(f, m, scale=2), "WEBP"))]
            for r, f, m in zip(rows, some, maps.maps)}


@st.cache_data(show_spinner=False, max_entries=64)
def photo_results(ms: ModelSpec, path: str, detect: str, methods: tuple[str, ...],
                  target: str):
    """Faces of an uploaded photo, predicted and explained."""
    from ..data.photos import read_photo
    from ..explain.photo import explain_photo

    found = read_photo(path, detect=detect)
    with torch_lock():
        return explain_photo(found, model(ms), list(methods), target)


@st.cache_data(show_spinner=False, max_entries=8)
def _video(ms: ModelSpec, path: str, stamps: tuple[str, str], overlay: str, every: int
           ) -> tuple[dict[str, Any], pd.DataFrame]:
    import hashlib
    from pathlib import Path

    from ..cache import cache_dir
    from ..video.run import explain_video

    key = hashlib.blake2b(repr((ms, path, stamps, overlay, every)).encode(),
                          digest_size=12).hexdigest()
    out = cache_dir("video") / key / f"{Path(path).stem}.saliency.mp4"
    with torch_lock():
        r = explain_video(path, model(ms), out, force=True, overlay=overlay or None,
                          every=every, progress=False)
    return r.summary, r.table


def video(ms: ModelSpec, path: str, overlay: str, every: int
          ) -> tuple[dict[str, Any], pd.DataFrame]:
    """A video's summary and per-frame table; its outputs are written under the cache."""
    from ..specs import file_stamp

    return _video(ms, path, (ms.stamp(), file_stamp(path)), overlay, every)


@st.cache_data(show_spinner=False, max_entries=64)
def _video_face(ms: ModelSpec, path: str, stamps: tuple[str, str], frame: int,
                box: tuple[int, int, int, int], face_id: int, methods: tuple[str, ...]):
    from ..explain.photo import explain_photo
    from ..video.frames import face_records

    with torch_lock():
        return explain_photo(face_records(path, frame, box, face_id), model(ms), list(methods))


def video_face(ms: ModelSpec, path: str, frame: int, box: tuple[int, int, int, int],
               face_id: int, methods: tuple[str, ...]):
    """One face of one video frame, predicted and explained (as a photo's face)."""
    from ..specs import file_stamp

    return _video_face(ms, path, (ms.stamp(), file_stamp(path)), frame, box, face_id, methods)


@st.cache_data(show_spinner=False, max_entries=16)
def frozen_faces(ms: ModelSpec, faces: np.ndarray, ids: tuple[str, ...],
                 methods: tuple[str, ...]):
    """Faces frozen from the live camera, predicted and explained (as a photo's faces)."""
    from ..explain.photo import explain_photo
    from ..video.frames import records_of

    with torch_lock():
        return explain_photo(records_of(faces, ids), model(ms), list(methods))


@st.cache_resource(show_spinner=False, max_entries=4)
def _job(folder: str, stamp: str):
    from pathlib import Path

    from ..analysis.parts import Parts

    parts = Parts(Path(folder))
    parts.summary  # read once: the summary is all the first charts need
    return parts


def job(folder):
    """A sharded job's output, opened lazily (re-read when its summary changes)."""
    from ..analysis.parts import SUMMARY
    from ..specs import file_stamp

    return _job(str(folder), file_stamp(folder / SUMMARY))
