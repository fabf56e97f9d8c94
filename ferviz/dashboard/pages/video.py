"""Video: a clip (uploaded, or a path under the roots) -> each face followed with an id, the
timeline of its emotions, a frame scrubber, and any face of a frame explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ...errors import FervizError
from .. import resources as res
from .. import trust
from ..jobs import clicked
from ..page import Page
from ..sidebar import Context
from ..state import get, put, ui

VIDEO_TYPES = ["mp4", "m4v", "mov", "avi", "mkv", "webm", "mpg", "mpeg", "ts", "y4m", "ogv",
               "wmv", "flv", "3gp"]


def render(ctx: Context) -> None:
    from ...app.catalog import methods as registered

    limit = st.get_option("server.maxUploadSize")
    c = st.columns(2)
    upload = c[0].file_uploader(f"A video (up to {limit} MB)", type=VIDEO_TYPES,
                                key="video_upload")
    typed = ui(c[1].text_input, "video_path", "…or a video on the server (under the roots)")
    o = st.columns(2)
    overlay = ui(o[0].selectbox, "overlay", "Saliency drawn over the faces", ["", *registered()],
                 format_func=lambda m: m or "(none)")
    every = ui(o[1].number_input, "every", "…on every Nth frame", min_value=1, max_value=1000)
    try:
        path = video_path(ctx, upload, typed, limit)
        if path is None:
            st.info("Upload a video or give the path of one on the server.")
            return
        if overlay and not clicked(f"video:{path}:{overlay}:{every}", float("inf"),
                                   f"drawing {overlay} over the faces of every "
                                   f"{'' if every == 1 else f'{every}th '}frame"):
            return  # long work from a link waits for a click, as on the other pages
        with st.spinner("Following, predicting and explaining the faces of every frame…"):
            summary, table = res.video(ctx.ms, str(path), overlay, int(every))
    except FervizError as e:
        st.error(f"Cannot use this video: {e}")
        return
    if overlay:
        trust.show(trust.verdicts(ctx, [overlay]))
    show(ctx, path, summary, table)


def video_path(ctx: Context, upload: Any, typed: str, limit: float) -> Path | None:
    """The uploaded video (kept under the cache by content) or the typed path (checked
    against the roots)."""
    if upload is not None:
        from ...cache import cache_dir
        from ..uploads import check_upload_size, upload_path

        data = upload.getvalue()
        check_upload_size(len(data), limit)
        return upload_path(data, upload.name or "video.mp4", cache_dir("uploads"))
    return ctx.settings.allowed(typed) if typed else None


def show(ctx: Context, path: Path, summary: dict[str, Any], table: pd.DataFrame) -> None:
    """Summary, frame scrubber with the annotated frame, timeline, and the faces of the
    frame with their saliency on request."""
    from ...app.explaining import video_frame as read_frame
    from ...video.timeline import timeline_figure

    faces = summary["faces"]
    st.success(f"{summary['frames']:,} frames ({summary['seconds']:.1f} s at "
               f"{summary['fps']:g} frames/s), {len(faces)} face{'s' * (len(faces) != 1)} · "
               f"processed at {summary['processing']['frames_per_second']:.1f} frames/s")
    for note in summary["notes"]:
        st.warning(note)
    st.dataframe(pd.DataFrame([{
        "face": f"#{f['id']}", "frames": f["frames"], "dominant": f["dominant"],
        "share": f"{f['dominant_share']:.0%}",
        "segments": ", ".join(f"{s['emotion']} {s['start']:.1f}–{s['end']:.1f} s"
                              for s in f["segments"])} for f in faces]), hide_index=True)
    last = summary["frames"] - 1
    if get("frame") > last:
        put("frame", 0)
    frame = ui(st.slider, "frame", "Frame", min_value=0, max_value=max(last, 1))
    frame = min(frame, last)
    left, right = st.columns([2, 3])
    image = read_frame(summary["outputs"]["video"], frame)[..., ::-1]
    left.image(image, caption=f"frame {frame} at {frame / summary['fps']:.2f} s")
    right.plotly_chart(timeline_figure(table, frame=frame), key="video_timeline")
    downloads(summary)
    here = table[table["frame"] == frame]
    if here.empty:
        st.caption("No face is followed on this frame.")
        return
    st.markdown("**Explain a face of this frame**")
    cols = st.columns(len(here))
    for col, (_, row) in zip(cols, here.iterrows()):
        if col.button(f"Face #{row['face']}: {row['pred']} ({row['confidence']:.0%})",
                      key=f"vface_{row['face']}"):
            st.session_state["video_face"] = (str(path), frame, int(row["face"]))
    chosen = st.session_state.get("video_face")
    if chosen and chosen[:2] == (str(path), frame) and chosen[2] in set(here["face"]):
        explain_face(ctx, path, frame, here[here["face"] == chosen[2]].iloc[0])


def explain_face(ctx: Context, path: Path, frame: int, row: pd.Series) -> None:
    """The saliency panel of one face of the frame (as the Try it page shows a photo's)."""
    from ...app.catalog import methods as registered
    from .try_it import show_faces

    methods = ui(st.multiselect, "video_methods", "Methods", registered())
    box = tuple(int(row[k]) for k in ("x", "y", "w", "h"))
    with st.spinner("Explaining the face…"):
        faces = res.video_face(ctx.ms, str(path), frame, box, int(row["face"]),
                               tuple(methods))
    st.markdown(f"**Face #{row['face']} on frame {frame}**")
    show_faces(ctx, faces)


def downloads(summary: dict[str, Any]) -> None:
    """Download buttons for the annotated video and the per-frame table."""
    import json

    out = summary["outputs"]
    c = st.columns(3)
    c[0].download_button("Annotated video (.mp4)", Path(out["video"]).read_bytes(),
                         file_name=Path(out["video"]).name, mime="video/mp4")
    c[1].download_button("Per-frame table (.csv)", Path(out["csv"]).read_bytes(),
                         file_name=Path(out["csv"]).name, mime="text/csv")
    shared = {k: v for k, v in summary.items() if k not in ("video", "outputs")}  # no paths
    c[2].download_button("Summary (.json)", json.dumps(shared, indent=1),
                         file_name=Path(out["video"]).with_suffix(".json").name,
                         mime="application/json")


PAGE = Page("video", "Video", 65, render, scores=False)
