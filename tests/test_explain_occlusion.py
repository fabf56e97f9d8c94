"""The occlusion engines agree: incremental inference (chains, residual blocks, ensembles per
member) gives the full-pass maps on every zoo model, and its strided crops equal crops taken
position by position."""

from __future__ import annotations

import pytest
import torch

from ferviz.explain import blocks, incremental
from ferviz.explain.core import Scored
from ferviz.explain.occlusion import occlusion
from ferviz.models import zoo
from ferviz.models.load import load_model


@pytest.mark.parametrize("window, stride", [(8, 4), (11, 5)])  # (11, 5): last window clipped
@pytest.mark.parametrize("name", zoo.names())
def test_incremental_equals_full_passes_on_every_zoo_model(name, window, stride, synth_test,
                                                           monkeypatch):
    calls = []
    real = incremental.run_graph
    monkeypatch.setattr(incremental, "run_graph", lambda *a: calls.append(1) or real(*a))
    model = load_model(name).eval()
    x = torch.from_numpy(synth_test.images()[:2].copy()).unsqueeze(1).float() / 255
    scored = Scored(model, "prob")
    fast, targets = occlusion(scored, x, None, window, stride)
    assert calls, f"{name} did not take the incremental path"
    full = occlusion(scored, x, targets, window, stride, incremental=False)
    assert (fast - full).abs().max() < 1e-5 and full.abs().max() > 1e-3


def _naive_crop(base, block, wy, wx, ly, lx):
    out = torch.empty(len(wy), len(wx), *base.shape[:2], ly, lx)
    for i, (y, dy0, dy1, sy0, sy1) in enumerate(wy):
        for j, (x, dx0, dx1, sx0, sx1) in enumerate(wx):
            out[i, j] = base[:, :, y:y + ly, x:x + lx]
            out[i, j, :, :, dy0:dy1, dx0:dx1] = block[i, j, :, :, sy0:sy1, sx0:sx1]
    return out


@pytest.mark.parametrize("k, s, pad", [(3, 1, 1), (5, 1, 2), (3, 2, 1), (2, 2, 0), (4, 1, 0)])
def test_strided_crops_equal_crops_per_position(k, s, pad):
    torch.manual_seed(0)
    offsets = tuple(min(r, 40) for r in range(0, 45, 4))  # 11 blocks of 8 in 48, as occlusion
    axis = blocks.Axis(offsets, 8, 48)
    base = torch.randn(2, 3, 48 + 2 * pad, 48 + 2 * pad).contiguous(
        memory_format=torch.channels_last)
    block = torch.randn(len(offsets), len(offsets), 2, 3, 8, 8)
    _, length, windows = axis.step(k, s, pad, pad)
    assert len(blocks.runs(windows)) < len(windows)  # strided copies, not per position
    got = blocks.crop(base, block, windows, windows, length, length)
    assert torch.equal(got, _naive_crop(base, block, windows, windows, length, length))


@pytest.mark.parametrize("k, pad, size", [(5, 2, 48), (4, 0, 48), (7, 3, 30), (5, 0, 27)])
def test_convolution_by_its_change_equals_recomputing_the_block(k, pad, size):
    """A stride-1 convolution taken by its change (transposed convolution of the block's
    difference) gives the occluded maps of recomputing every occluded copy in full."""
    torch.manual_seed(k)
    conv = torch.nn.Conv2d(3, 6, k, padding=pad)
    base = torch.randn(2, 3, size, size).contiguous(memory_format=torch.channels_last)
    rows = list(range(0, size - 6 + 1, 4))
    start = incremental.first_block(base, rows, rows, 6, torch.tensor(0.3))
    geom = incremental._geometry(conv)
    assert incremental._spreads(conv, start, *geom)
    with torch.no_grad():  # as occlusion runs it
        got = start.spread(conv, *geom).full()
        assert torch.allclose(got, conv(start.full()), atol=1e-5)
        assert torch.allclose(got, start.windowed(conv, geom).full(), atol=1e-5)
