"""The report's sections: analysis results, figures and gallery items for the template."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...analysis import ambiguity as amb
from ...analysis import calibration as cal
from ...analysis.confusions import cell, top_confusions
from ...analysis.groups import default_cluster, intervals
from ...analysis.metrics import class_report, confusion, labelled
from ...analysis.metrics import summary as scores
from ...analysis.slices import by_slice
from ...labels import EMOTIONS
from ...report import figure
from ...table import prob_columns
from ...viz import figures
from ...viz.gallery import Gallery
from ..questions import comparison as compared
from .saliency import Saliency

if TYPE_CHECKING:
    from .build import Options

def top_rows(df: pd.DataFrame, o: Options) -> dict[tuple[str, str], list[int]]:
    """Row numbers of the most confident errors of each top confusion."""
    return {(t, p): list(cell(df, t, p, o.per_confusion).index)
            for t, p in top_confusions(df, o.top_k)[["true", "pred"]].itertuples(index=False)}


def region_rows(df: pd.DataFrame, n: int) -> dict[str, list[int]]:
    """Row numbers of the ``n`` most confident faces predicted as each emotion."""
    order = df.sort_values("confidence", ascending=False, kind="stable")
    return {e: list(order.index[order["pred"] == e][:n]) for e in EMOTIONS}


def summary(df: pd.DataFrame, o: Options) -> dict[str, Any]:
    """Scores of the table, their intervals (the same as ``ferviz evaluate``'s: clustered by
    subject or sequence when known) and the ECE."""
    ci = intervals(df, default_cluster(df))
    over = (f"bootstrap over {ci['clusters']} {ci['cluster']}s" if ci["cluster"] != "face"
            else f"bootstrap over {ci['clusters']} faces")
    return {**scores(df), "total": len(df), "ci_low": ci["accuracy"][1],
            "ci_high": ci["accuracy"][2], "f1_low": ci["macro_f1"][1],
            "f1_high": ci["macro_f1"][2], "over": over, "ece": cal.ece(df, o.bins)}


def scores_json(df: pd.DataFrame, summary: dict[str, Any], top: pd.DataFrame,
                notes: list[str], ambiguous: list[str]) -> dict[str, Any]:
    """The numbers the report shows, as the JSON it embeds (``#ferviz-scores``)."""
    pc = class_report(df).drop(index=["macro avg", "weighted avg"])
    return {"n": summary["n"], "accuracy": summary["accuracy"],
            "macro_f1": summary["macro_f1"], "macro_f1_seen": summary["macro_f1_seen"],
            "intervals": {"accuracy": [summary["ci_low"], summary["ci_high"]],
                          "macro_f1": [summary["f1_low"], summary["f1_high"]],
                          "over": summary["over"]},
            "per_class": json.loads(pc.to_json(orient="index")),
            "top_confusions": json.loads(top.to_json(orient="records")), "notes": notes,
            "ambiguous": ambiguous}


def card_rows(card: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Key / value rows of a model card (strings; escaped by the template)."""
    if not card:
        return []
    info = card.get("info") or {}
    metrics = info.get("metrics") or {}
    rows = [("name", card.get("name")), ("architecture", card.get("arch")),
            ("parameters", f"{card['params']:,}" if card.get("params") else None),
            ("source", card.get("source")),
            ("input", f"{card['input_size']} px, {card.get('channels', 1)} channel(s), "
                      f"mean {card.get('mean', 0)}, std {card.get('std', 1)}"
             if card.get("input_size") else None),
            ("output order", ", ".join(map(str, card.get("labels") or ()))),
            ("trained on", info.get("data")),
            ("recipe", json.dumps(info["recipe"]) if info.get("recipe") else None),
            ("card metrics", f"accuracy {metrics['accuracy']:.4f} on {metrics.get('data', '?')}"
             if "accuracy" in metrics else None)]
    return [(k, str(v)) for k, v in rows if v not in (None, "")]


def data_rows(df: pd.DataFrame, info: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Key / value rows describing the data."""
    counts = df["label"].value_counts()
    rows = [(str(k), str(v)) for k, v in (info or {}).items()]
    rows += [("faces", f"{len(df):,}"),
             ("classes", ", ".join(f"{e} {int(counts.get(e, 0))}" for e in (*EMOTIONS, "unknown")
                                   if e != "unknown" or counts.get(e, 0))),
             ("splits", ", ".join(sorted(map(str, df["split"].unique())))),
             ("sources", ", ".join(sorted(map(str, df["source"].unique())))),
             ("FER+ votes", "yes" if amb.has_votes(df) else "no"),
             ("soft labels", "yes" if any(c.startswith("soft_") for c in df.columns) else "no")]
    return rows


def errors(df: pd.DataFrame, g: Gallery, tops: dict, o: Options) -> dict[str, Any]:
    """Confusion matrix, per-class scores, top confusions and the drill-down cells."""
    counts, rates = confusion(df), confusion(df, normalize=True)
    report = class_report(df)
    top = top_confusions(df, o.top_k)
    cells = [{"true": t, "pred": p, "count": int(counts.loc[t, p]),
              "items": g.items(list(cell(df, t, p, o.per_cell).index))}
             for t in EMOTIONS for p in EMOTIONS if counts.loc[t, p] > 0]
    first = top.iloc[0] if len(top) else None
    return {
        "labelled": len(labelled(df)),
        "confusion": figure(figures.confusion_heatmap(counts, rates), "fig-confusion"),
        "f1": figure(figures.f1_bars(report), "fig-f1"),
        "report": report.reset_index().to_dict("records"),
        "top": [{**r, "items": g.items(tops[(r["true"], r["pred"])])}
                for r in top.to_dict("records")],
        "cells": cells,
        "selected": f"{first['true']}|{first['pred']}" if first is not None else
                    (f"{cells[0]['true']}|{cells[0]['pred']}" if cells else ""),
    }


def ambiguity(df: pd.DataFrame, g: Gallery, o: Options) -> dict[str, Any]:
    """The ambiguous set: size, error rate and its most ambiguous faces."""
    a = amb.ambiguous(df, o.k, o.spread)
    la = labelled(a)
    shown = a.head(o.ambiguous)
    return {"n": len(a), "k": o.k, "spread": o.spread, "ids": [str(i) for i in shown["id"]],
            "error_rate": float((la["label"] != la["pred"]).mean()) if len(la) else float("nan"),
            "items": g.items(list(shown.index), list(shown["close"]))}


def human_section(df: pd.DataFrame, g: Gallery, o: Options) -> dict[str, Any]:
    """FER+ human vs model ambiguity, the split of errors, and contradicted labels."""
    h = amb.human(df)
    ok = h["usable"].to_numpy()
    split = amb.error_split(df, o.agreement)
    kinds = split["kind"].value_counts()
    contra = amb.contradicted(df)
    return {
        "corr": amb.human_vs_model(df), "agreement": o.agreement,
        "scatter": figure(figures.ambiguity_scatter(df["entropy"].to_numpy()[ok],
                                                    h["human_entropy"].to_numpy()[ok],
                                                    (df["pred"] == df["label"]).to_numpy()[ok]),
                          "fig-human"),
        "kinds": [{"kind": k, "count": int(kinds.get(k, 0)),
                   "share": float(kinds.get(k, 0) / max(len(split), 1)),
                   "items": g.items(list(split.index[split["kind"] == k][:o.per_confusion]),
                                    [_vote_note(r) for _, r in
                                     split[split["kind"] == k].head(o.per_confusion).iterrows()])}
                  for k in amb.ERROR_KINDS],
        "contradicted": len(contra),
        "sides": contra["model_sides_with"].value_counts().to_dict(),
        "contra_items": g.items(list(contra.index[:o.ambiguous]),
                                [_vote_note(r) for _, r in contra.head(o.ambiguous).iterrows()]),
    }


def _vote_note(r: pd.Series) -> str:
    return f"FER+ majority {r['majority']} ({r['agreement']:.0%} of votes)"


def calibration(df: pd.DataFrame, o: Options) -> dict[str, Any]:
    """ECE with the reliability curve and the right / wrong confidence histograms."""
    return {"ece": cal.ece(df, o.bins), "bins": o.bins,
            "reliability": figure(figures.reliability_curve(cal.reliability(df, o.bins)),
                                  "fig-reliability"),
            "hist": figure(figures.confidence_histogram(cal.confidence_hist(df)), "fig-hist")}


def regions(sal: Saliency) -> dict[str, Any] | None:
    """Mean region shares per predicted class (and the uniform-map baseline), as rows of
    (share, shade) with shades relative to the largest share."""
    if sal.regions is None:
        return None
    t = sal.regions
    cols = [c for c in t.columns if c != "n"]
    top = max(float(t[cols].to_numpy().max()), 1e-12)
    return {"method": sal.region_method, "columns": cols,
            "rows": [{"class": "uniform map (region area)" if c == "area" else c,
                      "faces": "" if r["n"] != r["n"] else int(r["n"]),
                      "cells": [(float(r[k]), min(max(float(r[k]) / top, 0.0), 1.0))
                                for k in cols]}
                     for c, r in t.iterrows()]}


def slices(df: pd.DataFrame, o: Options) -> list[dict[str, Any]]:
    """Metrics per value of each slice column that has two or more values."""
    out = []
    for col in o.slices:
        if col in df.columns and df[col].nunique() > 1:
            t = by_slice(df, col, o.bins)
            out.append({"column": col, "rows": t.reset_index().to_dict("records"),
                        "figure": figure(figures.slice_bars(t), f"fig-slice-{len(out)}")})
    return out


def comparison(df: pd.DataFrame, other: pd.DataFrame, g: Gallery, name_a: str, name_b: str,
               o: Options) -> dict[str, Any]:
    """Deltas, McNemar's test and the disagreeing faces of two tables on the same faces."""
    c = compared(df, other)
    d, every = c["deltas"], c["disagreements"]
    dis = every.head(o.disagreements)
    row_of = pd.Series(np.arange(len(df)), index=df["id"].to_numpy())
    probs_b = prob_columns("_b")
    items = []
    for _, r in dis.iterrows():
        b = r[probs_b].rename(lambda c: c[:-2])
        items.append(g.item(int(row_of[r["id"]]),
                            f"{name_b}: {r['pred_b']} ({r['confidence_b']:.0%})",
                            probs=[(name_b, b)]))
    return {"a": name_a, "b": name_b, "deltas": d.reset_index().to_dict("records"),
            "mcnemar": c["mcnemar"],
            "n_disagree": len(every),
            "delta_fig": figure(figures.delta_bars(d, name_a, name_b), "fig-deltas"),
            "matrix": figure(figures.disagreement_heatmap(c["matrix"],
                                                          name_a, name_b), "fig-disagree"),
            "items": items}
