"""Small inline images for galleries: faces and overlays as PNG data URIs, probability bars
as SVG data URIs. Text inside an SVG is escaped, and an ``<img>`` never runs scripts."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape

import numpy as np

from ..labels import EMOTIONS


def png_uri(image: np.ndarray) -> str:
    """A lossless ``data:image/png`` URI of an H x W (grey) or H x W x 3 (RGB) uint8 image."""
    return image_uri(image, "PNG")


def image_uri(image: np.ndarray, fmt: str = "PNG", quality: int = 85) -> str:
    """A data URI of an H x W or H x W x 3 uint8 image as ``PNG`` or (lossy, about five times
    smaller for colour overlays) ``WEBP``."""
    from PIL import Image

    buf = io.BytesIO()
    options = {"optimize": True} if fmt == "PNG" else {"quality": quality, "method": 6}
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, fmt, **options)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def svg_uri(svg: str) -> str:
    """A ``data:image/svg+xml`` URI of an SVG document."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def prob_bars(probs: Sequence[float], labels: Sequence[str] = EMOTIONS, true: str | None = None,
              width: int = 168, row: int = 13) -> str:
    """Horizontal probability bars as an SVG data URI.

    The predicted (largest) class is drawn dark, the true class (when given and different)
    orange, the others grey.
    """
    p = np.asarray(probs, dtype=np.float64)
    top = int(np.argmax(p)) if len(p) else -1
    label_w, text_w = 56, 30
    bar_w = width - label_w - text_w
    names, bars, values = [], [], []
    for i, (name, v) in enumerate(zip(labels, p)):
        y = i * row
        colour = "#1f3b73" if i == top else "#e07b00" if name == true else ""
        stroke = f' stroke="{colour}"' if colour else ""
        names.append(f'<text x="{label_w - 3}" y="{y + row - 3}">{escape(str(name))}</text>')
        bars.append(f'<path d="M{label_w} {y + row / 2:g}h{max(v, 0) * bar_w:.1f}"{stroke}/>')
        values.append(f'<text x="{width - 1}" y="{y + row - 3}">{v:.0%}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(p)}" '
           f'font-family="sans-serif" font-size="10" fill="#222">'
           f'<g text-anchor="end">{"".join(names)}{"".join(values)}</g>'
           f'<g stroke="#9aa5b1" stroke-width="{row - 4}">{"".join(bars)}</g></svg>')
    return svg_uri(svg)
