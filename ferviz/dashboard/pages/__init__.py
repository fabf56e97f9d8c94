"""The dashboard's pages: every module here exports one ``PAGE`` (a :class:`Page`); this
package's files are the only registry (adding a page is adding a file)."""

from __future__ import annotations

import importlib
import pkgutil

from ..page import Page


def all_pages() -> list[Page]:
    """Every page module's ``PAGE``, in menu order."""
    found = [importlib.import_module(f"{__name__}.{m.name}").PAGE
             for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    return sorted(found, key=lambda p: p.order)
