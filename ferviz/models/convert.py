"""Architecture-aware conversion of Keras models into registered native networks.

Both graphs are reduced to their weight units (convolutions, depthwise and pointwise halves of
separable convolutions, batch norms, dense layers), each with a signature (shapes, strides,
groups, bias) and the set of units that feed it. A registered architecture matches when its
units pair one to one with the Keras units, signature and feeders alike; the weights are then
copied (kernels transposed, dense rows after a channels-last ``Flatten`` reordered, batch-norm
epsilons folded into the variances) and the native network must give the Keras outputs on
random faces. Padding, pooling and activations are checked by that last test only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..cache import atomic_path
from ..errors import FervizError
from . import zoo
from .card import ModelCard
from .fermodel import FERModel
from .keras import KerasNet
from .registry import create_model, default_card, list_models

TOLERANCE = 1e-3  # largest log-probability (or logit) difference a conversion may leave
_WEIGHTED = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "BatchNormalization", "Dense")


@dataclass
class _Unit:
    """One weight-bearing operation: its signature, feeders (unit indices, -1 = the input)
    and how to fill the native module from it."""

    sig: tuple
    feeds: frozenset[int]
    fill: Callable[[nn.Module], None] | None = None
    module: nn.Module | None = None


def _tensor(variable: Any) -> torch.Tensor:
    return variable.value.detach().cpu().float().clone()


def _keras_layer_units(layer: Any, flat_shape: tuple | None) -> list[_Unit]:
    """Units of one Keras layer (feeders filled in by the caller)."""
    kind = type(layer).__name__
    dilation = tuple(getattr(layer, "dilation_rate", (1, 1)))
    bias = getattr(layer, "use_bias", False)
    if kind == "Conv2D":
        k = _tensor(layer.kernel)
        return [_Unit(("conv", k.shape[3], k.shape[2], *k.shape[:2], tuple(layer.strides),
                       layer.groups, dilation, bias), frozenset(),
                      _conv_fill(k.permute(3, 2, 0, 1), layer.bias if bias else None))]
    if kind in ("DepthwiseConv2D", "SeparableConv2D"):
        k = _tensor(layer.kernel if kind == "DepthwiseConv2D" else layer.depthwise_kernel)
        kh, kw, cin, mult = k.shape
        dw = k.reshape(kh, kw, cin * mult).permute(2, 0, 1).unsqueeze(1)
        dw_bias = bias and kind == "DepthwiseConv2D"
        units = [_Unit(("conv", cin * mult, 1, kh, kw, tuple(layer.strides), cin, dilation,
                        dw_bias), frozenset(), _conv_fill(dw, layer.bias if dw_bias else None))]
        if kind == "SeparableConv2D":
            p = _tensor(layer.pointwise_kernel)
            units.append(_Unit(("conv", p.shape[3], p.shape[2], 1, 1, (1, 1), 1, (1, 1), bias),
                               frozenset(), _conv_fill(p.permute(3, 2, 0, 1),
                                                       layer.bias if bias else None)))
        return units
    if kind == "BatchNormalization":
        return [_Unit(("bn", layer.moving_mean.shape[0]), frozenset(), _bn_fill(layer))]
    if kind == "Dense":
        k = _tensor(layer.kernel)
        if flat_shape is not None:  # rows in (H, W, C) order -> torch's (C, H, W)
            h, w, c = flat_shape
            k = k.reshape(h, w, c, -1).permute(3, 2, 0, 1).reshape(-1, h * w * c).T
        return [_Unit(("linear", k.shape[1], k.shape[0], bias), frozenset(),
                      _conv_fill(k.T, layer.bias if bias else None))]
    raise FervizError(f"layer {layer.name} ({kind}) has weights ferviz cannot convert")


def _conv_fill(weight: torch.Tensor, bias: Any) -> Callable[[nn.Module], None]:
    def fill(m: nn.Module) -> None:
        m.weight.data.copy_(weight)
        if bias is not None:
            m.bias.data.copy_(_tensor(bias))
    return fill


def _bn_fill(layer: Any) -> Callable[[nn.Module], None]:
    def fill(m: nn.Module) -> None:
        if m.affine:
            m.weight.data.copy_(_tensor(layer.gamma) if layer.scale else 1.0)
            m.bias.data.copy_(_tensor(layer.beta) if layer.center else 0.0)
        m.running_mean.copy_(_tensor(layer.moving_mean))
        m.running_var.copy_(_tensor(layer.moving_variance) + (layer.epsilon - m.eps))
    return fill


def keras_units(model: Any) -> list[_Unit]:
    """The weight units of a functional or sequential Keras model, in graph order.

    Raises:
        FervizError: nested models, shared layers or layers with unconvertible weights.
    """
    graph = model._functional if type(model).__name__ == "Sequential" else model
    in_graph = {id(n) for nodes in graph._nodes_by_depth.values() for n in nodes}
    units: list[_Unit] = []
    last: dict[int, int] = {}  # id(layer) -> index of its last unit

    def node_of(layer: Any) -> Any:
        nodes = [n for n in layer._inbound_nodes if id(n) in in_graph]
        if len(nodes) != 1 or type(layer).__name__ in ("Functional", "Sequential"):
            raise FervizError(f"layer {layer.name} is a nested model or used twice")
        return nodes[0]

    def feeders(node: Any) -> tuple[frozenset[int], tuple | None]:
        found: set[int] = set()
        flat = None
        for parent in node.parent_nodes:
            layer = parent.operation
            if id(layer) in last:
                found.add(last[id(layer)])
            elif type(layer).__name__ == "InputLayer":
                found.add(-1)
            else:
                up, up_flat = feeders(parent)
                found |= up
                flat = flat or up_flat
                if type(layer).__name__ == "Flatten" and len(layer.input.shape) == 4 and \
                        getattr(layer, "data_format", "channels_last") == "channels_last":
                    flat = tuple(layer.input.shape[1:])
        return frozenset(found), flat

    for layer in model.layers:
        kind = type(layer).__name__
        node = node_of(layer)
        if kind not in _WEIGHTED:
            if layer.weights:
                raise FervizError(f"layer {layer.name} ({kind}) has weights ferviz cannot "
                                  "convert")
            continue
        feeds, flat = feeders(node)
        new = _keras_layer_units(layer, flat if kind == "Dense" else None)
        new[0].feeds = feeds
        for i, unit in enumerate(new[1:], len(units)):
            unit.feeds = frozenset({i})
        units += new
        last[id(layer)] = len(units) - 1
    return units


class _LeafTracer(torch.fx.Tracer):
    """Treats every module without children as one opaque call."""

    def is_leaf_module(self, m: nn.Module, name: str) -> bool:
        return next(m.children(), None) is None


def torch_units(net: nn.Module) -> list[_Unit]:
    """The weight units of a native network in graph order (``torch.fx`` trace)."""
    graph = _LeafTracer().trace(net)
    modules = dict(net.named_modules())
    index: dict[Any, int] = {}
    units: list[_Unit] = []

    def feeders(node: Any) -> frozenset[int]:
        found: set[int] = set()
        for up in node.all_input_nodes:
            if up in index:
                found.add(index[up])
            elif up.op == "placeholder":
                found.add(-1)
            else:
                found |= feeders(up)
        return frozenset(found)

    for node in graph.nodes:
        m = modules.get(node.target) if node.op == "call_module" else None
        if isinstance(m, nn.Conv2d):
            sig = ("conv", m.out_channels, m.in_channels // m.groups, *m.kernel_size,
                   tuple(m.stride), m.groups, tuple(m.dilation), m.bias is not None)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            sig = ("bn", m.num_features)
        elif isinstance(m, nn.Linear):
            sig = ("linear", m.out_features, m.in_features, m.bias is not None)
        elif m is not None and any(True for _ in m.parameters(recurse=False)):
            raise FervizError(f"{node.target}: {type(m).__name__} has no Keras counterpart")
        else:
            continue
        units.append(_Unit(sig, feeders(node), module=m))
        index[node] = len(units) - 1
    return units


def _pair(k_units: list[_Unit], t_units: list[_Unit]) -> list[int]:
    """For each Keras unit, the index of its native twin.

    Raises:
        FervizError: naming the first Keras unit without one.
    """
    if len(k_units) != len(t_units):
        raise FervizError(f"{len(k_units)} Keras weight units vs {len(t_units)} native")
    twin: dict[int, int] = {-1: -1}
    free = set(range(len(t_units)))
    for i, ku in enumerate(k_units):
        want = frozenset(twin[f] for f in ku.feeds)
        j = next((j for j in sorted(free) if t_units[j].sig == ku.sig
                  and t_units[j].feeds == want), None)
        if j is None:
            raise FervizError(f"no native twin for Keras unit {i} {ku.sig}")
        twin[i] = j
        free.discard(j)
    return [twin[i] for i in range(len(k_units))]


def _probe(keras_net: KerasNet, card: ModelCard) -> tuple[torch.Tensor, torch.Tensor]:
    """Random faces (normalised as the card says) and the Keras model's outputs on them."""
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(2, card.channels, card.input_size, card.input_size, generator=g)
         - card.mean) / card.std
    with torch.no_grad():
        return x, keras_net(x)


