"""The ``ferviz`` command. Heavy libraries are imported inside commands, never at the top."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import FervizError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Interpretability and error analysis for facial expression recognition.",
                  pretty_exceptions_enable=False)

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Zoo name or model file.")]
DataOpt = Annotated[str, typer.Option("--data", "-d", help="fer2013 csv, image folder, photo, "
                                      "or 'synth' (the FER-Synth demo set).")]
SplitOpt = Annotated[Optional[str], typer.Option(help="Split, e.g. PrivateTest or test.")]
LabelsOpt = Annotated[str, typer.Option(help="fer2013, ferplus-majority or ferplus-dist.")]
FerplusOpt = Annotated[Optional[Path], typer.Option(help="FER+ votes (fer2013new.csv).")]
ArchOpt = Annotated[Optional[str], typer.Option(help="Architecture of a state dict: registered "
                                                "name or file.py:ClassName.")]
TrustOpt = Annotated[bool, typer.Option(help="Allow unpickling a whole model (runs its code).")]
InputSizeOpt = Annotated[Optional[int], typer.Option(help="Model input side, e.g. 64.")]
ChannelsOpt = Annotated[Optional[int], typer.Option(help="Model input channels (1 or 3).")]
NormOpt = Annotated[Optional[str], typer.Option(help="0..1, -1..1, 0..255 or MEAN,STD.")]
LabelOrderOpt = Annotated[Optional[str], typer.Option(
    "--label-order", help="Model output order: fer2013, ferplus, or comma-separated names.")]
OutputOpt = Annotated[Optional[str], typer.Option(help="Model output: logits, probs, log_probs.")]


def _model(spec: str, arch: str | None = None, trust: bool = False, input_size: int | None = None,
           channels: int | None = None, normalize: str | None = None,
           label_order: str | None = None, output: str | None = None):
    from .models.load import load_model

    return load_model(spec, arch=arch, trust=trust, input_size=input_size, channels=channels,
                      normalize=normalize, labels=label_order, output=output)


def _data(spec: str, split: str | None, labels: str = "fer2013", ferplus: Path | None = None):
    from .data import open_data

    records = open_data(spec, split=split, labels=labels, ferplus=ferplus)
    records.images()  # decode (or read the cached) faces now: a bad image fails before torch
    return records


@app.command()
def models(as_json: Annotated[bool, typer.Option("--json", help="Cards as JSON.")] = False,
           archs: Annotated[bool, typer.Option(help="List registered architectures instead.")]
           = False,
           markdown: Annotated[bool, typer.Option(help="The README's zoo table.")] = False
           ) -> None:
    """List the zoo models with their cards (or the registered architectures)."""
    if archs:
        from .models.registry import create_model, list_models

        for name in list_models():
            _, card = create_model(name)
            typer.echo(f"{name:18} {card.params:>11,} params  cam: {card.cam_layer:12} "
                       f"{card.source}")
        return
    from .models import zoo

    if markdown:
        typer.echo(zoo.markdown_table())
        return
    cards = [zoo.card(n) for n in zoo.names()]
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in cards], indent=1))
        return
    typer.echo(f"{'model':24} {'arch':18} {'params':>10} {'test acc':>8} {'macro-F1':>8}  data")
    for c in cards:
        m = c.info.get("metrics", {})
        acc = f"{m['accuracy'] * 100:.1f}%" if "accuracy" in m else "-"
        f1 = f"{m['macro_f1']:.3f}" if "macro_f1" in m else "-"
        typer.echo(f"{c.name:24} {c.arch:18} {c.params:>10,} {acc:>8} {f1:>8}  "
                   f"{c.info.get('data', '')}")


@app.command()
def predict(model: ModelOpt, data: DataOpt,
            out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
            split: SplitOpt = None, tta: Annotated[bool, typer.Option(
                help="Test-time augmentation (flip, small rotations, shifts, zoom).")] = False,
            labels: LabelsOpt = "fer2013", ferplus: FerplusOpt = None, arch: ArchOpt = None,
            trust: TrustOpt = False, input_size: InputSizeOpt = None,
            channels: ChannelsOpt = None, normalize: NormOpt = None,
            label_order: LabelOrderOpt = None, output: OutputOpt = None) -> None:
    """Write the predictions table (parquet) of a model on a data set."""
    records = _data(data, split, labels, ferplus)  # data first: its errors need no torch
    m = _model(model, arch, trust, input_size, channels, normalize, label_order, output)
    from .predict import predict as run, save_table

    df = run(m, records, tta=tta)
    save_table(df, out)
    typer.echo(f"wrote {len(df)} predictions to {out}")


@app.command()
def evaluate(model: ModelOpt, data: DataOpt, split: SplitOpt = None,
             tta: Annotated[bool, typer.Option(help="Test-time augmentation.")] = False,
             labels: LabelsOpt = "fer2013", ferplus: FerplusOpt = None, arch: ArchOpt = None,
             trust: TrustOpt = False, input_size: InputSizeOpt = None,
             channels: ChannelsOpt = None, normalize: NormOpt = None,
             label_order: LabelOrderOpt = None, output: OutputOpt = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
             update_card: Annotated[bool, typer.Option(
                 help="Write the metrics (with and without TTA) into the zoo entry's card.json."
             )] = False,
             half: Annotated[bool, typer.Option(
                 help="With --update-card: store the weights as float16 if that changes the "
                      "accuracy by at most 0.1 point (else keep float32 and fail).")] = False
             ) -> None:
    """Accuracy, macro-F1 and the per-class table of a model on a data set."""
    if half and not update_card:
        raise FervizError("--half rewrites a zoo entry's weights: use it with --update-card")
    records = _data(data, split, labels, ferplus)  # data first: its errors need no torch
    m = _model(model, arch, trust, input_size, channels, normalize, label_order, output)
    from .analysis.metrics import confusion, per_class, summary
    from .predict import predict as run

    fp32 = None
    if half:
        from .models.card_metrics import rounded_to_half

        fp32 = summary(run(m, records))["accuracy"]
        m = rounded_to_half(m)
    df = run(m, records, tta=tta)
    s, pc = summary(df), per_class(df)
    if update_card:
        from .models.card_metrics import write_half_weights, write_metrics

        other = run(m, records, tta=not tta)
        if half:
            fp16 = summary(other if tta else df)["accuracy"]
            if abs(fp16 - fp32) > 0.001:
                raise FervizError(f"float16 weights move the accuracy from {fp32:.2%} to "
                                  f"{fp16:.2%} (more than 0.1 point); kept float32")
            typer.echo(f"float16 weights: accuracy {fp32:.2%} -> {fp16:.2%}; wrote "
                       f"{write_half_weights(model, m)}")
        path = write_metrics(model, df, other, tta, data=f"{records.name} [{split or 'all'}]",
                             fp32_accuracy=fp32)
        typer.echo(f"updated {path}")
    if as_json:
        typer.echo(json.dumps({**s, "per_class": pc.to_dict(orient="index"),
                               "confusion": confusion(df).values.tolist()}, indent=1))
        return
    typer.echo(f"{m.card.name} on {data}{f' [{split}]' if split else ''}"
               f"{' with TTA' if tta else ''}: {s['n']} faces")
    typer.echo(f"accuracy {s['accuracy'] * 100:.2f}%   macro-F1 {s['macro_f1']:.4f}")
    typer.echo(pc.to_string(float_format=lambda v: f"{v:.3f}"))


@app.command()
def train(arch: Annotated[str, typer.Option(help="Registered architecture (ferviz models --archs).")],
          data: DataOpt,
          out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (a zoo entry).")],
          labels: LabelsOpt = "fer2013", ferplus: FerplusOpt = None,
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
          train_split: Annotated[Optional[str], typer.Option(
              help="Default: Training (FER2013) or train.")] = None,
          val_split: Annotated[Optional[str], typer.Option(
              help="Default: PublicTest (FER2013) or val.")] = None) -> None:
    """Train an architecture (resumable: re-run the same command to continue)."""
    from dataclasses import replace

    from .data import open_data
    from .recipe import Recipe

    recipe = Recipe(arch=arch, labels=labels, epochs=epochs, batch_size=batch_size, lr=lr,
                    optimizer=optimizer, augment=augment, class_weights=class_weights,
                    patience=patience, seed=seed)  # checked before any work
    records = open_data(data, labels=labels, ferplus=ferplus)
    splits = {str(s) for s in records.splits}
    train_split = train_split or ("Training" if "Training" in splits else "train")
    val_split = val_split or ("PublicTest" if "PublicTest" in splits else "val")
    train_set, val_set = records.split(train_split), records.split(val_split)
    from .models.fermodel import FERModel
    from .models.load import load_model
    from .models.registry import create_model
    import torch

    from .train import train as run

    torch.manual_seed(seed)  # the initial weights follow the seed too
    net, card = create_model(arch)
    model = FERModel(net, card)
    if init:
        start = load_model(init, arch=arch)
        if start.card.arch != arch:
            raise FervizError(f"--init {init} is a {start.card.arch}, not a {arch}")
        net.load_state_dict(start.net.state_dict())
        recipe = replace(recipe, init=f"{init} ({start.digest()[:12]})")
    summary = run(model, recipe, train_set, val_set, out,
                  progress=sys.stderr.isatty(), log=typer.echo,
                  data=f"{records.name}: train {train_split}, select on {val_split}")
    typer.echo(f"best {val_split} accuracy {summary['val_accuracy'] * 100:.2f}% at epoch "
               f"{summary['best_epoch']}; wrote {out}")


@app.command()
def ensemble(members: Annotated[list[str], typer.Argument(help="Zoo models to average.")],
             out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (a zoo "
                                               "entry holding only card.json).")]) -> None:
    """Make a zoo ensemble that averages its members' probabilities (then `ferviz evaluate
    --update-card` it)."""
    from .models.zoo import write_ensemble

    card = write_ensemble(members, out)
    typer.echo(f"wrote {out / 'card.json'}: {card.params:,} parameters in {len(members)} members")


@app.command()
def report(model: ModelOpt, data: DataOpt, split: SplitOpt = None,
           compare: Annotated[Optional[str], typer.Option(
               help="A second model (zoo name or file) to compare on the same faces.")] = None,
           compare_preds: Annotated[Optional[Path], typer.Option(
               help="A predictions table (parquet) on the same faces to compare with.")] = None,
           saliency: Annotated[str, typer.Option(
               help="Comma-separated explanation methods for the gallery overlays, or 'none'.")]
           = "occlusion,gradcam",
           out: Annotated[Optional[Path], typer.Option(
               "--out", "-o", help="HTML file (default: a new file under reports/).")] = None,
           force: Annotated[bool, typer.Option(help="Overwrite an existing --out file.")] = False,
           tta: Annotated[bool, typer.Option(help="Test-time augmentation.")] = False,
           top: Annotated[int, typer.Option(help="Top confusions with a gallery each.")] = 6,
           max_saliency: Annotated[int, typer.Option(
               help="Most gallery faces to explain.")] = 100,
           spread: Annotated[float, typer.Option(
               help="Ambiguous: the 3 likeliest emotions within this much.")] = 0.10,
           labels: LabelsOpt = "fer2013", ferplus: FerplusOpt = None, arch: ArchOpt = None,
           trust: TrustOpt = False, input_size: InputSizeOpt = None,
           channels: ChannelsOpt = None, normalize: NormOpt = None,
           label_order: LabelOrderOpt = None, output: OutputOpt = None) -> None:
    """Write the self-contained HTML error report of a model on a data set."""
    import pandas as pd

    from .predict import predict as run
    from .report import Options, build_html, default_path, write_report
    from .report.saliency import check_methods

    if compare and compare_preds:
        raise FervizError("use --compare or --compare-preds, not both")
    methods = tuple(s.strip() for s in saliency.split(",") if s.strip() and s.strip() != "none")
    check_methods(methods)
    if out is not None and out.exists() and not force:
        raise FervizError(f"{out} exists; use --force to overwrite it")
    other, other_name = None, ""
    if compare_preds:
        if not compare_preds.is_file():
            raise FervizError(f"{compare_preds}: no such file")
        try:
            other, other_name = pd.read_parquet(compare_preds), compare_preds.name
        except (OSError, ValueError) as e:
            raise FervizError(f"{compare_preds}: not a readable parquet table ({e})") from e
    m = _model(model, arch, trust, input_size, channels, normalize, label_order, output)
    records = _data(data, split, labels, ferplus)
    df = run(m, records, tta=tta)
    if compare:
        m2 = _model(compare)
        other, other_name = run(m2, records, tta=tta), m2.card.name or compare
    opts = Options(top_k=top, max_saliency=max_saliency, spread=spread, saliency=methods)
    info = {"data": records.name or data, "split": split or "all",
            "predictions": "with TTA" if tta else "without TTA"}
    html = build_html(df, records.images(), model=m, model_card=m.card.to_dict(), data_info=info,
                      compare=other, compare_name=other_name, options=opts,
                      title=f"{m.card.name or model} on {records.name or data}"
                            f"{f' [{split}]' if split else ''}")
    path = write_report(html, out or default_path(m.card.name or Path(model).stem,
                                                  Path(data).name.split(".")[0], split or ""),
                        force=force)
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@app.command()
def finetune(model: ModelOpt,
             data: Annotated[str, typer.Option("--data", "-d", help="Folder of one person's "
                                               "labelled photos: root/<emotion>/*.jpg.")],
             out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
             epochs: Annotated[int, typer.Option(help="Epochs of head training.")] = 30,
             lr: Annotated[float, typer.Option(help="Learning rate.")] = 3e-2,
             seed: Annotated[int, typer.Option(help="Seed of the 80/20 split.")] = 0) -> None:
    """Retrain a model's head on one person's photos (80/20 split); report held-out accuracy
    before and after."""
    from .data import open_data
    from .train import finetune as run

    m = _model(model)
    r = run(m, open_data(data), out, epochs=epochs, lr=lr, seed=seed, log=lambda _: None)
    typer.echo(f"{r['photos']} photos: trained the head on {r['train']}, held out "
               f"{r['held_out']}")
    typer.echo(f"held-out accuracy before {r['accuracy_before'] * 100:.1f}%, after "
               f"{r['accuracy_after'] * 100:.1f}%; wrote {out}")


MethodOpt = Annotated[Optional[list[str]], typer.Option(
    "--method", "-x", help="Explanation method, repeatable: occlusion, gradcam, gradcam++, "
    "scorecam, eigencam, layercam, integrated_gradients, saliency, guided_backprop, "
    "guided_gradcam.")]
RegionsOpt = Annotated[Optional[Path], typer.Option(
    help='Face regions JSON {"mouth": [[r0, r1, c0, c1]], ...} replacing the default boxes.')]


@app.command()
def saliency(image: Annotated[Path, typer.Argument(help="A photo or a face crop.")],
             model: Annotated[Optional[str], typer.Option(
                 "--model", "-m", help="Zoo name or model file (default: the zoo's best "
                 "FER2013 model).")] = None,
             method: MethodOpt = None,
             target: Annotated[str, typer.Option(
                 help="pred, an emotion, or a contrast such as sad-neutral.")] = "pred",
             out: Annotated[Optional[Path], typer.Option(
                 "--out", "-o", help="Panel PNG (default: <image>.saliency.png beside it).")]
             = None,
             force: Annotated[bool, typer.Option(help="Overwrite existing panels.")] = False,
             no_detect: Annotated[bool, typer.Option(
                 "--no-detect", help="Treat the whole image as one face.")] = False,
             regions: RegionsOpt = None, arch: ArchOpt = None, trust: TrustOpt = False,
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
             ) -> None:
    """Explain the faces of one photo: a PNG panel per face (face, emotion probabilities,
    one overlay per method with region shares) and the top-3 emotions."""
    from .explain.photo import DEFAULT_METHODS, default_model, explain_photo, output_paths
    from .explain.registry import get_method

    methods = [get_method(m).name for m in (method or DEFAULT_METHODS)]
    note = None
    if model is None:
        model, note = default_model()
    if note and not as_json:
        typer.echo(f"note: {note}", err=True)
    m = _model(model, arch, trust)
    region_spec = None
    if regions is not None:
        from .explain.regions import load_regions

        region_spec = load_regions(regions)
    from .data.photos import load_photo

    records = load_photo(image, detect="never" if no_detect else "auto")
    paths = output_paths(image, len(records), out, force)
    faces = explain_photo(records, m, methods, target, region_spec)
    from .viz.overlays import PanelMap, write_panel

    for f, path in zip(faces, paths):
        maps = [PanelMap(f"{name} ({s.target_names()[0]})", s.maps[0], f.shares[name])
                for name, s in f.maps.items()]
        write_panel(path, f.face, f.probs, maps, f"{f.id}  -  {m.card.name}", force=force)
    if as_json:
        typer.echo(json.dumps({"model": m.card.name, "note": note, "faces": [
            f.to_dict(str(p)) for f, p in zip(faces, paths)]}, indent=1))
        return
    for f, path in zip(faces, paths):
        top = ", ".join(f"{e} {p * 100:.1f}%" for e, p in f.top())
        typer.echo(f"{f.id}: {top}  -> {path}")


@app.command()
def regions(model: ModelOpt, data: DataOpt, split: SplitOpt = None,
            method: Annotated[str, typer.Option("--method", "-x", help="Explanation method.")]
            = "occlusion",
            target: Annotated[str, typer.Option(
                help="true (true label, else prediction), pred, or an emotion.")] = "true",
            by: Annotated[str, typer.Option(help="Group rows by the true or pred class.")]
            = "true",
            limit: Annotated[Optional[int], typer.Option(help="Explain the first N faces.")]
            = None,
            labels: LabelsOpt = "fer2013", ferplus: FerplusOpt = None, arch: ArchOpt = None,
            trust: TrustOpt = False, regions_file: Annotated[Optional[Path], typer.Option(
                "--regions", help='Face regions JSON {"mouth": [[r0, r1, c0, c1]], ...}.')]
            = None,
            as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
            ) -> None:
    """Per-class shares of attribution over face regions (brows, eyes, nose, mouth, ...);
    the ``area`` row is what an uninformative map would give."""
    import numpy as np

    from .explain import explain
    from .explain.regions import class_table, load_regions

    m = _model(model, arch, trust)
    records = _data(data, split, labels, ferplus)
    if limit is not None:
        records = records.select(slice(0, limit))
    known = records.labels >= 0
    if target == "true" and not known.all():
        target = "pred" if not known.any() else target
        if target == "true":
            raise FervizError("some faces have no label; use --target pred")
    maps = explain(m, records, target=target, method=method,
                   progress=len(records) > 256)
    if by == "true" and known.all():
        classes = records.labels
    elif by in ("true", "pred"):
        from .predict import predict_proba

        classes = np.argmax(predict_proba(m, records.images()), axis=1)
    else:
        raise FervizError(f"--by must be true or pred, not {by!r}")
    table = class_table(maps.maps, classes, load_regions(regions_file) if regions_file else None)
    if as_json:
        typer.echo(table.to_json(orient="index", indent=1))
        return
    typer.echo(f"{m.card.name} on {data}{f' [{split}]' if split else ''}: {method}, target "
               f"{target}, {len(records)} faces, {maps.seconds:.1f} s; mean share of "
               "attribution per region (%)")
    shown = table.drop(columns="n") * 100
    shown.insert(0, "n", table["n"])
    typer.echo(shown.to_string(float_format=lambda v: f"{v:.1f}",
                               formatters={"n": lambda v: "" if np.isnan(v) else f"{int(v)}"}))


def main() -> None:
    """Entry point: run the app; bad input becomes one message and exit code 2."""
    try:
        app(standalone_mode=False)
    except FervizError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as e:  # click's own usage errors
        import click

        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(1)
        raise
