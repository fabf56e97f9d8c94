"""Live: the camera through WebRTC (streamlit-webrtc, aiortc underneath, no STUN/TURN
server: host candidates suffice on one machine); every frame comes back with boxes and
labels, a rolling timeline follows, and Freeze explains the current frame's faces."""

from __future__ import annotations

from html import escape
from typing import Any

import streamlit as st

from .. import resources as res
from ..page import Page
from ..sidebar import Context
from ..state import ui

RTC = {"iceServers": []}  # localhost: no external server
REFRESH_SECONDS = 2.0  # how often the status and the rolling timeline are redrawn
TIMELINE_FACES = 3  # the rolling timeline shows the faces seen most recently


def render(ctx: Context) -> None:
    try:
        from streamlit_webrtc import WebRtcMode, webrtc_streamer
    except ImportError:
        st.info("The Live page needs streamlit-webrtc: `pip install 'ferviz[live]'`.")
        return
    if not served():
        st.info("The camera stream needs a browser connected to a running dashboard "
                "(`ferviz dashboard`).")
        return
    analyser = session_analyser(ctx)

    def callback(frame: Any) -> Any:
        import av

        out = analyser.process(frame.to_ndarray(format="bgr24"))
        return av.VideoFrame.from_ndarray(out, format="bgr24")

    freeze = st.button("Freeze: explain the faces of the current frame", key="live_freeze")
    stream = webrtc_streamer(key="fv_live", mode=WebRtcMode.SENDRECV, rtc_configuration=RTC,
                             media_stream_constraints={"video": True, "audio": False},
                             video_frame_callback=callback, async_processing=True)
    status = st.container()  # filled last: its refreshes must not hold up the rest
    if freeze:
        st.session_state["live_frozen"] = analyser.snapshot()[0]
    frozen = st.session_state.get("live_frozen")
    if frozen is not None:
        show_frozen(ctx, frozen)
    if stream.state.playing:
        with status:
            live_status(analyser)


def served() -> bool:
    """Whether this script runs in a served session, which streamlit-webrtc needs (it looks
    the session up in the runtime's session manager; a test harness has none)."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and hasattr(Runtime.instance(), "_session_mgr")


def session_analyser(ctx: Context):
    """This session's analyser for the sidebar's model (a new one when the model changes)."""
    from ...app.explaining import live_analyser

    kept = st.session_state.get("live_analyser")
    if kept is None or kept[0] != ctx.ms:
        kept = (ctx.ms, live_analyser(res.model(ctx.ms), res.torch_lock()))
        st.session_state["live_analyser"] = kept
    return kept[1]


@st.fragment(run_every=REFRESH_SECONDS)
def live_status(analyser: Any) -> None:
    """Frames analysed, the faces of the latest frame and the rolling timeline (refreshed
    every :data:`REFRESH_SECONDS` while the camera plays)."""
    from ...video.timeline import timeline_figure

    frame, n = analyser.snapshot()
    faces = frame.faces if frame is not None else []
    labels = ", ".join(f"#{f.id} {f.emotion} {f.probs.max():.0%}" for f in faces) or "no face"
    st.html(f'<p class="fv-live" data-frames="{n}" data-faces="{len(faces)}">'
            f"{n:,} frames analysed · now: {escape(labels)}</p>")
    table = analyser.timeline()
    recent = table.groupby("face")["time"].max().nlargest(TIMELINE_FACES).index
    table = table[table["face"].isin(recent)]
    if len(table):
        fig = timeline_figure(table)
        fig.update_layout(height=120 + 120 * len(recent))
        st.plotly_chart(fig, key="live_timeline")


def show_frozen(ctx: Context, frame: Any) -> None:
    """The frozen frame, annotated, and each face's prediction and saliency panel."""
    import numpy as np

    from ...app.catalog import methods as registered
    from ...video.draw import annotate
    from .try_it import show_faces

    st.image(annotate(frame)[..., ::-1], caption=f"frozen at {frame.time:.1f} s",
             width=480)
    if not frame.faces:
        st.info("No face was followed on the frozen frame.")
        return
    methods = ui(st.multiselect, "live_methods", "Methods", registered())
    faces = np.stack([f.face for f in frame.faces])
    ids = tuple(f"live@{frame.index}#face{f.id}" for f in frame.faces)
    with st.spinner("Explaining the faces…"):
        show_faces(ctx, res.frozen_faces(ctx.ms, faces, ids, tuple(methods)))


PAGE = Page("live", "Live camera", 66, render, scores=False)
