"""Commands on models and data: models, predict, evaluate, train, finetune, ensemble,
dashboard."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..app import predicting, tasks, training
from ..dashboard.settings import usage
from ..errors import FervizError
from ..specs import DataSpec, ModelSpec
from .app import app
from .options import (
    Address,
    Engine,
    Force,
    Gpus,
    Json,
    ShardSize,
    Tta,
    Workers,
    data_options,
    model_options,
)

Out = Annotated[Path, typer.Option("--out", "-o", help="Output file (with --engine: folder).")]


@app.command()
def models(as_json: Json = False,
           archs: Annotated[bool, typer.Option(help="List registered architectures "
                                               "instead.")] = False,
           markdown: Annotated[bool, typer.Option(help="The README's zoo table.")] = False
           ) -> None:
    """List the zoo models with their cards (or the registered architectures)."""
    if archs:
        from ..app.catalog import archs as registered

        for card in registered():
            typer.echo(f"{card.arch:18} {card.params:>11,} params  cam: {card.cam_layer:12} "
                       f"{card.source}")
        return
    from ..app.catalog import zoo_cards, zoo_table

    if markdown:
        typer.echo(zoo_table())
        return
    cards = zoo_cards()
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in cards], indent=1))
        return
    typer.echo(f"{'model':24} {'arch':18} {'params':>10} {'test acc':>8} {'macro-F1':>8}  data")
    for c in cards:
        m = c.metrics
        acc = f"{m.accuracy * 100:.1f}%" if m and m.accuracy is not None else "-"
        f1 = f"{m.macro_f1:.3f}" if m and m.macro_f1 is not None else "-"
        typer.echo(f"{c.name:24} {c.arch:18} {c.params:>10,} {acc:>8} {f1:>8}  "
                   f"{c.info.get('data', '')}")


@app.command()
@model_options()
@data_options
def predict(model: ModelSpec, data: DataSpec, out: Out, tta: Tta = False,
            force: Force = False, engine: Engine = None, address: Address = None,
            workers: Workers = None, gpus: Gpus = None, shard_size: ShardSize = None) -> None:
    """Write the predictions table (parquet) of a model on a data set; with --engine, a
    partitioned data set (a folder) computed in shards, here or on a Ray cluster."""
    if engine is None and (address or workers is not None or gpus is not None
                           or shard_size is not None):
        raise FervizError("--address, --workers, --gpus and --shard-size need --engine")
    if engine is not None:
        from ..app import sharded

        r = sharded.run(model, data, out, None, tta=tta, engine=engine, address=address,
                        workers=workers, gpus=gpus, shard_size=shard_size, force=force)
        typer.echo("\n".join(sharded.lines(r)))
        return
    n = predicting.predict_to_file(model, data, out, tta, force)
    typer.echo(f"wrote {n} predictions to {out}")


@app.command()
@model_options()
@data_options
def evaluate(model: ModelSpec, data: DataSpec, tta: Tta = False, as_json: Json = False,
             update_card: Annotated[bool, typer.Option(
                 help="Write the metrics (with and without TTA) into the zoo entry's card.json."
             )] = False,
             half: Annotated[bool, typer.Option(
                 help="With --update-card: store the weights as float16 if that changes the "
                      "accuracy by at most 0.1 point (else keep float32 and fail).")] = False,
             by: Annotated[Optional[str], typer.Option(
                 help="Metrics per value of a column, e.g. subject, sequence, split.")] = None
             ) -> None:
    """Accuracy, macro-F1 and the per-class table of a model on a data set, with intervals,
    the contempt policy, per-group metrics and domain / leak warnings."""
    r = tasks.evaluate(model, data, tta, update_card, half, by)
    for note in r.notes:
        typer.echo(f"note: {note}", err=True)
    if as_json:
        typer.echo(json.dumps({**r.scores, "per_class": r.per_class.to_dict(orient="index"),
                               "confusion": r.confusion.values.tolist(), "notes": r.notes,
                               "warnings": r.warnings, **r.extra}, indent=1, default=str))
        return
    for line in r.warnings:
        typer.echo(line, err=True)
    typer.echo(f"{r.model} on {r.data}{' with TTA' if tta else ''}: {r.scores['n']} faces")
    typer.echo(f"accuracy {r.scores['accuracy'] * 100:.2f}%   macro-F1 "
               f"{r.scores['macro_f1']:.4f}")
    typer.echo("\n".join(r.lines))
    typer.echo(r.per_class.to_string(float_format=lambda v: f"{v:.3f}"))


@app.command()
@data_options
def train(arch: Annotated[str, typer.Option(help="Registered architecture (ferviz models "
                                            "--archs).")],
          data: DataSpec,
          out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (a zoo entry).")],
          class_weights: Annotated[bool, typer.Option(
              help="Weight the loss by inverse class frequency.")] = False,
          epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 60,
          batch_size: Annotated[int, typer.Option(help="Batch size.")] = 64,
          lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1e-3,
          optimizer: Annotated[str, typer.Option(help="adam or sgd.")] = "adam",
          augment: Annotated[bool, typer.Option(help="CS230 augmentation.")] = True,
          patience: Annotated[int, typer.Option(help="Early-stopping patience (epochs).")] = 15,
          seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
          init: Annotated[Optional[str], typer.Option(
              help="Start from this model's weights (zoo name or file; same architecture) "
                   "instead of a seeded random init: continue a finished run.")] = None,
          teacher: Annotated[str, typer.Option(
              help="Distil from this model (zoo name or file): its soft targets on the same "
                   "augmented faces.")] = "",
          distill: Annotated[float, typer.Option(
              help="Weight of the teacher's soft targets in the loss (0..1).")] = 0.0,
          temperature: Annotated[float, typer.Option(
              help="Distillation temperature.")] = 4.0,
          label_smoothing: Annotated[float, typer.Option(help="Label smoothing.")] = 0.0,
          force: Force = False,
          train_split: Annotated[Optional[str], typer.Option(
              help="Default: Training (FER2013) or train.")] = None,
          val_split: Annotated[Optional[str], typer.Option(
              help="Default: PublicTest (FER2013) or val.")] = None) -> None:
    """Train an architecture (resumable: re-run the same command to continue)."""
    s = training.train(arch, data, out, init=init, train_split=train_split, val_split=val_split,
                       force=force, log=typer.echo, progress=sys.stderr.isatty(), epochs=epochs,
                       batch_size=batch_size, lr=lr, optimizer=optimizer, augment=augment,
                       class_weights=class_weights, patience=patience, seed=seed,
                       teacher=teacher, distill=distill, temperature=temperature,
                       label_smoothing=label_smoothing)
    typer.echo(f"best {s['val_split']} accuracy {s['val_accuracy'] * 100:.2f}% at epoch "
               f"{s['best_epoch']}; wrote {out}")


@app.command()
@model_options()
@data_options
def finetune(model: ModelSpec, data: DataSpec,
             out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
             epochs: Annotated[int, typer.Option(help="Epochs of head training.")] = 30,
             lr: Annotated[float, typer.Option(help="Learning rate.")] = 3e-2,
             seed: Annotated[int, typer.Option(help="Seed of the 80/20 split.")] = 0,
             split_by: Annotated[Optional[str], typer.Option(
                 help="Hold out whole groups: subject or sequence (any group column).")]
             = None, force: Force = False) -> None:
    """Retrain a model's head on one person's labelled photos (-d root/<emotion>/*.jpg,
    80/20 split); report held-out accuracy before and after."""
    r = training.finetune(model, data, out, force, epochs=epochs, lr=lr, seed=seed,
                       split_by=split_by)
    typer.echo(f"{r['photos']} photos: trained the head on {r['train']}, held out "
               f"{r['held_out']}{f' (whole {split_by}s)' if split_by else ''}")
    typer.echo(f"held-out accuracy before {r['accuracy_before'] * 100:.1f}%, after "
               f"{r['accuracy_after'] * 100:.1f}%; wrote {out}")


@app.command()
def ensemble(members: Annotated[list[str], typer.Argument(help="Zoo models to average.")],
             out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (a zoo "
                                               "entry holding only card.json).")],
             force: Force = False) -> None:
    """Make a zoo ensemble that averages its members' probabilities (then `ferviz evaluate
    --update-card` it)."""
    card = training.ensemble(members, out, force)
    typer.echo(f"wrote {out / 'card.json'}: {card.params:,} parameters in {len(members)} members")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             epilog="Dashboard arguments:\n\n" + usage().replace("\n", "\n\n")
             + "\n\nStreamlit options (--server.port 8502, ...) pass through.")
def dashboard(ctx: typer.Context) -> None:
    """Start the dashboard (arguments after the command go to it, e.g. --data fer2013.csv.xz
    --roots DIR; streamlit options such as --server.port too)."""
    import os

    from ..dashboard.launch import split_args, streamlit_argv
    from ..dashboard.settings import resolve_settings

    resolve_settings(split_args(ctx.args)[1])  # a bad argument stops here, before a server
    argv = streamlit_argv(ctx.args)
    try:
        os.execv(argv[0], argv)  # streamlit takes this process over (signals reach it)
    except OSError as e:
        raise FervizError(f"cannot start streamlit ({e})") from e


@app.command()
def convert(model: Annotated[str, typer.Argument(help="Keras model file (.h5, .hdf5, .keras).")],
            out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write: card.json "
                                              "and weights.safetensors (load it with -m).")],
            preset: Annotated[Optional[str], typer.Option(
                help="face_classification or emotion-detection.")] = None,
            normalize: Annotated[Optional[str], typer.Option(
                help="0..1, -1..1, 0..255, imagenet or MEAN,STD.")] = None,
            label_order: Annotated[Optional[str], typer.Option(
                help="fer2013, ferplus, or comma-separated names.")] = None,
            trust: Annotated[bool, typer.Option(help="Allow Keras Lambda layers (runs code).")]
            = False, force: Force = False) -> None:
    """Copy a Keras model's weights into the registered network it matches layer for layer,
    so every fast path applies."""
    card, diff = tasks.convert(model, out, force=force, preset=preset, trust=trust,
                               normalize=normalize, labels=label_order)
    if card.info["assumed_at_conversion"]:
        typer.echo(f"note: {card.info['assumed_at_conversion']}", err=True)
    typer.echo(f"wrote {out}: {card.arch}, {card.params:,} parameters, outputs within "
               f"{diff:.1g} of the Keras model's")
