"""What a view offers to choose from: zoo models, architectures, explanation methods, output
modes, and the model a data set opens with."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models.card import ModelCard


def zoo_names() -> list[str]:
    """The zoo's models (``$FERVIZ_ZOO`` or the bundled zoo)."""
    from ..models import zoo

    return zoo.names()


def zoo_cards() -> list[ModelCard]:
    """The card of every zoo model, in :func:`zoo_names`'s order."""
    from ..models import zoo

    return [zoo.card(n) for n in zoo.names()]


def zoo_table() -> str:
    """The README's zoo table (markdown)."""
    from ..models import zoo

    return zoo.markdown_table()


def zoo_root() -> Path:
    """The zoo's folder."""
    from ..models import zoo

    return zoo.root()


def archs() -> list[ModelCard]:
    """The default card of every registered architecture (parameters, CAM layer, source)."""
    from ..models.registry import create_model, list_models

    return [create_model(name)[1] for name in list_models()]


def arch_names() -> list[str]:
    """The registered architectures' names (no network is built)."""
    from ..models.registry import list_models

    return list_models()


def outputs() -> tuple[str, ...]:
    """The output modes a model card can declare."""
    from ..models.card import OUTPUTS

    return OUTPUTS


def methods() -> list[str]:
    """The registered explanation methods."""
    from ..explain import METHODS

    return list(METHODS)


def default_model(synth: bool = False) -> tuple[str, str | None]:
    """The zoo model to open a data set with, and a note when it is a fallback: FER-Synth's
    own model for FER-Synth, else the zoo's most accurate FER2013 model."""
    if synth:
        return "fer_synth_cnn", None
    from ..explain.photo import default_model as best

    return best()
