"""What the HTML pages show, computed: the error report's sections, its maps and their trust
badges (:func:`build_html`); :mod:`ferviz.report` only renders and writes them."""

from .build import Options, build_html
from .saliency import check_methods

__all__ = ["Options", "build_html", "check_methods"]
