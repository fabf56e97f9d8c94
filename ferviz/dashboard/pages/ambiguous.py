"""Ambiguous samples: faces sorted by entropy, margin or (with FER+ votes) human
disagreement."""

from __future__ import annotations

import streamlit as st

from .. import resources as res
from ..page import Page
from ..sidebar import Context
from ..state import ui
from ..tables import show
from .confusion import face_links


def render(ctx: Context) -> None:
    from ...app import questions as q
    from ...viz import figures

    df = ctx.df
    votes = q.has_votes(df)
    sorts = q.ambiguity_sorts(df)
    c = st.columns([2, 1, 1])
    by = ui(c[0].selectbox, "sort", "Sort by", list(sorts), format_func=sorts.get)
    errors = ui(c[1].checkbox, "errors", "Errors only")
    n = ui(c[2].number_input, "n_amb", "Faces shown", min_value=4, max_value=200, step=4)
    table = q.ambiguous(df, by, errors)
    st.caption(f"{q.close_calls(df):,} faces are close calls (their 3 likeliest emotions "
               "lie within 10 points); the table's column headers sort it too.")
    shown = table.head(int(n))
    st.html(res.gallery_block(ctx.ms, ctx.ds, ctx.tta, tuple(int(i) for i in shown.index), "",
                              face_links(shown["id"]), f"ambiguous:{by}"))
    cols = ["id", "label", "pred", "confidence", "margin", "entropy",
            *(["human_entropy", "agreement", "majority"] if votes else [])]
    show(table.head(500)[cols], hide_index=True)
    if votes:
        h = q.human_agreement(df)
        st.markdown(f"Model vs human ambiguity: Spearman {h['spearman']:.3f} over "
                    f"{h['n']:,} faces with usable votes.")
        st.plotly_chart(figures.ambiguity_scatter(df["entropy"].to_numpy(),
                                                  h["human_entropy"],
                                                  df["correct"].to_numpy()))


PAGE = Page("ambiguous", "Ambiguous samples", 30, render)
