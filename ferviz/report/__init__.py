"""The self-contained HTML error report (``ferviz report``)."""

from .build import Options, build_html, default_path, write_report

__all__ = ["Options", "build_html", "default_path", "write_report"]
