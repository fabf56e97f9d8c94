"""Changed blocks of occluded activations: where each patch position's block sits along one
axis of a map, and copies of the occluded maps (the unoccluded map with each position's block
inside), made a run of equally spaced positions at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

# Along one axis, per patch position: (crop start in the padded input, then the changed
# block's placement in the crop: dst_start, dst_end, and in the block: src_start, src_end).
Window = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class Axis:
    """Along one axis: each position's changed block starts at ``offsets``, ``size`` long,
    in a map ``full`` long."""

    offsets: tuple[int, ...]
    size: int
    full: int

    def step(self, k: int, s: int, lo: int, hi: int) -> tuple[Axis, int, list[Window]]:
        """The output block of a windowed layer (kernel, stride, padding) and how to crop
        its padded input. Returns (output axis, crop length, one window per position)."""
        n_out = (self.full + lo + hi - k) // s + 1
        firsts = [max(0, -(-(a + lo - k + 1) // s)) for a in self.offsets]
        lasts = [min(n_out - 1, (a + self.size - 1 + lo) // s) for a in self.offsets]
        size = min(n_out, max(b - f + 1 for f, b in zip(firsts, lasts)))
        starts = [max(0, min(f, n_out - size)) for f in firsts]
        length = (size - 1) * s + k
        return (Axis(tuple(starts), size, n_out), length,
                [self.window(o * s, a + lo, length) for o, a in zip(starts, self.offsets)])

    def union(self, other: Axis) -> Axis:
        """The smallest blocks covering this axis's and ``other``'s, position by position."""
        lo = [min(a, b) for a, b in zip(self.offsets, other.offsets)]
        hi = [max(a + self.size, b + other.size) for a, b in zip(self.offsets, other.offsets)]
        size = min(self.full, max(h - low for low, h in zip(lo, hi)))
        return Axis(tuple(min(low, self.full - size) for low in lo), size, self.full)

    def windows_in(self, outer: Axis) -> list[Window]:
        """Windows placing this axis's blocks inside ``outer``'s (unpadded) blocks."""
        return [self.window(o, a, outer.size) for o, a in zip(outer.offsets, self.offsets)]

    def on_blocks(self) -> list[Window]:
        """Windows cropping at each block, the block filling its crop."""
        return [self.window(a, a, self.size) for a in self.offsets]

    def window(self, crop: int, block: int, length: int) -> Window:
        dst0, dst1 = max(0, block - crop), min(length, block + self.size - crop)
        src0 = dst0 - (block - crop)
        return crop, dst0, dst1, src0, src0 + max(0, dst1 - dst0)




def empty(like: torch.Tensor, *lead: int, c: int, h: int, w: int) -> torch.Tensor:
    """An uninitialised ``lead`` x C x H x W tensor laid out channels-last."""
    return like.new_empty(*lead, h, w, c).movedim(-1, -3)


def runs(windows: list[Window]) -> list[tuple[int, int, int]]:
    """Runs of consecutive positions whose crops start at equal steps and whose blocks sit
    alike in their crops: (first, end, step)."""
    runs, i0 = [], 0
    while i0 < len(windows):
        i1 = i0 + 1
        step = windows[i1][0] - windows[i0][0] if i1 < len(windows) else 0
        while i1 < len(windows) and windows[i1][1:] == windows[i0][1:] and \
                windows[i1][0] - windows[i1 - 1][0] == step:
            i1 += 1
        runs.append((i0, i1, step if i1 - i0 > 1 else 0))
        i0 = i1
    return runs


def crop(base: torch.Tensor, block: torch.Tensor, wy: list[Window], wx: list[Window],
         ly: int, lx: int, op: Callable[..., torch.Tensor] | None = None) -> torch.Tensor:
    """Crops of the occluded maps: ``base`` (N x C x H x W) where unchanged, the changed
    ``block`` (PR x PC x N x C x h x w) inside, or with ``op`` (``torch.add``, ``torch.sub``)
    ``op(block, base)`` inside. Returns PR x PC x N x C x ly x lx, channels-last. Positions in
    runs of equal steps are copied at once, through strided views of ``base`` (one copy per
    pair of runs, not per position)."""
    if op is None and block.shape[-2:] == (ly, lx) and \
            all(w[1:] == (0, ly, 0, ly) for w in wy) and all(w[1:] == (0, lx, 0, lx) for w in wx):
        return block  # each block fills its crop (non-overlapping pooling, aligned)
    n, c = base.shape[:2]
    out = empty(base, len(wy), len(wx), n, c=c, h=ly, w=lx)
    sn, sc, sh, sw = base.stride()
    for i0, i1, step_y in runs(wy):
        y, dy0, dy1, sy0, sy1 = wy[i0]
        for j0, j1, step_x in runs(wx):
            x, dx0, dx1, sx0, sx1 = wx[j0]
            crops = base.as_strided(
                (i1 - i0, j1 - j0, n, c, ly, lx), (step_y * sh, step_x * sw, sn, sc, sh, sw),
                base.storage_offset() + y * sh + x * sw)
            dst = out[i0:i1, j0:j1]
            if dy1 <= dy0 or dx1 <= dx0:
                dst.copy_(crops)
                continue
            inside = block[i0:i1, j0:j1, :, :, sy0:sy1, sx0:sx1]
            if op is None:
                dst[..., dy0:dy1, dx0:dx1] = inside
            else:
                op(inside, crops[..., dy0:dy1, dx0:dx1], out=dst[..., dy0:dy1, dx0:dx1])
            for r0, r1, c0, c1 in ((0, dy0, 0, lx), (dy1, ly, 0, lx), (dy0, dy1, 0, dx0),
                                   (dy0, dy1, dx1, lx)):  # the unchanged ring around it
                if r1 > r0 and c1 > c0:
                    dst[..., r0:r1, c0:c1] = crops[..., r0:r1, c0:c1]
    return out