def _difference(want: torch.Tensor, got: torch.Tensor, output: str) -> float:
    """Largest difference of native outputs from the Keras ones, in the Keras output's space."""
    if output == "probs":
        want, got = want.clamp_min(1e-7).log(), F.softmax(got, 1).clamp_min(1e-7).log()
    elif output == "log_probs":
        got = F.log_softmax(got, 1)
    return float((want - got).abs().max())


def to_native(model: FERModel) -> tuple[nn.Module, str, float]:
    """The registered network a Keras-backed model matches, with its weights copied in.

    Returns:
        (network in eval mode, architecture name, largest output difference).

    Raises:
        FervizError: no registered architecture matches, with the closest one's reason.
    """
    if not isinstance(model.net, KerasNet):
        raise FervizError(f"{model.card.name}: only Keras models convert")
    k_units = keras_units(model.net.keras_model)
    n_out = model.net.keras_model.outputs[0].shape[-1]
    x, want = None, None
    mismatches = []
    for arch in list_models():
        try:
            with torch.device("meta"):
                probe, _ = create_model(arch, num_classes=n_out)
            _pair(k_units, torch_units(probe))
        except Exception:  # a candidate that cannot be built, traced or paired is no match
            continue
        net, _ = create_model(arch, num_classes=n_out)
        t_units = torch_units(net)
        for ku, j in zip(k_units, _pair(k_units, t_units)):
            ku.fill(t_units[j].module)
        net.eval()
        if x is None:
            x, want = _probe(model.net, model.card)
        with torch.no_grad():
            diff = _difference(want, net(x), model.card.output)
        if diff <= TOLERANCE:
            return net, arch, diff
        mismatches.append(f"{arch} has the same weight layers but its outputs differ by "
                          f"{diff:.3g}: padding, pooling or activations differ")
    why = mismatches[0] if mismatches else \
        f"none of {', '.join(list_models())} has the same weight layers"
    raise FervizError(f"{model.card.name}: no registered architecture matches this Keras model "
                      f"({why}); use the file as it is (-m), which runs it through Keras")


