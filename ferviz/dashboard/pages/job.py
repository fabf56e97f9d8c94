"""Job: the output of a sharded job (``ferviz predict --engine ... -o FOLDER`` or ``ferviz
explain``), however large: the first charts come from the summary the job wrote, a confusion
cell's faces are read from the parts that hold them, never the whole table."""

from __future__ import annotations

import streamlit as st

from ...errors import FervizError
from ...labels import EMOTIONS
from .. import resources as res
from ..page import Page
from ..settings import Settings
from ..state import ui
from ..tables import show

GALLERY = 12  # faces (with maps) shown of the selected cell


def render(cfg: Settings) -> None:
    from ...app.questions import job_scores
    from ...viz import figures

    typed = ui(st.text_input, "job", "Job folder (written by ferviz predict --engine … -o "
               "FOLDER or ferviz explain)")
    if not typed:
        st.info("Give the folder of a sharded job (under the dashboard's roots).")
        return
    try:
        parts = res.job(cfg.allowed(typed))
        summary = parts.summary
    except FervizError as e:
        st.error(f"Cannot open this job: {e}")
        return
    m = parts.manifest
    if gaps := parts.gaps("this page"):
        st.warning(f"{gaps}.")
    split = ui(st.selectbox, "job_split", "Split", ["", *summary.confusion],
               format_func=lambda s: s or "held-out splits pooled")
    j = job_scores(parts, split or None)
    counts, scores = j["counts"], j["summary"]
    st.caption(f"**{m['job']['model']['model']}** on `{cfg.shown(m['job']['data']['data'])}` "
               f"· {summary.rows:,} faces in {m['shards']} parts · {m['engine']} engine"
               + (f" · maps: {', '.join(parts.methods)}" if parts.methods else "")
               + ("" if split else f" · scores pooled over {', '.join(j['splits'])}"))
    k = st.columns(4)
    k[0].metric("Faces", f"{int(counts.to_numpy().sum()):,}")
    k[1].metric("Labelled", f"{scores['n']:,}")
    k[2].metric("Accuracy", "-" if not scores["n"] else f"{scores['accuracy']:.1%}")
    k[3].metric("Macro-F1", "-" if not scores["n"] else f"{scores['macro_f1']:.3f}")
    left, right = st.columns([3, 2])
    left.plotly_chart(figures.confusion_heatmap(j["known"], j["rates"], "Confusion matrix "
                                                "(row-normalised)"), key="job_cm")
    right.plotly_chart(figures.f1_bars(j["per_class"]), key="job_f1")
    st.plotly_chart(figures.confidence_histogram(j["histogram"]),
                    key="job_conf")
    if j["unlabelled"]:
        st.caption(f"{j['unlabelled']:,} faces have no label (not scored).")
    for method in parts.methods:
        table = summary.region_table(method) * 100
        flagged = summary.regions[method]["flagged"]
        st.markdown(f"**{method}: mean share of attribution per region (%), by predicted "
                    f"class** · {flagged:,} maps flagged (off-face, blank, class-agnostic…)")
        st.dataframe(table.style.format("{:.1f}"))
    drill(parts, j["splits"])


def drill(parts, split: list[str]) -> None:
    """One confusion cell: its most confident faces, read from the parts holding them."""
    c = st.columns(2)
    true = ui(c[0].selectbox, "job_true", "True", list(EMOTIONS))
    pred = ui(c[1].selectbox, "job_pred", "Predicted", list(EMOTIONS))
    cell = parts.cell(true, pred, limit=50, split=split)
    st.markdown(f"**true {true} → predicted {pred}**: the {len(cell)} most confident")
    show(cell, hide_index=True)
    if not len(cell) or not parts.methods:
        return
    from ...viz.overlays import overlay

    top = cell.head(GALLERY)
    faces = parts.arrays(top["row"].tolist(), "face")
    for method in parts.methods:
        maps = parts.arrays(top["row"].tolist(), f"map_{method}")
        st.image([overlay(f, mp, scale=2) for f, mp in zip(faces, maps)],
                 caption=[f"{i} · {method}" for i in top["id"]], width=110)


PAGE = Page("job", "Job (sharded output)", 90, render, context=False)
