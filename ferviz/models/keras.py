"""Keras models (``.h5``, ``.hdf5``, ``.keras``) run by Keras 3 on its PyTorch backend.

A Keras 3 model on that backend is a ``torch.nn.Module``: :class:`KerasNet` feeds it NCHW faces
as NHWC and exposes each layer with a spatial output as a torch module ``taps.<layer name>``
(NCHW), so forward and backward hooks (the CAM family's) work on Keras layers. The card is
read from the model: input size, channels, layout, probabilities or logits, CAM layer.
Normalisation and label order cannot be read from a Keras file: they come from a preset, a
sidecar, or options, and what was assumed is recorded in ``card.info["assumed"]``.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import FervizError
from .card import ModelCard

INSTALL = "pip install 'ferviz[keras]'"
# named conventions of the FER Keras projects: card options
PRESETS: dict[str, dict[str, str]] = {
    # oarriaga/face_classification (and the `fer` package): x / 127.5 - 1, FER2013 order
    "face_classification": {"normalize": "-1..1", "labels": "fer2013"},
    # atulapra/Emotion-detection: x / 255, classes from its alphabetical image folders
    "emotion-detection": {"normalize": "0..1",
                          "labels": "angry,disgust,fear,happy,neutral,sad,surprise"},
}
_CONVS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")
_OUTPUTS = {"softmax": "probs", "log_softmax": "log_probs", "sigmoid": "sigmoid"}


def preset_options(name: str) -> dict[str, str]:
    """The card options of a named preset.

    Raises:
        FervizError: for an unknown preset.
    """
    if name not in PRESETS:
        raise FervizError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
    return dict(PRESETS[name])


def import_keras() -> Any:
    """Keras 3 on the PyTorch backend (selected here unless the user chose another one).

    Raises:
        FervizError: Keras missing or older than 3, or set to another backend.
    """
    backend = os.environ.get("KERAS_BACKEND", "torch")
    if backend != "torch":
        raise FervizError(f"KERAS_BACKEND is {backend!r}; ferviz runs Keras models on the "
                          "PyTorch backend: unset it or set KERAS_BACKEND=torch")
    os.environ["KERAS_BACKEND"] = "torch"
    try:
        import keras
    except ImportError as e:
        raise FervizError(f"reading Keras models needs Keras 3 and h5py: {INSTALL}") from e
    if int(keras.__version__.split(".")[0]) < 3:
        raise FervizError(f"Keras {keras.__version__} is installed; ferviz needs Keras 3: "
                          f"{INSTALL}")
    if keras.backend.backend() != "torch":
        raise FervizError(f"Keras was already imported with the {keras.backend.backend()} "
                          "backend; ferviz needs KERAS_BACKEND=torch")
    return keras


def read_config(path: Path) -> dict[str, Any]:
    """The model config stored in a Keras file, read without building anything.

    Raises:
        FervizError: unreadable file, or an ``.h5`` that holds only weights.
    """
    if path.suffix.lower() == ".keras":
        try:
            with zipfile.ZipFile(path) as z:
                return json.loads(z.read("config.json"))
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
            raise FervizError(f"{path}: not a readable .keras file ({e})") from e
    try:
        import h5py
    except ImportError as e:
        raise FervizError(f"reading Keras models needs Keras 3 and h5py: {INSTALL}") from e
    try:
        with h5py.File(path, "r") as f:
            config = f.attrs.get("model_config")
            if config is None:
                raise FervizError(
                    f"{path}: holds only weights (Keras save_weights), no model: rebuild the "
                    "model in Keras, load these weights and save the whole model "
                    "(model.save('model.keras')); then load it here or `ferviz convert` it")
            return json.loads(config.decode() if isinstance(config, bytes) else config)
    except (OSError, ValueError) as e:
        raise FervizError(f"{path}: not a readable HDF5 Keras file ({e})") from e


def _layer_classes(config: dict[str, Any]) -> list[str]:
    """Class names of every layer in a model config, nested models included."""
    names = []
    for layer in config.get("config", {}).get("layers", []) or []:
        names.append(layer.get("class_name", ""))
        if isinstance(layer.get("config"), dict) and "layers" in layer["config"]:
            names += _layer_classes(layer)
    return names


def load_keras(path: Path, trust: bool = False) -> tuple[KerasNet, ModelCard]:
    """A Keras file as a torch network on NCHW faces, with the card inferred from it.

    Args:
        trust: allow Lambda layers (deserialising them runs code from the file).

    Raises:
        FervizError: Keras missing, a corrupt or weights-only file, Lambda layers without
            ``trust``, custom layers, or a model that is not one image in, one vector out.
    """
    config = read_config(path)
    classes = _layer_classes(config)
    if "Lambda" in classes and not trust:
        raise FervizError(f"{path}: has Lambda layers; loading them runs Python code stored in "
                          "the file: pass --trust if you trust it")
    keras = import_keras()
    try:
        with keras.device("cpu"):  # like every ferviz model; explain / predict move it
            model = keras.saving.load_model(str(path), compile=False, safe_mode=not trust)
    except Exception as e:  # Keras raises many unrelated types for files it cannot rebuild
        custom = sorted({c for c in classes if not hasattr(keras.layers, c)} -
                        {"Functional", "Sequential", "Model"})
        if custom:
            raise FervizError(f"{path}: custom layer classes {', '.join(custom)}: their code is "
                              "not in the file, so Keras cannot rebuild the model; export it "
                              "to ONNX where it was trained and load the .onnx") from e
        raise FervizError(f"{path}: Keras cannot load this model ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''})") from e
    return _wrap(model, path)


def _wrap(model: Any, path: Path) -> tuple[KerasNet, ModelCard]:
    if len(getattr(model, "inputs", None) or []) != 1 or len(model.outputs) != 1:
        raise FervizError(f"{path}: ferviz needs a model with one image input and one output")
    shape = tuple(model.inputs[0].shape[1:])
    layouts = [getattr(layer, "data_format", None) for layer in model._flatten_layers()]
    layout = next((f for f in layouts if f), "channels_last")
    if len(shape) != 3:
        raise FervizError(f"{path}: the input has shape {shape}; ferviz needs an image input")
    h, w, c = shape if layout == "channels_last" else (shape[1], shape[2], shape[0])
    h, w = h or 48, w or 48
    if h != w or c not in (1, 3):
        raise FervizError(f"{path}: input {h}x{w}x{c}: ferviz needs a square input with 1 or "
                          "3 channels")
    net = KerasNet(model, layout == "channels_last", (c, h, w))
    if len(model.outputs[0].shape) != 2:
        raise FervizError(f"{path}: the output has shape {tuple(model.outputs[0].shape[1:])}; "
                          "ferviz needs one score per class")
    last = model.layers[-1]
    kind = "probs" if type(last).__name__ == "Softmax" else \
        _OUTPUTS.get(getattr(getattr(last, "activation", None), "__name__", ""), "logits")
    if kind == "probs" and _split_softmax(last):
        kind = "logits"
    card = ModelCard(arch="keras", name=path.name, input_size=h, channels=c, output=kind,
                     cam_layer=net.default_cam(), source=f"Keras file {path.name}",
                     info={"keras": {"layout": layout, "file": str(path)}})
    return net, card


def _split_softmax(last: Any) -> bool:
    """Make the model end before its final softmax (a Softmax layer, or a softmax activation
    of its last layer), as ``ferviz convert`` does: every method then explains the same score,
    the logit, as the converted network (the probabilities are unchanged). False where the
    softmax cannot be split off."""
    keras = import_keras()
    if type(last).__name__ == "Softmax":
        if getattr(last, "axis", -1) != -1:
            return False
        last.register_forward_hook(lambda layer, inputs, out: inputs[0])
        return True
    last.activation = keras.activations.linear
    return True


def with_assumptions(card: ModelCard, given: set[str]) -> ModelCard:
    """Record in ``card.info["assumed"]`` the defaults used for what a Keras file cannot say."""
    missing = [what for key, what in (("normalize", "pixels scaled to 0..1 (x/255)"),
                                      ("labels", "the FER2013 label order")) if key not in given]
    if not missing:
        return card
    note = (f"{card.name}: assumed {' and '.join(missing)}; give --preset "
            f"({', '.join(PRESETS)}), --normalize / --label-order or a sidecar "
            f"{card.name}.json if it was trained otherwise")
    return replace(card, info={**card.info, "assumed": note})


class _Route:
    """Forward hook on a Keras layer: sends its output through a torch tap (as NCHW)."""

    def __init__(self, tap: nn.Module, channels_last: bool) -> None:
        self.tap, self.channels_last = tap, channels_last

    def __call__(self, layer: Any, inputs: Any, out: Any) -> Any:
        if not (torch.is_tensor(out) and out.ndim == 4):
            return out
        if not self.channels_last:
            return self.tap(out)
        return self.tap(out.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class KerasNet(nn.Module):
    """A Keras 3 (torch backend) model as a torch network on N x C x H x W inputs.

    ``taps`` holds one identity module per Keras layer with a spatial output, named after the
    layer; it sees that output as NCHW, so hooks registered on it (Grad-CAM's) fire and
    gradients flow through it.
    """

    def __init__(self, model: Any, channels_last: bool, chw: tuple[int, int, int]) -> None:
        super().__init__()
        self.keras_model = model
        self.channels_last = channels_last
        self._device_scope = import_keras().device
        self.taps = nn.ModuleDict()
        self._spatial: list[tuple[str, Any]] = []  # (tap name, Keras layer) in call order
        seen: list[tuple[Any, int]] = []
        probes = [layer.register_forward_hook(
            lambda mod, i, o: seen.append((mod, o.ndim if torch.is_tensor(o) else 0)))
            for layer in model._flatten_layers(include_self=False)]
        try:
            with torch.no_grad():
                self(torch.zeros(1, *chw))
        except Exception as e:  # the Keras graph raises many types on a bad input shape
            raise FervizError(f"the Keras model fails on a {chw} input ({e})") from e
        finally:
            for p in probes:
                p.remove()
        for layer, ndim in seen:
            name = layer.name.replace(".", "_")
            if ndim == 4 and name not in self.taps:
                self.taps[name] = nn.Identity()
                layer.register_forward_hook(_Route(self.taps[name], channels_last))
                self._spatial.append((name, layer))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self._device_scope(str(x.device)):  # else Keras moves inputs to its default device
            return self.keras_model(x.permute(0, 2, 3, 1) if self.channels_last else x)

    def default_cam(self) -> str:
        """``taps.<name>`` of the last convolution, or of its input when that convolution is a
        class-score map (face_classification's last layer); '' when there is none."""
        convs = [i for i, (_, layer) in enumerate(self._spatial)
                 if type(layer).__name__ in _CONVS]
        if not convs:
            return ""
        i = convs[-1]
        if getattr(self._spatial[i][1], "filters", None) == \
                self.keras_model.outputs[0].shape[-1] and i > 0:
            i -= 1
        return f"taps.{self._spatial[i][0]}"
