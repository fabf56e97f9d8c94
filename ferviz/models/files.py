"""Reading model files: state dicts (safetensors, torch files, wrapped or ``module.``-prefixed),
weights into a network with every mismatch named, TorchScript and ONNX. torch is imported
only inside the functions."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FervizError, shown, user_code_errors

if TYPE_CHECKING:
    import torch
    from torch import nn

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights", "ema")


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from .safetensors or a torch file, unwrapped and de-``module.``-prefixed."""
    import torch

    if path.suffix.lower() == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            sd = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise FervizError(f"{shown(path)}: not a readable safetensors file ({e})") from e
    else:
        sd = torch_load(path, trust=False)
    for key in WRAPPER_KEYS:
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
            break
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise FervizError(f"{shown(path)}: holds no state dict of tensors")
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
        raise FervizError(f"{shown(where)}: the weights do not match the architecture; " +
                          "; ".join(parts))
    net.load_state_dict({k: v.to(own[k].dtype) for k, v in sd.items()})


def torch_load(path: Path, trust: bool) -> Any:
    import pickle
    import warnings

    with open(path, "rb") as f:
        head = f.read(2)
    if not zipfile.is_zipfile(path) and not head.startswith(b"\x80"):
        raise FervizError(f"{shown(path)}: not a readable PyTorch file (neither a zip archive "
                          "nor a pickle)")
    import torch

    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 106" on a bad file
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(str(path), map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as e:
        if trust:
            raise FervizError(f"{shown(path)}: not a readable PyTorch file ({e})") from e
        raise FervizError(f"{shown(path)}: refusing to unpickle arbitrary objects (it may run "
                          "code); if you trust this file, pass --trust") from e
    except user_code_errors() as e:  # a damaged file, or (trusted) the file's own code
        what = "unpickling it failed" if trust else "not a readable PyTorch file"
        raise FervizError(f"{shown(path)}: {what} ({type(e).__name__}: {e})") from e


def load_torchscript(path: Path, trust: bool) -> nn.Module:
    """A TorchScript archive is a program (its ``forward`` can read and write files), so it
    loads only with ``trust``, like a pickle or a ``file.py`` architecture.

    Raises:
        FervizError: without ``trust``, or for an unreadable archive.
    """
    import warnings

    if not trust:
        raise FervizError(f"{shown(path)}: a TorchScript file is a program (its code can act on "
                          "your files); if you trust this file, pass --trust, or export the "
                          "model to ONNX or a state dict")

    import torch

    try:
        with warnings.catch_warnings():  # torch 2.10+: "torch.jit.load is deprecated"
            warnings.simplefilter("ignore", FutureWarning)
            return torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, OSError, ValueError, zipfile.BadZipFile) as e:
        raise FervizError(f"{shown(path)}: not a readable TorchScript file ({e})") from e


def is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return any("/code/" in n or n.startswith("code/") for n in z.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise FervizError(f"{shown(path)}: a damaged zip archive ({e})") from e


def load_onnx(path: Path) -> nn.Module:
    import onnx
    from onnx2torch import convert

    from .onnx_compat import alias_newer_opsets

    alias_newer_opsets()
    try:
        return convert(onnx.load(str(path)))
    except Exception as e:  # onnx and onnx2torch raise many unrelated types
        raise FervizError(f"{shown(path)}: cannot convert this ONNX model "
                          f"({type(e).__name__}: {e})") from e
