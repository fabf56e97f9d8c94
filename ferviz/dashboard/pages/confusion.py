"""Confusion matrix: click a cell to open its faces, most confident first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from ...labels import EMOTIONS
from .. import resources as res
from .. import trust
from ..page import Page
from ..sidebar import Context
from ..state import link, put, state, sync_url, ui


def selected_cell(points: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """(true, pred) of the clicked cell from a plotly selection's points, or None."""
    for p in points:
        data = p.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2 and \
                data[0] in EMOTIONS and data[1] in EMOTIONS:
            return str(data[0]), str(data[1])
    return None


def on_cell_click() -> None:
    """Plotly selection -> the drill-down cell (and its selectboxes)."""
    event = st.session_state.get("cm_chart") or {}
    cell = selected_cell(event.get("selection", {}).get("points", []))
    if cell:
        put("true", cell[0])
        put("pred", cell[1])
        st.session_state["w_true"], st.session_state["w_pred"] = cell


def face_links(ids: pd.Series) -> tuple[str, ...]:
    """Links that open each face in the inspector (the URL carries the shareable state)."""
    return tuple(link(page="inspector", sample=i) for i in ids)


@st.fragment
def view(ctx: Context) -> None:
    """The clickable matrix and the drill-down gallery of the selected cell."""
    from ...app.questions import cell
    from ...viz import figures

    t = res.scores(ctx.ms, ctx.ds, ctx.tta)
    left, right = st.columns([3, 2])
    with right:
        true = ui(st.selectbox, "true", "True class", EMOTIONS)
        pred = ui(st.selectbox, "pred", "Predicted class", EMOTIONS)
        n = ui(st.slider, "n", "Faces shown", min_value=4, max_value=96, step=4)
        show_cam = ui(st.checkbox, "cam", "Grad-CAM overlays")
    fig = figures.clickable(figures.confusion_heatmap(t["counts"], t["rates"]), (true, pred))
    with left:
        st.plotly_chart(fig, key="cm_chart", on_select=on_cell_click, selection_mode="points",
                        config={"displayModeBar": False})
    rows = cell(ctx.df, true, pred)
    with right:
        st.markdown(f"**true {true} → predicted {pred}: {len(rows):,} faces**, most "
                    "confident first. Click a cell or pick the classes above.")
        st.download_button(f"Ids of this cell ({len(rows):,}, CSV, for relabelling)",
                           rows[["id", "label", "pred", "confidence"]].to_csv(index=False),
                           file_name=f"{true}-as-{pred}.csv", mime="text/csv", key="cell_csv")
    shown = rows.head(n)
    if show_cam:
        trust.show(trust.verdicts(ctx, ["gradcam"]))
    with st.spinner("Explaining the faces shown…" if show_cam else "Drawing the faces…"):
        html = res.gallery_block(ctx.ms, ctx.ds, ctx.tta, tuple(int(i) for i in shown.index),
                                 "gradcam" if show_cam else "", face_links(shown["id"]),
                                 f"{true}:{pred}")
    st.html(html)
    sync_url()


def render(ctx: Context) -> None:
    st.markdown("Click a cell of the matrix to open its faces (or choose the classes).")
    state()
    view(ctx)


PAGE = Page("confusion", "Confusion matrix", 20, render)
