"""The one owner of memory-layout speed tricks: a model runs channels-last only after a probe
showed that it runs that way and gives the same outputs as in the plain layout.

Channels-last makes convolutions and pooling 1.5-3x faster on CPU for most FER networks, but a
user's ``forward`` may ``.view`` a convolution's output (which then fails), a TorchScript or
ONNX graph may hard-code strides, and a Keras model permutes its input. Any exception or any
difference in the outputs keeps the plain layout, quietly (one debug line). Every path that
runs a model (predictions, occlusion, trust checks, sharded jobs, video, the dashboard) asks
:func:`channels_last_ok` or :func:`fastest`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

log = logging.getLogger(__name__)

PROBE_FACES = 8  # faces the equality probe runs, both layouts
TIMED_FACES = 32  # faces per layout timing
RTOL, ATOL = 1e-4, 1e-5  # "the same outputs": float rounding only, never another class

_SAME: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FASTEST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def probe_faces(n: int, device: torch.device) -> torch.Tensor:
    """A fixed batch of n face-sized inputs in [0, 1] (the probe never depends on the data)."""
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 48, 48, generator=g).to(device)


@contextmanager
def placed(model: nn.Module, device: torch.device,
           layout: torch.memory_format = torch.contiguous_format) -> Iterator[nn.Module]:
    """The model on ``device`` in ``layout`` for a while; its own tensors are put back after
    (no copy of the weights is kept). Works on TorchScript modules too."""
    params = [(p, p.data) for p in model.parameters()]
    buffers = [(m, dict(m.named_buffers(recurse=False))) for m in model.modules()]
    try:
        yield model.to(device).to(memory_format=layout)
    finally:
        for p, data in params:
            p.data = data
        for m, saved in buffers:
            for name, value in saved.items():
                setattr(m, name, value)


def _outputs(model: nn.Module, x: torch.Tensor, device: torch.device,
             layout: torch.memory_format) -> torch.Tensor:
    # quiet: a traced (torch.fx) module prints its own error report before raising
    with placed(model, device, layout), torch.inference_mode(), \
            contextlib.redirect_stderr(io.StringIO()):
        out = model(x.contiguous(memory_format=layout))
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"the model returned a {type(out).__name__}, not a tensor")
    return out.float().cpu()


def channels_last_ok(model: nn.Module, device: torch.device | None = None) -> bool:
    """Whether ``model`` runs channels-last on ``device`` with the same outputs as in the
    plain layout (probed once per model and device; a model without 2-d convolutions or
    pooling never is: it gains nothing)."""
    device = device or next((p.device for p in model.parameters()), torch.device("cpu"))
    known = _SAME.setdefault(model, {})
    if device.type in known:
        return known[device.type]
    ok = False
    if any(isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) for m in model.modules()):
        was_training = model.training
        model.eval()
        try:
            x = probe_faces(PROBE_FACES, device)
            plain = _outputs(model, x, device, torch.contiguous_format)
            fast = _outputs(model, x, device, torch.channels_last)
            ok = plain.shape == fast.shape and bool(torch.allclose(plain, fast, RTOL, ATOL))
            if not ok:
                log.debug("channels-last changes the outputs of %s; plain layout kept",
                          type(model).__name__)
        except Exception as e:  # any failure of the trick keeps the plain layout
            log.debug("channels-last fails for %s (%s: %s); plain layout kept",
                      type(model).__name__, type(e).__name__, e)
        finally:
            model.train(was_training)
    known[device.type] = ok
    return ok


def fastest(model: nn.Module, device: torch.device) -> torch.memory_format:
    """channels-last where :func:`channels_last_ok` and it runs faster here (timed once per
    model and device), else the plain layout."""
    known = _FASTEST.setdefault(model, {})
    if device.type not in known:
        layout = torch.contiguous_format
        if channels_last_ok(model, device):
            x, times = probe_faces(TIMED_FACES, device), {}
            for fmt in (torch.contiguous_format, torch.channels_last):
                _outputs(model, x, device, fmt)  # warm-up: kernels are chosen on first use
                start = time.perf_counter()
                _outputs(model, x, device, fmt)
                times[fmt] = time.perf_counter() - start
            layout = min(times, key=lambda fmt: times[fmt])
        known[device.type] = layout
    return known[device.type]


def layout_of(model: nn.Module, device: torch.device | None = None) -> torch.memory_format:
    """channels-last where :func:`channels_last_ok`, else the plain layout (no timing: for
    explanations, whose convolutions gain most, and for jobs, where every run must agree)."""
    return torch.channels_last if channels_last_ok(model, device) else torch.contiguous_format
