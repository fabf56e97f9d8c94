"""What a dashboard page is: a URL key, a title, a place in the menu and a render function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sidebar import Context


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    order: int
    render: Callable[[Context], None]
