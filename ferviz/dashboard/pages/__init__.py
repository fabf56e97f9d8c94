"""The dashboard's pages: every module here exports one ``PAGE``; this package's files are the
only registry (adding a page is adding a file)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..sidebar import Context


@dataclass(frozen=True)
class Page:
    """A page: its URL key, title, place in the menu and how it renders a context."""

    key: str
    title: str
    order: int
    render: Callable[[Context], None]


def all_pages() -> list[Page]:
    """Every page module's ``PAGE``, in menu order."""
    found = [importlib.import_module(f"{__name__}.{m.name}").PAGE
             for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    return sorted(found, key=lambda p: p.order)
