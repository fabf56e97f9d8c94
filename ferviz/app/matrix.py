"""``ferviz matrix``: models x data sets, accuracy and macro-F1 with bootstrap intervals
(clustered by subject where subjects are known), from cached predictions."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pandas as pd

from ..analysis.metrics import RESAMPLES
from ..errors import FervizError
from ..specs import ModelSpec

FORMATS = (".md", ".csv", ".html")
COLUMNS = ["model", "data", "split", "n", "accuracy", "accuracy_low", "accuracy_high",
           "macro_f1", "macro_f1_low", "macro_f1_high", "interval", "contempt"]


def parse_data(spec: str) -> tuple[str, str | None]:
    """``PATH`` or ``PATH@SPLIT`` (an existing path containing ``@`` is taken whole)."""
    if "@" in spec and not Path(spec).exists():
        path, split = spec.rsplit("@", 1)
        if not path or not split:
            raise FervizError(f"data {spec!r}: use PATH or PATH@SPLIT")
        return path, split
    return spec, None


def matrix(models: list[ModelSpec], datasets: list[str], labels: str = "fer2013",
           ferplus: str | os.PathLike | None = None, contempt: str | None = None,
           tta: bool = False, n_resamples: int = RESAMPLES) -> pd.DataFrame:
    """One row per (model, data set) with accuracy and macro-F1 and their 95% intervals.

    Raises:
        FervizError: no model or data set, duplicates, or any unusable model / data set
            (checked before predicting).
    """
    from ..analysis.groups import default_cluster, intervals
    from ..data import open_grouped
    from ..predict import predict

    if not models or not datasets:
        raise FervizError("matrix needs at least one --model and one --data")
    for what, items in (("model", [m.model for m in models]), ("data", datasets)):
        if len(set(items)) != len(items):
            raise FervizError(f"the same {what} is given twice")
    loaded = {spec.model: spec.load() for spec in models}
    data = {spec: open_grouped(*parse_data(spec), labels=labels, ferplus=ferplus,
                               contempt=contempt) for spec in datasets}
    rows = []
    for name, m in loaded.items():
        for spec, records in data.items():
            df = predict(m, records, tta=tta)
            ci = intervals(df, default_cluster(df), n_resamples=n_resamples)
            over = "faces" if ci["cluster"] == "face" else f"{ci['clusters']} {ci['cluster']}s"
            rows.append([m.card.name or name, records.name or spec, parse_data(spec)[1] or "all",
                         ci["n"], *ci["accuracy"], *ci["macro_f1"], f"bootstrap over {over}",
                         records.contempt.text() if records.contempt else ""])
    return pd.DataFrame(rows, columns=COLUMNS)


def _cell(row: pd.Series) -> str:
    return (f"{row.accuracy * 100:.1f}% [{row.accuracy_low * 100:.1f}, "
            f"{row.accuracy_high * 100:.1f}] / {row.macro_f1:.3f} [{row.macro_f1_low:.3f}, "
            f"{row.macro_f1_high:.3f}]")


def table(df: pd.DataFrame) -> pd.DataFrame:
    """The models x data sets view: each cell 'accuracy [low, high] / macro-F1 [low, high]'."""
    d = df.assign(column=df["data"] + " [" + df["split"] + "]", cell=df.apply(_cell, axis=1))
    out = d.pivot(index="model", columns="column", values="cell")
    return out.reindex(index=list(dict.fromkeys(d["model"])),
                       columns=list(dict.fromkeys(d["column"])))


def _notes(df: pd.DataFrame) -> list[str]:
    d = df.drop_duplicates(["data", "split"])
    return ["cells: accuracy [95% interval] / macro-F1 [95% interval]"] + [
        f"{r.data} [{r.split}]: {r.n} faces, {r.interval}" +
        (f"; {r.contempt}" if r.contempt else "") for r in d.itertuples()]


def to_markdown(df: pd.DataFrame) -> str:
    t = table(df)
    head = ["model", *t.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join([str(i), *t.loc[i].fillna("")]) + " |" for i in t.index]
    return "\n".join(lines + [""] + [f"- {n}" for n in _notes(df)]) + "\n"


def _report_style() -> str:
    """The report's own stylesheet, so the matrix page looks like the report."""
    template = Path(__file__).parents[1] / "report" / "report.html.j2"
    m = re.search(r"<style>.*?</style>", template.read_text(), re.S)
    return m.group(0) if m else ""


def to_html(df: pd.DataFrame, title: str = "ferviz cross-dataset matrix") -> str:
    """A self-contained page styled like the ferviz report."""
    t = table(df)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["model", *t.columns])
    body = "".join("<tr><th>" + html.escape(str(i)) + "</th>" + "".join(
        f'<td class="n">{html.escape(str(v))}</td>' for v in t.loc[i].fillna("")) + "</tr>"
        for i in t.index)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in _notes(df))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>'
            f"{html.escape(title)}</title>{_report_style()}</head><body><header><h1>"
            f"{html.escape(title)}</h1></header><main><section><table><tr>{head}</tr>{body}"
            f'</table><ul class="muted">{notes}</ul></section></main></body></html>\n')


def write_matrix(df: pd.DataFrame, out: str | os.PathLike, force: bool = False) -> Path:
    """Write the matrix as .md, .csv (one row per model and data set) or .html, atomically.

    Raises:
        FervizError: unknown suffix, or an existing file without ``force``.
    """
    from ..cache import atomic_write

    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise FervizError(f"{out}: the output must end in {', '.join(FORMATS)}")
    if out.exists() and not force:
        raise FervizError(f"{out} exists; use --force to overwrite it")
    text = {".md": to_markdown, ".html": to_html,
            ".csv": lambda d: d.to_csv(index=False)}[out.suffix.lower()](df)
    return atomic_write(out, lambda tmp: tmp.write_text(text))
