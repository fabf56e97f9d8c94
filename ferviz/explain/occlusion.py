"""Fast occlusion, exact to captum's ``Occlusion``.

A grey ``window`` x ``window`` patch slides with ``stride`` over the face; a pixel's attribution
is the mean, over the patches covering it, of the drop of the explained output (captum's
definition). Speed-ups, all exact:

* all patch positions of many faces go through the network in large batches;
* networks that declare ``incremental_occlusion = True`` (a pure dataflow graph of standard
  layers: the CS230 nets, VGG, mini-Xception with its residual blocks) run by incremental
  inference (:mod:`ferviz.explain.incremental`);
* a network that declares ``members`` and ``combine`` (an ensemble) runs each member by its own
  best path and combines the members' outputs, as its forward does;
* other networks run full passes on a channels-last copy, in batches of ``FULL_BATCH``.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import FervizError
from .core import Scored, score_output

MAX_EVALS = 512  # occluded faces per pass: bounds memory, keeps crop copies small
UNOCCLUDED_BATCH = 64  # faces per pass of the unoccluded faces
FULL_BATCH = 128  # occluded faces per full forward: larger batches run slower per face on CPU
Engine = Callable[[torch.Tensor, list[int], list[int], int, float], torch.Tensor]
_THREADS = threading.Lock()


def occlusion(forward: Scored, x: torch.Tensor, targets: torch.Tensor | None, window: int = 8,
              stride: int = 4, baseline: float = 0.5, incremental: bool = True
              ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Occlusion maps, N x H x W, equal to captum ``Occlusion.attribute`` with
    ``sliding_window_shapes=(1, window, window)``, ``strides=(1, stride, stride)`` and
    ``baselines=baseline``.

    Args:
        forward: the explained model output (see :class:`~ferviz.explain.core.Scored`).
        x: N x 1 x H x W faces in [0, 1].
        targets: N class indices, or None for the predicted classes (then returns
            ``(maps, predicted classes)``, predicted from the unoccluded pass occlusion needs
            anyway).
        incremental: use incremental inference where the network allows it.

    Raises:
        FervizError: for a window larger than the face or a non-positive stride.
    """
    h, w = x.shape[-2:]
    if not 1 <= window <= min(h, w) or stride < 1:
        raise FervizError(f"occlusion window must be 1..{min(h, w)} and stride >= 1 "
                          f"(got {window}, {stride})")
    # captum's positions: the last window may stick out of the face and is clipped there
    rows = list(range(0, -(-(h - window) // stride) * stride + 1, stride))
    cols = list(range(0, -(-(w - window) // stride) * stride + 1, stride))
    engine = engine_for(forward.model, (h, w), incremental)
    n_pos = len(rows) * len(cols)
    chunk = max(1, MAX_EVALS // n_pos)

    with torch.inference_mode():  # unoccluded outputs in batches (not a few faces at a time)
        initials = torch.cat([forward(b) for b in x.split(UNOCCLUDED_BATCH)])

    def drops_of(i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Output drops at every position, and the targets, of faces i .. i + chunk."""
        with torch.inference_mode():
            xi, initial = x[i:i + chunk], initials[i:i + chunk]
            ti = initial.argmax(1) if targets is None else targets[i:i + chunk]
            logits = engine(xi, rows, cols, window, baseline)
            occluded = score_output(logits, forward.score, forward.contrast)
            occluded = occluded.view(len(xi), n_pos, -1).gather(
                2, ti.view(-1, 1, 1).expand(-1, n_pos, 1))[..., 0]
            return initial.gather(1, ti.view(-1, 1)) - occluded, ti

    drops, chosen = zip(*_in_threads(drops_of, range(0, len(x), chunk), x.device))
    maps = _to_maps(torch.cat(drops), len(rows), len(cols), window, stride, (h, w))
    return (maps, torch.cat(chosen)) if targets is None else maps


def engine_for(model: nn.Module, size: tuple[int, int], incremental: bool = True) -> Engine:
    """How to compute the outputs of every occluded copy of a batch, (N * P) x classes
    (face-major): per-member engines for an ensemble, incremental inference for a network
    that declares ``incremental_occlusion``, full channels-last passes otherwise."""
    net, card = getattr(model, "net", None), getattr(model, "card", None)
    if incremental and hasattr(net, "members") and hasattr(net, "combine"):
        members = [engine_for(m, size, incremental) for m in net.members]
        return lambda x, *a: model.emotions(net.combine([e(x, *a) for e in members]))
    if incremental and getattr(net, "incremental_occlusion", False) and card is not None \
            and (card.input_size, card.input_size) == tuple(size):
        from .incremental import trace

        graph = trace(net)
        if graph is not None:
            return lambda x, *a: _incremental(model, graph, x, *a)
    full, layout = _channels_last_copy(model)
    return lambda x, *a: _occluded_full(full, layout, x, *a)


def _in_threads(fn: Callable[[int], Any], items: range, device: torch.device) -> list[Any]:
    """``fn`` of every item, in order. On a CPU with torch set to several threads, the
    items run in as many Python threads of one torch thread each: the small block
    convolutions and copies of occlusion scale poorly within an operation (1.25x faster on 2
    cores, measured), and torch releases the GIL inside its operations."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads < 2 or len(items) < 2:
        return [fn(i) for i in items]
    with _THREADS:  # the thread count is global to the process: one such map at a time
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(threads) as pool:
                return list(pool.map(fn, items))
        finally:
            torch.set_num_threads(threads)


def _to_maps(drops: torch.Tensor, n_rows: int, n_cols: int, window: int, stride: int,
             size: tuple[int, int]) -> torch.Tensor:
    """Per-position output drops -> per-pixel mean over the covering windows."""
    grid = drops.view(-1, 1, n_rows, n_cols)
    ones = torch.ones(1, 1, window, window, dtype=grid.dtype, device=grid.device)
    total = F.conv_transpose2d(grid, ones, stride=stride)
    count = F.conv_transpose2d(torch.ones_like(grid[:1]), ones, stride=stride)
    total, count = total[..., :size[0], :size[1]], count[..., :size[0], :size[1]]
    return torch.where(count > 0, total / count.clamp_min(1), 0.0)[:, 0]


def _channels_last_copy(model: nn.Module) -> tuple[nn.Module, torch.memory_format]:
    """A channels-last copy of ``model`` (2-3x faster convolutions and pooling on CPU for
    networks such as mini-Xception) where the layout owner allows it
    (:func:`ferviz.models.layout.channels_last_ok`), else ``model`` itself in its layout."""
    from ..models.layout import channels_last_ok

    if not channels_last_ok(model):
        return model, torch.contiguous_format
    try:
        return copy.deepcopy(model).to(memory_format=torch.channels_last), torch.channels_last
    except (RuntimeError, TypeError):  # modules that refuse deepcopy
        return model, torch.contiguous_format


def _patch_masks(rows: list[int], cols: list[int], window: int, size, device) -> torch.Tensor:
    """P x H x W boolean masks of every patch position (row-major)."""
    r, c = torch.arange(size[0], device=device), torch.arange(size[1], device=device)
    rows, cols = torch.tensor(rows, device=device), torch.tensor(cols, device=device)
    in_r = (r[None] >= rows[:, None]) & (r[None] < rows[:, None] + window)
    in_c = (c[None] >= cols[:, None]) & (c[None] < cols[:, None] + window)
    return (in_r[:, None, :, None] & in_c[None, :, None, :]).flatten(0, 1)


def _occluded_full(model: nn.Module, layout: torch.memory_format, x: torch.Tensor,
                   rows: list[int], cols: list[int], window: int, baseline: float
                   ) -> torch.Tensor:
    """Outputs of every occluded copy, (N * P) x classes (face-major), by full passes."""
    masks = _patch_masks(rows, cols, window, x.shape[-2:], x.device)
    occluded = torch.where(masks[None], torch.as_tensor(baseline, dtype=x.dtype), x)
    return torch.cat([model(b.contiguous(memory_format=layout))
                      for b in occluded.flatten(0, 1).unsqueeze(1).split(FULL_BATCH)])


def _incremental(model: nn.Module, graph: torch.fx.GraphModule, x: torch.Tensor,
                 rows: list[int], cols: list[int], window: int, baseline: float) -> torch.Tensor:
    """Outputs of every occluded copy by incremental inference, face-major."""
    from .incremental import first_block, run_graph

    card = model.card
    base = ((x - card.mean) / card.std).expand(-1, card.channels, -1, -1).contiguous(
        memory_format=torch.channels_last)
    fill = (torch.as_tensor(baseline, dtype=x.dtype, device=x.device) - card.mean) / card.std
    out = model.emotions(run_graph(graph, first_block(base, rows, cols, window, fill)))
    return out.view(-1, len(x), out.shape[-1]).transpose(0, 1).reshape(-1, out.shape[-1])
