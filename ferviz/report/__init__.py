"""The HTML pages (``ferviz report``, ``ferviz job-report``): templates rendered from what the
application layer computed (:mod:`ferviz.app.reporting`), written atomically."""

from .render import default_path, figure, plotly_js, render, write_report

__all__ = ["default_path", "figure", "plotly_js", "render", "write_report"]
