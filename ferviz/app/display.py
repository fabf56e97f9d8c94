"""How the Python door's results show themselves in a notebook: HTML for score tables and
galleries of maps, a plotly figure from ``.plot()``. Everything rendered is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..explain.core import SaliencyMaps


def evaluation_html(ev: Any) -> str:
    """An :class:`~ferviz.app.tasks.Evaluation` as HTML: headline, lines, notes, per-class
    table."""
    s = ev.scores
    head = (f"<b>{escape(str(ev.model))}</b> on {escape(str(ev.data))}: {ev.n:,} faces, "
            f"accuracy {s['accuracy'] * 100:.2f}%, macro-F1 {s['macro_f1']:.4f}")
    items = [f"<li>{escape(line)}</li>" for line in
             [*ev.lines[:2], *(f"note: {n}" for n in ev.notes), *ev.warnings]]
    return (f'<div class="ferviz-evaluation"><p>{head}</p><ul>{"".join(items)}</ul>'
            f"{ev.per_class.to_html(float_format=lambda v: f'{v:.3f}', escape=True)}</div>")


@dataclass(frozen=True)
class Explained:
    """Maps of one method on some faces, with the faces they explain.

    Attributes:
        faces: N x 48 x 48 uint8.
        maps: the ``SaliencyMaps`` of ``ferviz.explain.core`` (``maps.maps``: N x H x W,
            ``maps.method``, ``maps.targets``).
        ids: the faces' ids (for captions).
    """

    faces: np.ndarray
    maps: SaliencyMaps
    ids: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.faces)

    def captions(self) -> list[str]:
        """One caption per face: its id, the method and the emotion explained."""
        from ..labels import EMOTIONS

        names = [EMOTIONS[int(t)] for t in self.maps.targets]
        ids = self.ids or tuple(str(i) for i in range(len(self)))
        return [f"{i}: {self.maps.method} ({n})" for i, n in zip(ids, names)]

    def _repr_html_(self) -> str:
        from ..viz.overlays import overlay
        from ..viz.thumbs import png_uri

        cells = [f'<figure style="display:inline-block;margin:4px"><img src="'
                 f'{png_uri(overlay(face, m, scale=3))}" width="144"><figcaption>'
                 f"{escape(c)}</figcaption></figure>"
                 for face, m, c in zip(self.faces, self.maps.maps, self.captions())]
        return f'<div class="ferviz-gallery">{"".join(cells)}</div>'

    def plot(self) -> Any:
        """A plotly figure: one panel per face, the map over the face."""
        import plotly.express as px

        from ..viz.overlays import overlay

        images = np.stack([overlay(face, m) for face, m in zip(self.faces, self.maps.maps)])
        fig = px.imshow(images, facet_col=0, facet_col_wrap=min(len(images), 5))
        for note, text in zip(fig.layout.annotations, self.captions()):
            note.text = text
        fig.update_xaxes(visible=False).update_yaxes(visible=False)
        return fig
