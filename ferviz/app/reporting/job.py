"""The HTML report of a sharded job, built from its summary and the few rows it shows (the
faces and maps of the top confusions, read from the parts that hold them), never the whole
table."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...analysis.counts import per_class_counts, summary_counts
from ...analysis.parts import Parts
from ...labels import EMOTIONS
from ...report.render import JOB, figure, plotly_js, render
from ...viz import figures


def top_cells(counts: pd.DataFrame, k: int) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells of true x predicted counts."""
    cells = [(t, p, int(counts.loc[t, p])) for t in EMOTIONS for p in EMOTIONS
             if t != p and counts.loc[t, p] > 0]
    return sorted(cells, key=lambda c: -c[2])[:k]


def job_html(parts: Parts, top: int = 6, per_cell: int = 8) -> str:
    """The report of a job's output."""
    s, m = parts.summary, parts.manifest
    scored = s.scored_splits()  # training faces never pool with held-out ones
    counts = s.counts(scored)
    known, rates = s.rates(scored)
    splits = [{"name": k, **summary_counts(s.counts(k))} for k in s.confusion]
    overall = summary_counts(counts)
    top_cells_ = top_cells(counts, top)
    ctx: dict[str, Any] = {
        "title": f"{m['job']['model']['model']} on {m['job']['data']['data']}",
        "job": m, "rows": s.rows, "missing": parts.gaps("this report"), "splits": splits,
        "overall": overall, "scored": scored,
        "cm": figure(figures.confusion_heatmap(known, rates, "Confusion matrix "
                                               "(row-normalised)"), "cm"),
        "f1": figure(figures.f1_bars(per_class_counts(counts)), "f1"),
        "confidence": figure(figures.confidence_histogram(s.histogram(scored)), "confidence"),
        "regions": [{"method": k, "flagged": s.regions[k]["flagged"],
                     "table": (s.region_table(k) * 100).round(1)} for k in parts.methods],
        "cells": [_cell(parts, t, p, n, per_cell, scored) for t, p, n in top_cells_],
        "scores_json": {**overall, "splits": scored,
                        "per_class": per_class_counts(counts).to_dict(orient="index"),
                        "top_confusions": [{"true": t, "pred": p, "count": n}
                                           for t, p, n in top_cells_]},
        "plotly_js": plotly_js(),
    }
    return render(ctx, JOB)


def _cell(parts: Parts, true: str, pred: str, n: int, per_cell: int,
          splits: list[str]) -> dict[str, Any]:
    from ...viz.html import face_uri
    from ...viz.overlays import overlay
    from ...viz.thumbs import png_uri

    rows = parts.cell(true, pred, limit=per_cell, split=splits)
    faces, maps = [], {}
    if parts.methods and len(rows):
        faces = parts.arrays(rows["row"].tolist(), "face")
        maps = {k: parts.arrays(rows["row"].tolist(), f"map_{k}") for k in parts.methods}
    items = []
    for i, r in enumerate(rows.itertuples()):
        item = {"id": r.id, "confidence": r.confidence, "images": []}
        if len(faces):
            item["images"] = [("face", face_uri(faces[i], 2))] + [
                (k, png_uri(overlay(faces[i], v[i], scale=2))) for k, v in maps.items()]
        items.append(item)
    return {"true": true, "pred": pred, "count": n, "items": items}
