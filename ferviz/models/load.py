"""Load any model ferviz supports and return it as a :class:`FERModel`.

Accepted specs: a zoo name or a folder laid out like a zoo entry; a state dict
(``.safetensors``, ``.pt``, ``.pth``, ``.bin``; also dicts that wrap it under a key) with an
architecture (registered name or ``path/to/file.py:ClassName``); ONNX; Keras ``.h5`` /
``.hdf5`` / ``.keras`` files (see :mod:`ferviz.models.keras`); and, only with ``trust=True``
(they are programs), TorchScript and a fully pickled ``nn.Module``.

torch is imported only once a spec has passed the checks that need no torch, so bad input
fails fast.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FervizError, regular_file, shown, user_code_errors
from ..labels import FACE_SIZE
from . import zoo
from .card import ModelCard
from .files import (
    is_torchscript,
    load_onnx,
    load_torchscript,
    load_weights,
    read_state_dict,
    torch_load,
)
from .registry import create_model

if TYPE_CHECKING:
    from torch import nn

    from .fermodel import FERModel

STATE_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".ckpt")
KERAS_SUFFIXES = (".h5", ".hdf5", ".keras")  # run by ferviz.models.keras


def load_model(spec: str, arch: str | None = None, trust: bool = False,
               arch_kwargs: dict[str, Any] | None = None, preset: str | None = None, *,
               arch_trusted: bool = True, **options: Any) -> FERModel:
    """Load a model from a zoo name, a zoo entry folder or a file.

    Code runs only when the person running ferviz asked for it: an ``arch`` of the form
    ``file.py:ClassName`` given by them runs that file; one read from a sidecar, a card, or
    (``arch_trusted=False``) a URL or other shared state needs ``trust``.

    Args:
        spec: zoo entry name, a folder holding ``card.json`` (a zoo entry, e.g. the output of
            ``ferviz train``), or a path to weights / TorchScript / ONNX / a pickled module.
        arch: architecture of a state dict: a registered name or ``file.py:ClassName``. A
            sidecar ``<weights>.json`` card may give it (and any option) instead.
        trust: allow loading TorchScript, unpickling a whole ``nn.Module`` and running a
            ``file.py`` architecture named by a sidecar, a card or an untrusted ``arch``.
        arch_kwargs: constructor keyword arguments for a ``file.py:ClassName`` architecture.
        preset: named card options (normalisation, label order) under the sidecar and
            ``options``, e.g. ``face_classification``; see :data:`ferviz.models.keras.PRESETS`.
        arch_trusted: whether ``arch`` was typed by the person running ferviz (``--arch``);
            False for values from a URL or shared state.
        **options: card overrides (input_size, channels, normalize, labels, output,
            cam_layer); see :meth:`ModelCard.with_options`.

    Raises:
        FervizError: for every input ferviz cannot load, with the reason.
    """
    ModelCard(arch="").with_options(**options)  # bad options fail before any loading
    preset_opts = {}
    if preset is not None:
        from .keras import preset_options

        preset_opts = preset_options(preset)
    path = Path(spec)
    entry = zoo.root() / spec if zoo.exists(spec) else None
    if entry is None:
        regular_file(path, "model file")
        if not path.exists():
            raise FervizError(f"{shown(spec)}: neither a file nor a zoo model (zoo: "
                              f"{', '.join(zoo.names()) or 'empty'})")
        if path.is_dir() and not (path / "card.json").is_file():
            raise FervizError(f"{shown(path)}: a folder, not a model; give a model file, or "
                              "a zoo entry folder (card.json and weights.safetensors)")
        entry = path if path.is_dir() else None
    if entry is not None:
        model = _load_entry(entry, trust)
        if arch and arch != model.card.arch:
            raise FervizError(f"{shown(spec)} is a {model.card.arch}, not a {arch} (its card "
                              "says so); --arch names the architecture of a state-dict file")
        return _finish(model.net, model.card.with_options(**preset_opts).with_options(**options),
                       options.get("cam_layer"))
    sidecar = path.with_name(path.name + ".json")
    card_opts = _read_sidecar(sidecar) if sidecar.is_file() else {}
    origin = None if arch_trusted else "an arch that was not typed by you"
    if arch is None and "arch" in card_opts:
        arch, origin = _beside(card_opts["arch"], sidecar.parent), f"{shown(sidecar)} (sidecar)"
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        net, card = load_onnx(path), ModelCard(arch="onnx", name=path.name)
    elif suffix in KERAS_SUFFIXES:
        from .keras import load_keras, with_assumptions

        if arch is not None:
            raise FervizError(f"{shown(path)}: a Keras model file carries its architecture; "
                              "--arch is for state dicts")
        net, card = load_keras(path, trust)
        card = with_assumptions(card, {*preset_opts, *card_opts, *(
            k for k, v in options.items() if v is not None)})
    elif is_torchscript(path):
        net, card = load_torchscript(path, trust), ModelCard(arch="torchscript", name=path.name)
    elif arch is not None:
        net, card = _build(arch, arch_kwargs or {}, None if trust else origin)
        load_weights(net, read_state_dict(path), path)
        card = replace(card, name=path.name)
    elif suffix == ".safetensors":
        raise FervizError(f"{shown(path)}: a .safetensors file holds weights only; give "
                          "--arch NAME (ferviz models --archs) or --arch file.py:ClassName, or "
                          f"a sidecar {shown(sidecar.name)} with {{\"arch\": ...}}")
    elif suffix in STATE_SUFFIXES or suffix == "":
        from torch import nn

        obj = torch_load(path, trust)
        if not isinstance(obj, nn.Module):
            raise FervizError(f"{shown(path)}: holds a state dict; say which architecture it "
                              "is for (--arch NAME or --arch file.py:ClassName, or a sidecar "
                              f"{shown(sidecar.name)} with {{\"arch\": ...}})")
        net, card = obj, ModelCard(arch=type(obj).__name__, name=path.name)
    else:
        raise FervizError(f"{shown(path)}: unknown model file type {suffix!r}")
    card = card.with_options(**preset_opts).with_options(
        **{k: v for k, v in card_opts.items() if k in _OPTION_KEYS})
    return _finish(net, card.with_options(**options), options.get("cam_layer"))


def wrap_module(net: nn.Module, **options: Any) -> FERModel:
    """A plain ``nn.Module`` as a model, with the default card (48x48 grayscale faces in
    [0, 1], FER2013's label order, logits) changed by ``options`` (see
    :meth:`ModelCard.with_options`); the CAM layer is found as for a file.

    Raises:
        FervizError: bad options, or a module that fails on test faces.
    """
    card = ModelCard(arch=type(net).__name__, name=type(net).__name__).with_options(**options)
    return _finish(net.eval(), card, options.get("cam_layer"))


_OPTION_KEYS = ("input_size", "channels", "normalize", "labels", "output", "cam_layer")


def _read_sidecar(path: Path) -> dict[str, Any]:
    """A ``<weights>.json`` card: ``arch`` and card options; a typo is an error, not ignored."""
    try:
        opts = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise FervizError(f"{shown(path)}: not a readable JSON card ({e})") from e
    if not isinstance(opts, dict):
        raise FervizError(f"{shown(path)}: a sidecar card must be a JSON object")
    unknown = sorted(set(opts) - {"arch", *_OPTION_KEYS})
    if unknown:
        raise FervizError(f"{shown(path)}: unknown keys {', '.join(unknown)} (known: arch, "
                          f"{', '.join(_OPTION_KEYS)})")
    for key, value in opts.items():
        whole = key in ("input_size", "channels")
        if not (isinstance(value, int) and not isinstance(value, bool) if whole else
                isinstance(value, str)):
            raise FervizError(f"{shown(path)}: {key} must be a "
                              f"{'whole number' if whole else 'string'}, not {value!r}")
    try:
        ModelCard(arch="").with_options(**{k: v for k, v in opts.items() if k != "arch"})
    except FervizError as e:
        raise FervizError(f"{shown(path)}: {e}") from e
    return opts


def _finish(net: nn.Module, card: ModelCard, named: str | None = None) -> FERModel:
    """Wrap, count parameters, and try the model on eight faces (a black, a grey and six of
    noise): it must give one finite row of class scores per face, which fit its output mode
    (else a note in ``card.info["output_note"]``). The same pass finds the Grad-CAM layer
    when the card names none (the last convolution with a spatial output, as torchcam's
    automatic target does), or when the card's does not exist, and checks one ``named`` by
    the user (``--cam-layer``).

    Raises:
        FervizError: a forward that fails or gives no finite scores, or a ``named`` CAM layer
            that does not exist (the candidates are listed).
    """
    import torch

    from .fermodel import FERModel
    from .preprocessing import output_note

    card = replace(card, params=sum(p.numel() for p in net.parameters()))
    model = FERModel(net, card).eval()
    x = torch.rand(8, 1, FACE_SIZE, FACE_SIZE, generator=torch.Generator().manual_seed(0))
    x[0], x[1] = 0.0, 0.5
    spatial: dict[str, None] = {}  # convolutions with a spatial output, in the order they ran
    hooks = _conv_hooks(net, spatial)
    with torch.inference_mode():
        try:
            raw = model.raw(x)
            out = model.emotions(raw)
        except FervizError:
            raise
        except user_code_errors() as e:  # user code
            hint = "; check --input-size and --channels" if isinstance(e, RuntimeError) else ""
            raise FervizError(f"{card.name}: the model's forward pass failed on 8 test faces "
                              f"of {card.channels}x{card.input_size}x{card.input_size} "
                              f"({type(e).__name__}: {e}){hint}") from e
        finally:
            for h in hooks:
                h.remove()
    bad = int((~torch.isfinite(out).all(dim=1)).sum())
    if bad:
        raise FervizError(f"{card.name}: the model gives NaN or infinite scores for {bad} of 8 "
                          "test faces; its weights may be damaged")
    card = _with_cam_layer(net, card, list(spatial), named)
    note = output_note(raw, card)
    if note:
        card = replace(card, info={**card.info, "output_note": note})
    return FERModel(net, card).eval()


def _conv_hooks(net: nn.Module, seen: dict[str, None]) -> list[Any]:
    """Forward hooks recording which 2-d convolutions give a spatial (H, W > 1) output."""
    from torch import nn

    def hook(name: str) -> Any:
        def record(_m: nn.Module, _i: Any, out: Any) -> None:
            if getattr(out, "ndim", 0) == 4 and out.shape[-1] > 1 and out.shape[-2] > 1:
                seen.setdefault(name)
        return record
    hooks = []
    for name, m in net.named_modules():
        if isinstance(m, nn.Conv2d):
            try:
                hooks.append(m.register_forward_hook(hook(name)))
            except RuntimeError:  # TorchScript modules take no hooks
                pass
    return hooks


def _with_cam_layer(net: nn.Module, card: ModelCard, spatial: list[str],
                    named: str | None) -> ModelCard:
    """The card with the CAM layer the user ``named`` (checked), else the card's when it
    exists, else the last convolution with a spatial output."""
    from torch import nn

    modules = dict(net.named_modules())
    if named:
        if named not in modules:
            convs = spatial or [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
            raise FervizError(f"{card.name}: no layer {named!r} for Grad-CAM; "
                              f"convolution layers: {', '.join(convs[-8:]) or 'none'} "
                              "(choose one with --cam-layer NAME)")
        return card
    if (card.cam_layer and card.cam_layer in modules) or not spatial:
        return card
    return replace(card, cam_layer=spatial[-1], info={**card.info, "cam_layer_found": True})


def _beside(arch: str, folder: Path) -> str:
    """A ``file.py:Class`` architecture from a card, its relative path taken from the card's
    folder; other architectures unchanged."""
    file = _arch_file(arch)
    return arch if file is None or file.is_absolute() else \
        f"{folder / file}:{arch.rsplit(':', 1)[1]}"


def _arch_file(arch: str) -> Path | None:
    """The Python file a ``file.py:ClassName`` architecture runs, else None."""
    file = arch.rsplit(":", 1)[0] if ":" in arch else ""
    return Path(file) if file.endswith(".py") else None


def _build(arch: str, kwargs: dict[str, Any], untrusted: str | None = None
           ) -> tuple[nn.Module, ModelCard]:
    """The network of an architecture; ``untrusted`` says where a ``file.py`` architecture
    came from when running it was not asked for (a FervizError then)."""
    file = _arch_file(arch)
    if file is None:
        return create_model(arch, **kwargs)
    cls = arch.rsplit(":", 1)[1]
    if untrusted is not None:
        raise FervizError(f"{untrusted} asks for arch {shown(arch)}, which would run the code "
                          f"in {shown(file)}; pass --trust if you trust that file")
    regular_file(file, "Python file")
    if not file.is_file():
        raise FervizError(f"{shown(file)}: no such file")
    spec = importlib.util.spec_from_file_location(file.stem, file)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except user_code_errors() as e:  # user code: report whatever it raised
        raise FervizError(f"{shown(file)}: importing it failed: {_raised(e)}") from e
    if not isinstance(getattr(module, cls, None), type):
        raise FervizError(f"{shown(file)}: no class {cls}")
    try:
        net = getattr(module, cls)(**kwargs)
    except user_code_errors() as e:  # user code
        raise FervizError(f"{shown(arch)}: construction failed: {_raised(e)}") from e
    from torch import nn

    if not isinstance(net, nn.Module):
        raise FervizError(f"{shown(arch)}: builds a {type(net).__name__}, not a torch nn.Module")
    return net, ModelCard(arch=arch, name=cls)


def _raised(e: BaseException) -> str:
    """What user code raised: ``KeyboardInterrupt``, ``ZeroDivisionError: division by zero``."""
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _load_entry(folder: Path, trust: bool, within: tuple[str, ...] = ()) -> FERModel:
    """A zoo entry folder: ``card.json`` and ``weights.safetensors`` (an ensemble's card
    lists member zoo names instead; ``within``: the ensembles being loaded around it).

    Raises:
        FervizError: an unreadable entry, or ensemble cards that name each other in a cycle.
    """
    if folder.name in within:
        raise FervizError(f"ensemble cards name each other in a cycle: "
                          f"{' -> '.join(map(shown, (*within, folder.name)))}")
    card = ModelCard.read(folder / "card.json")
    if not card.name:
        card = replace(card, name=folder.name)
    members = card.members
    if members:
        missing = [m for m in members if not zoo.exists(m)]
        if missing:
            raise FervizError(f"{card.name}: ensemble member(s) not in the zoo: "
                              f"{', '.join(map(shown, missing))}")
        from .fermodel import Ensemble, FERModel

        inner = (*within, folder.name)
        return FERModel(Ensemble([_load_entry(zoo.root() / m, trust, inner) for m in members]),
                        card)
    weights = folder / zoo.WEIGHTS
    if not weights.is_file():
        raise FervizError(f"{shown(folder)}: no {zoo.WEIGHTS} beside card.json")
    arch = _beside(card.arch, folder)
    kwargs = {} if _arch_file(arch) else {"num_classes": len(card.labels)}
    net, _ = _build(arch, kwargs, None if trust else f"{shown(folder / 'card.json')} (card)")
    load_weights(net, read_state_dict(weights), weights)
    from .fermodel import FERModel

    return FERModel(net, card)
