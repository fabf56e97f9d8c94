"""Load any model ferviz supports and return it as a :class:`FERModel`.

Accepted specs: a zoo name or a folder laid out like a zoo entry; a state dict
(``.safetensors``, ``.pt``, ``.pth``, ``.bin``; also dicts that wrap it under a key) with an
architecture (registered name or ``path/to/file.py:ClassName``); TorchScript; ONNX; Keras
``.h5`` / ``.hdf5`` / ``.keras`` files (see :mod:`ferviz.models.keras`); and a fully pickled
``nn.Module`` only with ``trust=True``.
"""

from __future__ import annotations

import importlib.util
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import FervizError
from . import zoo
from .card import ModelCard
from .fermodel import Ensemble, FERModel
from .keras import KERAS_SUFFIXES
from .registry import create_model

STATE_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".ckpt")
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights", "ema")


def load_model(spec: str, arch: str | None = None, trust: bool = False,
               arch_kwargs: dict[str, Any] | None = None, preset: str | None = None,
               **options: Any) -> FERModel:
    """Load a model from a zoo name or a file.

    Args:
        spec: zoo entry name, or a path to weights / TorchScript / ONNX / a pickled module.
        arch: architecture of a state dict: a registered name or ``file.py:ClassName``. A
            sidecar ``<weights>.json`` card may give it (and any option) instead.
        trust: allow unpickling a whole ``nn.Module`` or Keras Lambda layers (runs code from
            the file).
        arch_kwargs: constructor keyword arguments for a ``file.py:ClassName`` architecture.
        preset: named card options (normalisation, label order) under the sidecar and
            ``options``, e.g. ``face_classification``; see :data:`ferviz.models.keras.PRESETS`.
        **options: card overrides (input_size, channels, normalize, labels, output,
            cam_layer); see :meth:`ModelCard.with_options`.

    Raises:
        FervizError: for every input ferviz cannot load, with the reason.
    """
    preset_opts = {}
    if preset is not None:
        from .keras import preset_options

        preset_opts = preset_options(preset)
    path = Path(spec)
    if zoo.exists(spec) or (path / "card.json").is_file():
        model = _load_entry(_zoo_folder(spec) if zoo.exists(spec) else path)
        return _finish(model.net, model.card.with_options(**preset_opts).with_options(**options))
    if not path.exists():
        raise FervizError(f"{spec}: neither a file nor a zoo model (zoo: "
                          f"{', '.join(zoo.names()) or 'empty'})")
    sidecar = path.with_name(path.name + ".json")
    card_opts = _read_sidecar(sidecar) if sidecar.is_file() else {}
    arch = arch or card_opts.pop("arch", None)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        net, card = _load_onnx(path), ModelCard(arch="onnx", name=path.name)
    elif suffix in KERAS_SUFFIXES:
        from .keras import load_keras, with_assumptions

        if arch is not None:
            raise FervizError(f"{path}: a Keras model file carries its architecture; --arch is "
                              "for state dicts")
        net, card = load_keras(path, trust)
        card = with_assumptions(card, {*preset_opts, *card_opts, *(
            k for k, v in options.items() if v is not None)})
    elif _is_torchscript(path):
        net, card = torch.jit.load(str(path), map_location="cpu"), \
            ModelCard(arch="torchscript", name=path.name)
    elif arch is not None:
        net, card = _build(arch, arch_kwargs or {})
        load_weights(net, read_state_dict(path), path)
        card = replace(card, name=path.name)
    elif suffix in STATE_SUFFIXES or suffix == "":
        obj = _torch_load(path, trust)
        if not isinstance(obj, nn.Module):
            raise FervizError(f"{path}: holds a state dict; say which architecture it is for "
                              "(--arch NAME or --arch file.py:ClassName, or a sidecar "
                              f"{sidecar.name} with {{\"arch\": ...}})")
        net, card = obj, ModelCard(arch=type(obj).__name__, name=path.name)
    else:
        raise FervizError(f"{path}: unknown model file type {suffix!r}")
    card = card.with_options(**preset_opts).with_options(
        **{k: v for k, v in card_opts.items() if k in _OPTION_KEYS})
    return _finish(net, card.with_options(**options))


_OPTION_KEYS = ("input_size", "channels", "normalize", "labels", "output", "cam_layer")


def _read_sidecar(path: Path) -> dict[str, Any]:
    """A ``<weights>.json`` card: ``arch`` and card options; a typo is an error, not ignored."""
    try:
        opts = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise FervizError(f"{path}: not a readable JSON card ({e})") from e
    if not isinstance(opts, dict):
        raise FervizError(f"{path}: a sidecar card must be a JSON object")
    unknown = sorted(set(opts) - {"arch", *_OPTION_KEYS})
    if unknown:
        raise FervizError(f"{path}: unknown keys {', '.join(unknown)} (known: arch, "
                          f"{', '.join(_OPTION_KEYS)})")
    return opts


