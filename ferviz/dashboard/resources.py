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
        from ..app.explaining import warm_up

        warm_up()
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
    from ..app.predicting import predictions as run

    with torch_lock():
        return run(model(ms), records(ds), tta)


def predictions(ms: ModelSpec, ds: DataSpec, tta: bool) -> pd.DataFrame:
    """The predictions table (the core caches it as parquet; this copy, kept by Streamlit on
    disk too, lets the first page draw before torch is even imported)."""
    return _predictions(ms, ds, tta, (ms.stamp(), ds.stamp()))


def predicted(ms: ModelSpec, ds: DataSpec, tta: bool) -> bool:
    """Whether the predictions are already on disk (no model work to wait for)."""
    from ..app.predicting import predicted as cached

    return cached(model(ms), records(ds), tta)


@st.cache_data(show_spinner=False, max_entries=64)
def _seconds_per_face(ms: ModelSpec, stamp: str, tta: bool) -> float:
    from ..app.predicting import seconds_per_face

    with torch_lock():
        return seconds_per_face(model(ms), tta)


def estimate(ms: ModelSpec, n: int, tta: bool) -> float:
    """Seconds to predict ``n`` faces (with TTA if asked), from a measured pass."""
    return _seconds_per_face(ms, ms.stamp(), tta) * n


def scores(ms: ModelSpec, ds: DataSpec, tta: bool) -> dict[str, Any]:
    """The Overview's numbers and tables, and the confusion matrices."""
    return _scores(predictions(ms, ds, tta))


@st.cache_data(show_spinner=False, max_entries=16)
def _scores(df: pd.DataFrame) -> dict[str, Any]:
    from ..app.questions import overview

    return overview(df)


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
    """One face's map for one method (:class:`ferviz.app.explaining.FaceMap`)."""
    from ..app.explaining import face_map

    with torch_lock():
        return face_map(model(ms), faces(ds)[row:row + 1], method, target)


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
    from ..app.explaining import overlays

    with torch_lock():
        return overlays(model(ms), faces(ds), rows, method)


@st.cache_data(show_spinner=False, max_entries=64)
def photo_results(ms: ModelSpec, path: str, detect: str, methods: tuple[str, ...],
                  target: str):
    """Faces of an uploaded photo, predicted and explained."""
    from ..app.explaining import photo

    with torch_lock():
        return photo(model(ms), path, detect, methods, target)


@st.cache_data(show_spinner=False, max_entries=8)
def _video(ms: ModelSpec, path: str, stamps: tuple[str, str], overlay: str, every: int
           ) -> tuple[dict[str, Any], pd.DataFrame]:
    import hashlib
    from pathlib import Path

    from ..app.explaining import video as run
    from ..cache import cache_dir

    key = hashlib.blake2b(repr((ms, path, stamps, overlay, every)).encode(),
                          digest_size=12).hexdigest()
    out = cache_dir("video") / key / f"{Path(path).stem}.saliency.mp4"
    with torch_lock():
        return run(model(ms), path, out, overlay, every)


def video(ms: ModelSpec, path: str, overlay: str, every: int
          ) -> tuple[dict[str, Any], pd.DataFrame]:
    """A video's summary and per-frame table; its outputs are written under the cache."""
    from ..specs import file_stamp

    return _video(ms, path, (ms.stamp(), file_stamp(path)), overlay, every)


@st.cache_data(show_spinner=False, max_entries=64)
def _video_face(ms: ModelSpec, path: str, stamps: tuple[str, str], frame: int,
                box: tuple[int, int, int, int], face_id: int, methods: tuple[str, ...]):
    from ..app.explaining import video_face as run

    with torch_lock():
        return run(model(ms), path, frame, box, face_id, methods)


def video_face(ms: ModelSpec, path: str, frame: int, box: tuple[int, int, int, int],
               face_id: int, methods: tuple[str, ...]):
    """One face of one video frame, predicted and explained (as a photo's face)."""
    from ..specs import file_stamp

    return _video_face(ms, path, (ms.stamp(), file_stamp(path)), frame, box, face_id, methods)


@st.cache_data(show_spinner=False, max_entries=16)
def frozen_faces(ms: ModelSpec, faces: np.ndarray, ids: tuple[str, ...],
                 methods: tuple[str, ...]):
    """Faces frozen from the live camera, predicted and explained (as a photo's faces)."""
    from ..app.explaining import frozen_faces as run

    with torch_lock():
        return run(model(ms), faces, ids, methods)


@st.cache_resource(show_spinner=False, max_entries=4)
def _job(folder: str, stamp: str):
    from pathlib import Path

    from ..app.questions import open_job

    return open_job(Path(folder))


def job(folder):
    """A sharded job's output, opened lazily (re-read when its summary changes)."""
    from ..app.questions import job_summary_file
    from ..specs import file_stamp

    return _job(str(folder), file_stamp(job_summary_file(folder)))
