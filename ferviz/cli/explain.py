"""Commands that explain: saliency (one photo), explain and regions (a data set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..app import tasks
from ..specs import DataSpec, ModelSpec
from .app import app
from .options import (
    Address,
    Engine,
    Force,
    Gpus,
    Json,
    ShardSize,
    Workers,
    data_options,
    model_options,
)

MethodOpt = Annotated[Optional[list[str]], typer.Option(
    "--method", "-x", help="Explanation method, repeatable: occlusion, gradcam, gradcam++, "
    "scorecam, eigencam, layercam, integrated_gradients, saliency, guided_backprop, "
    "guided_gradcam.")]
RegionsOpt = Annotated[Optional[Path], typer.Option(
    "--regions", help='Face regions JSON {"mouth": [[r0, r1, c0, c1]], ...} replacing the '
    "default boxes.")]


@app.command()
@model_options(required=False, what="Zoo name or model file (default: the zoo's best FER2013 "
               "model).")
def saliency(image: Annotated[Path, typer.Argument(help="A photo, a face crop or a video.")],
             model: Optional[ModelSpec], method: MethodOpt = None,
             target: Annotated[str, typer.Option(
                 help="pred, an emotion, or a contrast such as sad-neutral.")] = "pred",
             out: Annotated[Optional[Path], typer.Option(
                 "--out", "-o", help="Panel PNG (default: <image>.saliency.png beside it); for a "
                 "video, the annotated .mp4 or .avi (default: <video>.saliency.mp4).")]
             = None,
             force: Force = False,
             no_detect: Annotated[bool, typer.Option(
                 "--no-detect", help="Treat the whole image as one face.")] = False,
             all_faces: Annotated[bool, typer.Option(
                 "--all-faces", help="Keep every detected box (default: drop boxes much "
                 "smaller than the largest face, or with no eye in them).")] = False,
             check: Annotated[bool, typer.Option(
                 "--check", help="Run (or read cached) trust checks of each method on this "
                 "model: sanity (model randomisation) and faithfulness badges.")] = False,
             regions: RegionsOpt = None, as_json: Json = False,
             overlay: Annotated[Optional[str], typer.Option(
                 help="Videos: a method whose map is drawn over the faces, e.g. gradcam.")]
             = None,
             every: Annotated[int, typer.Option(help="Videos: draw the overlay on every Nth "
                                                "frame.")] = 1,
             max_frames: Annotated[Optional[int], typer.Option(
                 help="Videos: read the first N frames at most (default: up to 108,000, an "
                 "hour at 30 frames/s; a header announcing more is refused).")] = None) -> None:
    """Explain the faces of one photo: a PNG panel per face (face, emotion probabilities,
    one overlay per method captioned with its off-face and region shares), an overview image
    with numbered boxes when there are several faces, and the top-3 emotions. A video (any
    file FFmpeg reads) gets an annotated video, a per-frame table, a timeline and a summary."""
    if tasks.is_video(image):
        v = tasks.saliency_video(image, model, method, regions, target, out, force,
                                 not no_detect, overlay, every, max_frames)
        typer.echo(json.dumps(v.summary, indent=1) if as_json else "\n".join(v.lines()))
        return
    r = tasks.saliency(image, model, method, target, out, force, not no_detect, regions,
                       all_faces, check)
    if r.note and not as_json:
        typer.echo(f"note: {r.note}", err=True)
    typer.echo(json.dumps(r.to_dict(), indent=1) if as_json else "\n".join(r.lines()))


@app.command()
@model_options()
@data_options
def checks(model: ModelSpec, data: DataSpec,
           n: Annotated[int, typer.Option("--n", help="Faces in the sample (seeded).")] = 256,
           method: MethodOpt = None, as_json: Json = False) -> None:
    """Trust verdicts of every explanation method on a model: sanity (cascading model
    randomisation, Adebayo et al. 2018) and faithfulness (deletion / insertion vs random)."""
    table, heading = tasks.checks(model, data, n, method)
    if as_json:
        typer.echo(table.reset_index().to_json(orient="records", indent=1))
        return
    typer.echo(heading)
    typer.echo(table.drop(columns=["n", "n_random"]).to_string(
        float_format=lambda v: f"{v:.3f}"))


@app.command()
@model_options()
@data_options
def regions(model: ModelSpec, data: DataSpec,
            method: Annotated[str, typer.Option("--method", "-x", help="Explanation method.")]
            = "occlusion",
            target: Annotated[str, typer.Option(
                help="true (true label, else prediction), pred, or an emotion.")] = "true",
            by: Annotated[str, typer.Option(help="Group rows by the true or pred class.")]
            = "true",
            limit: Annotated[Optional[int], typer.Option(help="Explain the first N faces.")]
            = None,
            regions_file: RegionsOpt = None, as_json: Json = False) -> None:
    """Per-class shares of attribution over face regions (brows, eyes, nose, mouth, ...);
    the ``area`` row is what an uninformative map would give."""
    import numpy as np

    table, target, seconds, used = tasks.regions(model, data, method, target, by, limit,
                                                 regions_file)
    if as_json:
        rows = json.loads(table.to_json(orient="index"))
        typer.echo(json.dumps({"regions": used.to_dict(), "classes": rows}, indent=1))
        return
    typer.echo(f"{model.name()} on {data.name()}: {method}, target {target}, "
               f"{int(table['n'].sum())} faces, {seconds:.1f} s; mean share of attribution "
               "per region (%)")
    typer.echo(used.line())
    shown = table.drop(columns="n") * 100
    shown.insert(0, "n", table["n"])
    typer.echo(shown.to_string(float_format=lambda v: f"{v:.1f}",
                               formatters={"n": lambda v: "" if np.isnan(v) else f"{int(v)}"}))


@app.command()
@model_options()
@data_options
def explain(model: ModelSpec, data: DataSpec,
            method: Annotated[list[str], typer.Option(
                "--method", "-x", help="Methods, repeatable or comma-separated, e.g. -x "
                "occlusion,gradcam.")],
            out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
            target: Annotated[str, typer.Option(
                help="pred, true, an emotion, or a contrast such as sad-neutral.")] = "pred",
            force: Force = False, engine: Engine = "local", address: Address = None,
            workers: Workers = None, gpus: Gpus = None, shard_size: ShardSize = None) -> None:
    """Explain every face of a data set: a partitioned parquet data set (a folder) with the
    predictions, the faces, each method's maps (float16) and their region shares and flags,
    computed in shards here or on a Ray cluster (a re-run resumes)."""
    from ..app import sharded

    r = sharded.run(model, data, out, method, target, engine=engine or "local",
                    address=address, workers=workers, gpus=gpus, shard_size=shard_size,
                    force=force)
    typer.echo("\n".join(sharded.lines(r)))
