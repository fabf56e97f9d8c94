"""What a saliency map shows, in numbers that travel with it: the share of attribution per
face region and off the face (``other``), each share relative to the region's area (a uniform,
uninformative map scores 1.0 everywhere), and flags that say when a map must not be read as
facial evidence.

Every view shows :meth:`Evidence.caption` (the off-face share always comes first) or
:meth:`Evidence.to_dict`; nothing needs to recompute shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .regions import OTHER, region_masks, share_array

if TYPE_CHECKING:
    from .core import SaliencyMaps

OFF_FACE_WARN = 0.4  # a map with at least this share off the face is flagged "off-face"
FLAT = 1e-3  # a [0, 1] map spanning less than this is "constant"
FLAG_TEXT = {
    "blank": "blank map: no attribution for this target",
    "constant": "constant map: every pixel the same, no evidence",
    "degenerate": "target equals the contrast class: nothing to explain",
    "off-face": f"{OFF_FACE_WARN:.0%} or more of it off the face: not facial evidence",
    "class-agnostic": "class-agnostic: the same map for every class",
}


@dataclass(frozen=True)
class Evidence:
    """Region evidence of N maps.

    Attributes:
        regions: region names, ``other`` (off the face) last.
        shares: N x R share of each map's positive attribution per region (NaN rows for
            blank maps); rows sum to 1.
        area: R share of the frame each region covers.
        flags: per map, the keys of :data:`FLAG_TEXT` that apply.
        masks: R x H x W boolean region masks.
    """

    regions: tuple[str, ...]
    shares: np.ndarray
    area: np.ndarray
    flags: tuple[tuple[str, ...], ...]
    masks: np.ndarray

    @classmethod
    def of(cls, maps: SaliencyMaps, regions: Any = None) -> Evidence:
        """Evidence of every map in ``maps`` (default regions: the aligned 48x48 frame)."""
        m = np.asarray(maps.maps, np.float64)
        masks = region_masks(regions, m.shape[1:])
        masks = {**{k: v for k, v in masks.items() if k != OTHER}, OTHER: masks[OTHER]}
        shares = share_array(m, masks)
        area = np.array([v.mean() for v in masks.values()])
        flat = m.reshape(len(m), -1)
        span = flat.max(1) - flat.min(1)
        degenerate = maps.targets == maps.contrast if maps.contrast is not None else \
            np.zeros(len(m), bool)
        flags = []
        for i in range(len(m)):
            f = ["degenerate"] if degenerate[i] else []
            if flat[i].max() <= 0:
                f.append("blank")
            elif span[i] < FLAT:
                f.append("constant")
            elif shares[i, -1] >= OFF_FACE_WARN:
                f.append("off-face")
            if maps.class_agnostic:
                f.append("class-agnostic")
            flags.append(tuple(f))
        return cls(tuple(masks), shares, area, tuple(flags), np.stack(list(masks.values())))

    def __len__(self) -> int:
        return len(self.shares)

    @property
    def off_face(self) -> np.ndarray:
        """N shares of attribution off the face (NaN for blank maps)."""
        return self.shares[:, -1]

    @property
    def lift(self) -> np.ndarray:
        """N x R share / area: above 1 means more attribution than the region's size."""
        return self.shares / self.area

    def warning(self, i: int) -> bool:
        """Whether map ``i`` must not be read as facial evidence of its class."""
        return bool(self.flags[i])

    def caption(self, i: int, top: int = 3) -> list[str]:
        """Caption lines of map ``i``: the off-face share first, always; then the ``top``
        face regions by share with their lift (``x1.8 area``); then what the flags mean."""
        if np.isnan(self.shares[i]).all():
            return [FLAG_TEXT[f] for f in self.flags[i]]
        lines = [f"off-face {self.off_face[i] * 100:.0f}% (x{self.lift[i, -1]:.1f} area)"]
        order = np.argsort(-self.shares[i, :-1])[:top]
        lines += [f"{self.regions[k]} {self.shares[i, k] * 100:.0f}% "
                  f"(x{self.lift[i, k]:.1f} area)" for k in order]
        return lines + [FLAG_TEXT[f] for f in self.flags[i]]

    def lift_map(self, i: int) -> np.ndarray:
        """H x W image of map ``i``'s lift per region (each pixel gets its region's value):
        the region shading a view draws beside the map."""
        return np.nan_to_num(np.tensordot(self.lift[i], self.masks, axes=1)).astype(np.float32)

    def to_dict(self, i: int) -> dict[str, Any]:
        """JSON-ready evidence of map ``i``."""
        def r(v: float) -> float | None:
            return None if np.isnan(v) else round(float(v), 4)
        return {"off_face": r(self.off_face[i]),
                "region_shares": {k: r(v) for k, v in zip(self.regions, self.shares[i])},
                "region_lift": {k: r(v) for k, v in zip(self.regions, self.lift[i])},
                "flags": list(self.flags[i]),
                "warnings": [FLAG_TEXT[f] for f in self.flags[i]]}

    def table(self):
        """DataFrame: one row per map, a column per region share, ``off_face``, ``flags``."""
        import pandas as pd

        df = pd.DataFrame(self.shares, columns=list(self.regions))
        df["off_face"] = self.off_face
        df["flags"] = [",".join(f) for f in self.flags]
        return df