def convert(spec: str, out: str | Path, force: bool = False, **load_options: Any
            ) -> tuple[ModelCard, float]:
    """Convert a Keras file into a zoo-style folder (``card.json`` + ``weights.safetensors``).

    Args:
        spec: the Keras file.
        out: the folder to write; ``ferviz ... -m OUT`` loads it.
        force: overwrite a model already in ``out``.
        **load_options: :func:`~ferviz.models.load.load_model` arguments (preset, trust, card
            options).

    Returns:
        (the written card, the largest output difference to the Keras model).
    """
    from .load import load_model

    out = Path(out)
    if (out / "card.json").exists() and not force:
        raise FervizError(f"{out} already holds a model; use --force to overwrite it")
    model = load_model(spec, **load_options)
    net, arch, diff = to_native(model)
    card = replace(model.card, arch=arch, name=out.name, output="logits",
                   cam_layer=default_card(arch).cam_layer, params=0,
                   source=f"converted by ferviz from the Keras file {Path(spec).name}",
                   info={"converted_from": Path(spec).name, "max_difference": diff,
                         "assumed_at_conversion": model.card.info.get("assumed", "")})
    out.mkdir(parents=True, exist_ok=True)
    zoo.write_weights(net, out)
    card = replace(card, params=sum(p.numel() for p in net.parameters()))
    with atomic_path(out / "card.json") as tmp:
        tmp.write_text(json.dumps(card.to_dict(), indent=1) + "\n")
    return card, diff
