"""Sample inspector: one face, its probabilities, FER+ votes and saliency from several
methods."""

from __future__ import annotations

from html import escape

import pandas as pd
import streamlit as st

from ...errors import FervizError
from ...labels import EMOTIONS
from .. import resources as res
from .. import trust
from ..page import Page
from ..sidebar import Context
from ..state import get, sync_url, ui
from ..tables import header, show


def default_sample(df: pd.DataFrame) -> str:
    """The face the inspector opens on: the drill-down cell's first, else the most confident
    error, else the first face."""
    from ...app.questions import first_face

    return first_face(df, get("true"), get("pred"))


def render(ctx: Context) -> None:
    from ...app.questions import vote_shares
    from ...table import PROBS, VOTES
    from ...viz.html import face_uri
    from ...viz.thumbs import prob_bars

    df = ctx.df
    ids = df["id"].tolist()
    sample = ui(st.selectbox, "sample", "Face", ids, default=default_sample(df))
    row = ids.index(sample)
    r = df.iloc[row]
    left, right = st.columns([1, 3])
    with left:
        true = r["label"] if r["label"] in EMOTIONS else None
        st.html(f'<img src="{face_uri(ctx.faces[row], 5)}" alt="face" '
                'style="image-rendering:pixelated;width:240px">'
                f'<p>true <b>{escape(str(r["label"]))}</b>, predicted '
                f'<b>{escape(str(r["pred"]))}</b> ({float(r["confidence"]):.1%})</p>'
                f'<p>model</p><img src="{prob_bars(r[PROBS].to_numpy(float), true=true)}" '
                'alt="probabilities" style="width:240px">')
        dist = vote_shares(df, row)
        if dist is not None:
            st.html(f'<p>FER+ votes</p><img src="{prob_bars(dist, true=true)}" '
                    'alt="votes" style="width:240px">')
            show(r[VOTES].rename("votes").to_frame().rename(index=header))
    with right:
        saliency_view(ctx, row, str(r["pred"]))


@st.fragment
def saliency_view(ctx: Context, row: int, pred: str) -> None:
    """Saliency maps of one face side by side, target selectable (lazy, cached)."""
    from ...app.catalog import methods as registered
    from ...app.explaining import badge, region_areas
    from ...viz.html import saliency_html

    names = registered()
    c = st.columns([2, 1, 1])
    methods = ui(c[0].multiselect, "methods", "Methods", names)
    target = ui(c[1].selectbox, "target", "Explain", ["pred", *EMOTIONS],
                format_func=lambda t: f"predicted ({pred})" if t == "pred" else t)
    contrast = ui(c[2].selectbox, "contrast", "…and not", ["", *EMOTIONS],
                  format_func=lambda t: t or "(no contrast)")
    explained = target if target != "pred" else pred
    spec = f"{explained}-{contrast}" if contrast and contrast != explained else target
    found = trust.verdicts(ctx, methods)
    panels, notes = [], []
    for m in methods:
        with st.spinner(f"{m}…"):
            try:
                sal, shares, title, caption, warn = res.face_saliency(ctx.ms, ctx.ds, row, m,
                                                                      spec)
            except FervizError as e:
                st.warning(f"{m}: {e}")
                continue
        b = badge(found[m])
        panels.append((title, sal, shares))
        checked = [b["text"]] if b["state"] != "unchecked" else []  # the badge says "not checked"
        notes.append((warn or b["warning"], f"{title}: " + "; ".join([*caption, *checked])))
    if panels:
        trust.show(found)
        st.html(saliency_html(ctx.faces[row], panels, region_areas()))
        for warn, text in notes:
            (st.warning if warn else st.caption)(text)
        st.caption("Under each map: the largest shares of attribution per face region, and "
                   "the share off the face; shading: how far a region exceeds its area. "
                   "Badges: the method's trust checks on this model (sanity and "
                   "faithfulness, on a sample of this data set).")
    else:
        st.info("Choose at least one explanation method.")
    sync_url()


PAGE = Page("inspector", "Sample inspector", 40, render)
