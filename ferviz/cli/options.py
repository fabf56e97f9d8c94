"""Options declared once: every command that takes a model or a data set gets the same set,
injected into its signature and handed to it as a :class:`ModelSpec` / :class:`DataSpec`."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from ..specs import DataSpec, ModelSpec

KW = inspect.Parameter.KEYWORD_ONLY
Force = Annotated[bool, typer.Option(help="Overwrite existing outputs.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Tta = Annotated[bool, typer.Option(help="Test-time augmentation (flip, small rotations, "
                                   "shifts, zoom).")]

Engine = Annotated[Optional[str], typer.Option(
    help="Write a partitioned parquet data set (a folder, one part per shard; a re-run "
    "resumes) computed by 'local' (this process) or 'ray' (a Ray cluster).")]
Address = Annotated[Optional[str], typer.Option(
    help="--engine ray: the cluster ('auto' = the running one; default: start a local one).")]
Workers = Annotated[Optional[int], typer.Option(
    help="--engine ray: model replicas (default: one per CPU, or per GPU with --gpus).")]
Gpus = Annotated[Optional[float], typer.Option(
    help="--engine ray: GPUs per replica (e.g. 1 or 0.5; default: 1 when the cluster has "
    "GPUs).")]
ShardSize = Annotated[Optional[int], typer.Option(help="Faces per shard (default 4096).")]


def _model_params(prefix: str, required: bool, what: str,
                  many: bool = False) -> list[inspect.Parameter]:
    """The model options, named ``--model/-m, --arch, ...`` or ``--<prefix>, --<prefix>-arch...``
    (``many``: ``--model`` repeats, the other options apply to every model)."""
    name = prefix or "model"
    flags = (f"--{prefix}",) if prefix else ("--model", "-m")
    p = f"{prefix}_" if prefix else ""
    opt = typer.Option
    spec = [
        (name, Annotated[list[str] if many else str if required else Optional[str],
                         opt(*flags, help=what)]),
        (f"{p}arch", Annotated[Optional[str], opt(help="Architecture of a state dict: "
                                                  "registered name or file.py:ClassName.")]),
        (f"{p}trust", Annotated[bool, opt(help="Allow running code from the model file "
                                          "(TorchScript, unpickling a whole model, a file.py "
                                          "architecture named by a sidecar, Keras Lambda "
                                          "layers).")]),
        (f"{p}input_size", Annotated[Optional[int], opt(help="Model input side, e.g. 64.")]),
        (f"{p}channels", Annotated[Optional[int], opt(help="Model input channels (1 or 3).")]),
        (f"{p}normalize", Annotated[Optional[str], opt(help="0..1, -1..1, 0..255, "
                                                       "imagenet or MEAN,STD.")]),
        (f"{p}label_order", Annotated[Optional[str], opt(help="Model output order: fer2013, "
                                                         "ferplus, or comma-separated names.")]),
        (f"{p}output", Annotated[Optional[str], opt(help="Model output: logits, probs, "
                                                    "log_probs, sigmoid (independent "
                                                    "per-class scores).")]),
        (f"{p}preset", Annotated[Optional[str], opt(
            help="Preprocessing and label order of a Keras project: face_classification "
                 "(x/127.5-1), emotion-detection (x/255, alphabetical classes).")]),
        (f"{p}cam_layer", Annotated[Optional[str], opt(
            help="Grad-CAM target layer, e.g. features.3 (default: the card's, else the last "
                 "convolution with a spatial output).")]),
    ]
    defaults = {f"{p}trust": False}
    return [inspect.Parameter(n, KW, annotation=a,
                              default=defaults.get(n, inspect.Parameter.empty if
                                                   (n == name and required) else None))
            for n, a in spec]


def _data_params() -> list[inspect.Parameter]:
    opt = typer.Option
    spec = [
        ("data", Annotated[str, opt("--data", "-d", help="fer2013 csv, image folder, photo, "
                                    "or 'synth' (the FER-Synth demo set).")]),
        ("split", Annotated[Optional[str], opt(help="Split, e.g. PrivateTest or test "
                                               "(default: all faces).")]),
        ("labels", Annotated[str, opt(help="fer2013, ferplus-majority or ferplus-dist.")]),
        ("ferplus", Annotated[Optional[Path], opt(help="FER+ votes (fer2013new.csv).")]),
        ("contempt", Annotated[Optional[str], opt(
            help="merge (into neutral), drop, or keep (8th class); default: the source's "
                 "(FER+ votes merge, image folders drop).")]),
        ("groups", Annotated[Optional[Path], opt(
            help="csv: face id (or file name) then group columns, e.g. id,subject.")]),
        ("group_regex", Annotated[Optional[str], opt(
            help="Regex with named groups read from face ids, e.g. '(?P<subject>S\\d+)_'.")]),
        ("one_per_sequence", Annotated[bool, opt(help="Keep one frame (the last) per "
                                                 "sequence.")]),
    ]
    defaults = {"data": inspect.Parameter.empty, "labels": "fer2013", "one_per_sequence": False}
    return [inspect.Parameter(n, KW, annotation=a, default=defaults.get(n, None))
            for n, a in spec]


def _inject(target: str, params: list[inspect.Parameter],
            build: Callable[[dict[str, Any]], Any]) -> Callable:
    """Replace a command's ``target`` parameter by ``params`` (as typer sees the command),
    and call it with ``build(values of params)`` in their place."""
    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn, eval_str=True)
        own = [q.replace(kind=KW) for q in sig.parameters.values() if q.name != target]
        names = [q.name for q in params]

        @functools.wraps(fn)
        def wrapper(**kw: Any) -> Any:
            kw[target] = build({n: kw.pop(n) for n in names})
            return fn(**kw)

        new = sig.replace(parameters=[*params, *own])
        wrapper.__signature__ = new  # type: ignore[attr-defined]
        wrapper.__annotations__ = {q.name: q.annotation for q in new.parameters.values()}
        return wrapper
    return decorate


def model_options(prefix: str = "", required: bool = True,
                  what: str = "Zoo name or model file.", many: bool = False) -> Callable:
    """Give a command the model options; it receives ``model`` (or ``<prefix>``) as a
    :class:`ModelSpec` (None when optional and not given), or with ``many`` a list of them
    (``--model`` repeated, every other option applying to each)."""
    target = prefix or "model"
    p = f"{prefix}_" if prefix else ""

    def one(name: str, v: dict[str, Any]) -> ModelSpec:
        return ModelSpec(name, **{k[len(p):]: x for k, x in v.items() if k != target})

    def build(v: dict[str, Any]) -> ModelSpec | list[ModelSpec] | None:
        if v[target] is None:
            return None
        return [one(name, v) for name in v[target]] if many else one(v[target], v)
    return _inject(target, _model_params(prefix, required, what, many), build)


def data_options(fn: Callable) -> Callable:
    """Give a command the data options; it receives ``data`` as a :class:`DataSpec`."""
    def build(v: dict[str, Any]) -> DataSpec:
        paths = {k: str(v[k]) if v[k] else None for k in ("ferplus", "groups")}
        return DataSpec(v["data"], v["split"], v["labels"], paths["ferplus"], v["contempt"],
                        paths["groups"], v["group_regex"], v["one_per_sequence"])
    return _inject("data", _data_params(), build)(fn)
