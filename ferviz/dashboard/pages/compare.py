"""Compare models: a second model on the same faces — deltas, McNemar, disagreements.
Nothing runs until a second model is chosen (and, for long work, Run is clicked)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...errors import FervizError
from ...specs import ModelSpec
from .. import resources as res
from ..jobs import ready
from ..page import Page
from ..sidebar import FILE, Context
from ..state import ui
from .confusion import face_links

NONE = "(choose a model)"


def second_model(ctx: Context) -> tuple[ModelSpec, bool] | None:
    """The second model and whether it uses TTA, or None while none is chosen."""
    from ...app.catalog import zoo_names

    c = st.columns([2, 2, 1])
    choice = ui(c[0].selectbox, "compare", "Second model", [NONE, *zoo_names(), FILE],
                default=NONE)
    tta = ui(c[2].checkbox, "compare_tta", "TTA")
    if choice == NONE:
        return None
    if choice == FILE:
        path = ui(c[1].text_input, "compare_path", "Model file on the server")
        if not path:
            return None
        return ModelSpec(str(ctx.settings.allowed(path))), tta
    return ModelSpec(choice), tta


def render(ctx: Context) -> None:
    from ...app.questions import comparison
    from ...viz import figures

    try:
        chosen = second_model(ctx)
    except FervizError as e:
        st.error(str(e))
        return
    if chosen is None:
        st.info("Choose the second model to compare with.")
        return
    ms_b, tta_b = chosen
    if (ms_b, tta_b) == (ctx.ms, ctx.tta):
        st.info("That is the model on display; choose another model or toggle TTA.")
        return
    n = len(ctx.df)
    if not ready(f"compare:{ms_b}:{ctx.ds}:{tta_b}", ms_b, ctx.ds, tta_b,
                 f"predicting {n:,} faces with {ms_b.name()}{' + TTA' if tta_b else ''}"):
        return
    with st.spinner("Predicting with the second model…"):
        other = res.predictions(ms_b, ctx.ds, tta_b)
    name_a = f"{ctx.name}{' +TTA' if ctx.tta else ''}"
    name_b = f"{ms_b.name()}{' +TTA' if tta_b else ''}"
    cmp = comparison(ctx.df, other)
    d, test = cmp["deltas"], cmp["mcnemar"]
    k = st.columns(4)
    k[0].metric(f"Accuracy of {name_b}", f"{d.loc['accuracy', 'b']:.1%}",
                f"{d.loc['accuracy', 'delta'] * 100:+.1f} points vs {name_a}")
    k[1].metric("Macro-F1 delta", f"{d.loc['macro_f1', 'delta']:+.3f}")
    k[2].metric("Only A right / only B right", f"{test['only_a']} / {test['only_b']}")
    k[3].metric("McNemar p", f"{test['pvalue']:.3g}")
    left, right = st.columns(2)
    left.plotly_chart(figures.delta_bars(d, name_a, name_b))
    right.plotly_chart(figures.disagreement_heatmap(cmp["matrix"], name_a, name_b))
    dis = cmp["disagreements"]
    st.markdown(f"**{len(dis):,} faces the two models label differently** (most confident "
                "disagreement first)")
    gallery(ctx, dis.head(24), name_b)


def gallery(ctx: Context, dis: pd.DataFrame, name_b: str) -> None:
    """Gallery of disagreements with both models' probability bars."""
    from ...table import probabilities

    where = pd.Series(range(len(ctx.df)), index=ctx.df["id"])
    rows = tuple(int(where[i]) for i in dis["id"])
    extra = tuple((name_b, tuple(p)) for p in probabilities(dis, "_b"))
    st.html(res.gallery_block(ctx.ms, ctx.ds, ctx.tta, rows, "", face_links(dis["id"]),
                              "disagreements", extra))


PAGE = Page("compare", "Compare models", 50, render)
