"""Rendering and writing the self-contained HTML pages: Jinja2 with autoescaping, plotly
figures without their bundle (inlined once per page), atomic writes.

The only unescaped inserts are plotly's own figure HTML (its JSON escapes ``<``, ``>`` and
``/``) and the plotly.js bundle.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..cache import atomic_path
from ..errors import FervizError
from ..labels import EMOTIONS
from ..outputs import write_or_keep

REPORT = "report.html.j2"
JOB = "job.html.j2"
CONFIG = {"displaylogo": False, "responsive": True}


def render(ctx: Mapping[str, Any], template: str = REPORT) -> str:
    """Render a page template with autoescaping."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v, d=1: "n/a" if _missing(v) else f"{v * 100:.{d}f}%"
    env.filters["num"] = lambda v, d=3: "n/a" if _missing(v) else f"{v:.{d}f}"
    return env.get_template(template).render(**ctx, emotions=EMOTIONS)


def _missing(v: float | None) -> bool:
    return v is None or math.isnan(v)


def figure(fig: Any, div_id: str) -> Markup:
    """A figure's HTML without plotly.js (the page inlines it once)."""
    import plotly.io as pio

    return Markup(pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                              config=CONFIG))


def plotly_js() -> Markup:
    """The plotly.js bundle, inlined once in the page head."""
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


def default_path(*parts: str, folder: str | os.PathLike = "reports") -> Path:
    """``reports/<parts joined>.html``, with ``-2``, ``-3``... added rather than overwrite."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(p for p in parts if p)).strip("-.")
    base = Path(folder) / (slug or "report")
    path, n = base.with_name(f"{base.name}.html"), 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}.html")
    return path


def write_report(html: str, out: str | os.PathLike, force: bool = False) -> Path:
    """Write a page atomically.

    Raises:
        FervizError: if ``out`` exists and ``force`` is not set, or the write fails (then the
            page is kept under the cache and the message names it).
    """
    out = Path(out)
    if out.exists() and not force:
        raise FervizError(f"{out} exists; use --force to overwrite it")

    def write(path: Path) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(html, encoding="utf-8")

    return write_or_keep(out, write)
