"""HTML of galleries, face cards and saliency panels, shared by the report and the dashboard.

Every text that reaches the HTML is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from ..labels import EMOTIONS

GALLERY_CSS = """<style>
.fv-gallery{display:flex;flex-wrap:wrap;gap:10px;margin:4px 0 12px}
.fv-face{border:1px solid #e2e5ea;border-radius:6px;padding:6px;width:208px;font-size:12px;
 background:#fcfcfd;line-height:1.3}
.fv-face img.fv-thumb{width:96px;height:96px;image-rendering:pixelated;vertical-align:top}
.fv-face .fv-ov{display:inline-block;text-align:center;font-size:10px;margin-left:4px}
.fv-face .fv-ov img{width:96px;height:96px;image-rendering:auto}
.fv-face .fv-id{color:#667;word-break:break-all;font-size:10px}
.fv-face .fv-wrong{color:#b23b16;font-weight:600}
.fv-face .fv-muted{color:#778;font-size:10px}
.fv-panel{display:flex;flex-wrap:wrap;gap:14px}
.fv-panel figure{margin:0;text-align:center;font-size:12px}
.fv-panel img{width:192px;height:192px;image-rendering:pixelated;border-radius:4px}
.fv-panel table{font-size:11px;margin:4px auto 0;border-collapse:collapse}
.fv-panel td{padding:0 4px;text-align:right}.fv-panel td:first-child{text-align:left}
</style>"""


def card_html(item, href: str | None = None) -> str:
    """One gallery card from a :class:`ferviz.report.gallery.Item`; every text is escaped."""
    wrong = item.label in EMOTIONS and item.label != item.pred
    parts = [f'<div class="fv-face" data-id="{escape(item.id)}">']
    if item.face:
        parts.append(f'<img class="fv-thumb" src="{escape(item.face)}" '
                     f'alt="face {escape(item.id)}">')
    for method, uri in item.overlays:
        parts.append(f'<span class="fv-ov"><img src="{escape(uri)}" alt="{escape(method)}">'
                     f'<br>{escape(method)}</span>')
    parts.append(f'<div><span class="{"fv-wrong" if wrong else ""}">{escape(item.label)} → '
                 f'{escape(item.pred)}</span> ({item.confidence:.0%})</div>')
    for name, uri in item.bars:
        parts.append(f'<div class="fv-muted">{escape(name)}</div>'
                     f'<img src="{escape(uri)}" alt="{escape(name)} probabilities">')
    if item.note:
        parts.append(f"<div>{escape(item.note)}</div>")
    ident = escape(item.id)
    if href:
        ident = f'<a href="{escape(href)}" target="_self">{ident}</a>'
    parts.append(f'<div class="fv-id">{ident}</div></div>')
    return "".join(parts)


def gallery_html(items: Sequence[Any], hrefs: Sequence[str | None] | None = None,
                 name: str = "") -> str:
    """A block of gallery cards (one HTML string, so images are encoded once per view);
    ``name`` goes into the block's ``data-gallery`` attribute."""
    if not items:
        return f'<p class="fv-empty" data-gallery="{escape(name)}">No faces here.</p>'
    hrefs = hrefs or [None] * len(items)
    cards = "".join(card_html(it, h) for it, h in zip(items, hrefs))
    return (f'{GALLERY_CSS}<div class="fv-gallery" data-gallery="{escape(name)}" '
            f'data-count="{len(items)}">{cards}</div>')


def face_uri(face: np.ndarray, scale: int = 4) -> str:
    """A face as a PNG data URI, upscaled with nearest-neighbour pixels."""
    from .thumbs import png_uri

    return png_uri(np.kron(np.asarray(face, np.uint8), np.ones((scale, scale), np.uint8)))


def region_rows(shares: Mapping[str, float], areas: Mapping[str, float] | None = None,
                top: int = 4, other: str = "other") -> str:
    """Table rows of a map's ``top`` face regions and, always, its off-face share. With
    ``areas`` (each region's share of the frame), a region is shaded by how much more
    attribution it holds than its area would give (``share / area``; 1 = uninformative)."""
    ranked = sorted(((v, k) for k, v in shares.items() if k != other and not math.isnan(v)),
                    reverse=True)[:top]
    rows = []
    for v, k in [*ranked, (shares.get(other, float("nan")), other)]:
        if math.isnan(v):
            continue
        ratio = v / areas[k] if areas and areas.get(k) else None
        alpha = 0.0 if ratio is None else min(max(ratio - 1, 0) / 3, 1) * 0.6
        title = f" title=\"{ratio:.1f}x its area\"" if ratio is not None else ""
        label = "off-face" if k == other else k
        rows.append(f'<tr class="fv-region" data-region="{escape(k)}"{title} '
                    f'style="background:rgba(230,120,20,{alpha:.2f})"><td>{escape(label)}</td>'
                    f"<td>{v:.0%}</td></tr>")
    return "".join(rows)


def saliency_html(face: np.ndarray, panels: Sequence[tuple[str, np.ndarray, Mapping[str, float]]],
                  areas: Mapping[str, float] | None = None, top: int = 4) -> str:
    """A face, then one overlay per method with its ``top`` region shares and its off-face
    share. ``panels`` holds (title, 48 x 48 map in [0, 1], region shares)."""
    from .overlays import overlay
    from .thumbs import png_uri

    figs = [f'<figure><img src="{face_uri(face)}" alt="face"><figcaption>face</figcaption>'
            "</figure>"]
    for title, sal, shares in panels:
        figs.append(f'<figure data-method="{escape(title)}"><img src="'
                    f'{png_uri(overlay(face, sal, scale=4))}" alt="{escape(title)}">'
                    f"<figcaption>{escape(title)}</figcaption>"
                    f"<table>{region_rows(shares, areas, top)}</table></figure>")
    return f'{GALLERY_CSS}<div class="fv-panel">{"".join(figs)}</div>'
