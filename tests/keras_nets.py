"""Keras models built at test time (tests/test_keras.py, bench/bench_keras.py): the seed
projects' architectures, and native weights copied into them (the converter in reverse).
Import only after ``ferviz.models.keras.import_keras()`` has selected the torch backend."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ferviz.models.convert import _pair, keras_units, torch_units
from ferviz.models.keras import import_keras


def mini_xception(input_shape=(48, 48, 1), classes: int = 7, widths=(16, 32, 64, 128),
                  zoo_twin: bool = False):
    """face_classification's ``mini_XCEPTION`` (models/cnn.py): unpadded stem convolutions,
    four residual separable blocks with TensorFlow 'same' max-pools, a class-score conv,
    global average pooling, softmax. ``zoo_twin``: padded stem and PyTorch-aligned pools
    instead (zero row/column after, 'same' pool, crop), the zoo's ``mini_xception`` exactly."""
    keras = import_keras()
    L = keras.layers
    pad = "same" if zoo_twin else "valid"
    x = inp = L.Input(input_shape)
    for _ in range(2):
        x = L.Conv2D(8, 3, padding=pad, use_bias=False)(x)
        x = L.Activation("relu")(L.BatchNormalization()(x))
    for f in widths:
        res = L.BatchNormalization()(L.Conv2D(f, 1, strides=2, padding="same", use_bias=False)(x))
        x = L.SeparableConv2D(f, 3, padding="same", use_bias=False)(x)
        x = L.Activation("relu")(L.BatchNormalization()(x))
        x = L.BatchNormalization()(L.SeparableConv2D(f, 3, padding="same", use_bias=False)(x))
        if zoo_twin:
            x = L.Cropping2D(((0, 1), (0, 1)))(
                L.MaxPooling2D(3, 2, padding="same")(L.ZeroPadding2D(((0, 1), (0, 1)))(x)))
        else:
            x = L.MaxPooling2D(3, 2, padding="same")(x)
        x = L.add([x, res])
    x = L.GlobalAveragePooling2D()(L.Conv2D(classes, 3, padding="same")(x))
    return keras.Model(inp, L.Activation("softmax", name="predictions")(x))


def emotion_cnn(input_shape=(48, 48, 1), classes: int = 7):
    """atulapra/Emotion-detection's Sequential CNN (valid convs, Flatten, Dense 1024)."""
    keras = import_keras()
    L = keras.layers
    return keras.Sequential([
        L.Input(input_shape), L.Conv2D(32, 3, activation="relu"),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Dropout(0.25),
        L.Conv2D(128, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(128, 3, activation="relu"), L.MaxPooling2D(2), L.Dropout(0.25), L.Flatten(),
        L.Dense(1024, activation="relu"), L.Dropout(0.5), L.Dense(classes, activation="softmax")])


def randomise_batchnorms(model, seed: int = 0) -> None:
    """Non-trivial batch-norm statistics, so conversions are tested on them."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, n).astype("float32"))
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.2, n).astype("float32"))


def copy_native(net: nn.Module, model, fold_minus_one: bool = False) -> None:
    """Copy a native convolutional network's weights into the Keras model it pairs with (the
    converter in reverse). ``fold_minus_one``: the Keras model takes y = 2x - 1 (the
    ``face_classification`` preset) where the native one takes x in 0..1; x = (y + 1) / 2 is
    folded into the first (unpadded) convolution and its batch norm."""
    paired = _pair(keras_units(model), units := torch_units(net))
    mods = iter(units[j].module for j in paired)
    first, shift = True, None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Conv2D":
            m = next(mods)
            w = m.weight.detach()
            k = w.permute(2, 3, 1, 0)
            if first and fold_minus_one:
                shift = w.sum((1, 2, 3)) / 2
                k = k / 2
            layer.kernel.assign(k.numpy())
            if m.bias is not None:
                layer.bias.assign(m.bias.detach().numpy())
            first = False
        elif kind == "SeparableConv2D":
            dw, pw = next(mods), next(mods)
            layer.depthwise_kernel.assign(dw.weight.detach()[:, 0].permute(1, 2, 0)[..., None]
                                          .numpy())
            layer.pointwise_kernel.assign(pw.weight.detach().permute(2, 3, 1, 0).numpy())
        elif kind == "BatchNormalization":
            m = next(mods)
            mean = m.running_mean - (shift if shift is not None else 0)
            shift = None
            layer.gamma.assign(m.weight.detach().numpy())
            layer.beta.assign(m.bias.detach().numpy())
            layer.moving_mean.assign(mean.numpy())
            layer.moving_variance.assign((m.running_var + m.eps - layer.epsilon).numpy())
        elif layer.weights:
            raise ValueError(f"copy_native does not handle {kind} layers")


def keras_probs(model, x: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """Keras's own ``model(x)`` on N x 1 x H x W faces in [0, 1] (resized to its input)."""
    size = model.inputs[0].shape[1]
    if x.shape[-1] != size:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                            align_corners=False)
    with torch.no_grad():
        return model(((x - mean) / std).permute(0, 2, 3, 1)).cpu()
