"""What a dashboard page is: a URL key, a title, a place in the menu and a render function
(given the sidebar's opened model and data, or, for a page with ``context=False`` that opens
its own input, only the settings). A page with ``scores=False`` uses the model on other
input (a photo, a video, the camera), so the data set's warnings are not shown on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings
    from .sidebar import Context


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    order: int
    render: Callable[[Context], None] | Callable[[Settings], None]
    context: bool = True
    scores: bool = True