def _finish(net: nn.Module, card: ModelCard) -> FERModel:
    """Wrap, count parameters, and check the output width against the label order."""
    card = replace(card, params=sum(p.numel() for p in net.parameters()))
    model = FERModel(net, card).eval()
    with torch.inference_mode():
        try:
            out = net((torch.zeros(1, card.channels, card.input_size, card.input_size)
                       - card.mean) / card.std)
        except RuntimeError as e:
            raise FervizError(f"{card.name}: the model fails on a {card.channels}x"
                              f"{card.input_size}x{card.input_size} input ({e}); check "
                              "--input-size and --channels") from e
    if out.ndim != 2 or out.shape[1] != len(card.labels):
        raise FervizError(f"{card.name}: the model outputs {tuple(out.shape[1:])} classes but "
                          f"its label order has {len(card.labels)} ({', '.join(card.labels)}); "
                          "pass --labels")
    return model


def _build(arch: str, kwargs: dict[str, Any]) -> tuple[nn.Module, ModelCard]:
    if ":" in arch and arch.split(":")[0].endswith(".py"):
        file, cls = arch.rsplit(":", 1)
        if not Path(file).is_file():
            raise FervizError(f"{file}: no such file")
        spec = importlib.util.spec_from_file_location(Path(file).stem, file)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as e:  # user code: report whatever it raised
            raise FervizError(f"{file}: importing it failed: {type(e).__name__}: {e}") from e
        if not hasattr(module, cls):
            raise FervizError(f"{file}: no class {cls}")
        try:
            net = getattr(module, cls)(**kwargs)
        except Exception as e:  # user code
            raise FervizError(f"{arch}: construction failed: {type(e).__name__}: {e}") from e
        return net, ModelCard(arch=arch, name=cls)
    return create_model(arch, **kwargs)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from .safetensors or a torch file, unwrapped and de-``module.``-prefixed."""
    if path.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            sd = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise FervizError(f"{path}: not a readable safetensors file ({e})") from e
    else:
        sd = _torch_load(path, trust=False)
    for key in WRAPPER_KEYS:
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
            break
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise FervizError(f"{path}: holds no state dict of tensors")
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def load_weights(net: nn.Module, sd: dict[str, torch.Tensor], where: Path | str) -> None:
    """Load a state dict strictly; name missing, unexpected and mis-shaped keys on failure."""
    own = net.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    shapes = [f"{k} {tuple(sd[k].shape)} vs {tuple(own[k].shape)}" for k in own
              if k in sd and sd[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = []
        for title, keys in (("missing keys", missing), ("unexpected keys", unexpected),
                            ("shape mismatches (file vs model)", shapes)):
            if keys:
                more = f" (+{len(keys) - 8} more)" if len(keys) > 8 else ""
                parts.append(f"{title}: {', '.join(keys[:8])}{more}")
        raise FervizError(f"{where}: the weights do not match the architecture; " +
                          "; ".join(parts))
    net.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()})


def _torch_load(path: Path, trust: bool) -> Any:
    import pickle

    with open(path, "rb") as f:
        head = f.read(2)
    if not zipfile.is_zipfile(path) and not head.startswith(b"\x80"):
        raise FervizError(f"{path}: not a readable PyTorch file (neither a zip archive nor a "
                          "pickle)")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as e:
        raise FervizError(f"{path}: refusing to unpickle arbitrary objects (it may run code); "
                          "if you trust this file, pass --trust") from e
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as e:
        raise FervizError(f"{path}: not a readable PyTorch file ({e})") from e


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any("/code/" in n or n.startswith("code/") for n in z.namelist())


def _load_onnx(path: Path) -> nn.Module:
    import onnx
    from onnx2torch import convert

    from .onnx_compat import alias_newer_opsets

    alias_newer_opsets()
    try:
        return convert(onnx.load(str(path)))
    except Exception as e:  # onnx and onnx2torch raise many unrelated types
        raise FervizError(f"{path}: cannot convert this ONNX model ({type(e).__name__}: {e})") from e


def _load_entry(folder: Path) -> FERModel:
    """A zoo entry (or a folder laid out like one, e.g. ``ferviz convert``'s output)."""
    card = ModelCard.read(folder / "card.json")
    members = card.members
    if members:  # an ensemble entry: its card lists member zoo names, it has no weights
        return FERModel(Ensemble([_load_entry(_zoo_folder(m)) for m in members]), card)
    weights = folder / zoo.WEIGHTS
    if not weights.is_file():
        raise FervizError(f"{folder}: has no {zoo.WEIGHTS}")
    net, _ = create_model(card.arch, num_classes=len(card.labels))
    load_weights(net, read_state_dict(weights), weights)
    return FERModel(net, card)


def _zoo_folder(name: str) -> Path:
    zoo.card(name)  # raises, naming the zoo's entries, when there is no such entry
    return zoo.root() / name
