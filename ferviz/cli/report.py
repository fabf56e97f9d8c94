"""The report command: a self-contained HTML error report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..app import tasks
from ..specs import DataSpec, ModelSpec
from .app import app
from .options import Force, Tta, data_options, model_options


@app.command()
@model_options()
@model_options("compare", required=False,
               what="A second model (zoo name or file) to compare on the same faces.")
@data_options
def report(model: ModelSpec, data: DataSpec, compare: Optional[ModelSpec],
           compare_preds: Annotated[Optional[Path], typer.Option(
               help="A predictions table (parquet) on the same faces to compare with.")] = None,
           saliency: Annotated[str, typer.Option(
               help="Comma-separated explanation methods for the gallery overlays, or 'none'.")]
           = "occlusion,gradcam",
           out: Annotated[Optional[Path], typer.Option(
               "--out", "-o", help="HTML file (default: a new file under reports/).")] = None,
           force: Force = False, tta: Tta = False,
           top: Annotated[int, typer.Option(help="Top confusions with a gallery each.")] = 6,
           per_cell: Annotated[int, typer.Option(
               help="Faces shown per cell of the confusion-matrix drill-down.")] = 6,
           max_saliency: Annotated[int, typer.Option(
               help="Most gallery faces to explain.")] = 100,
           spread: Annotated[float, typer.Option(
               help="Ambiguous: the 3 likeliest emotions within this much.")] = 0.10,
           check: Annotated[bool, typer.Option(
               "--check", help="Run (or read cached) trust checks of the saliency methods on "
               "a sample of 256 of the faces; their badges stand beside every map (without "
               "it: verdicts cached by an earlier run, else 'trust not checked').")] = False
           ) -> None:
    """Write the self-contained HTML error report of a model on a data set."""
    methods = tuple(s.strip() for s in saliency.split(",") if s.strip() and s.strip() != "none")
    path = tasks.report(model, data, out, force, compare, compare_preds, tta, top_k=top,
                        per_cell=per_cell, max_saliency=max_saliency, spread=spread,
                        saliency=methods, trust=check)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@app.command("job-report")
def job_report(folder: Annotated[Path, typer.Argument(
                   help="A sharded job's folder (ferviz predict --engine ... -o FOLDER, "
                   "ferviz explain).")],
               out: Annotated[Path, typer.Option("--out", "-o", help="HTML file.")],
               force: Force = False,
               top: Annotated[int, typer.Option(help="Top confusions shown.")] = 6,
               per_cell: Annotated[int, typer.Option(help="Faces per confusion.")] = 8
               ) -> None:
    """Write the self-contained HTML report of a sharded job (any size): scores per split,
    confusion matrix, F1, confidence, region shares, and the faces (and maps) of the top
    confusions, read from the parts that hold them."""
    from ..app import sharded

    path, warnings = sharded.report(folder, out, force, top, per_cell)
    for w in warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
