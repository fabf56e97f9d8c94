"""The seven FER2013 emotions, their aliases, the FER+ vote columns, and the face size."""

from __future__ import annotations

from .errors import FervizError

FACE_SIZE = 48  # side of the aligned grayscale faces every record holds
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
UNKNOWN = -1  # label index of a face whose emotion is not known
INDEX = {name: i for i, name in enumerate(EMOTIONS)}
# Label index of contempt, kept only under ``contempt="keep"`` (an 8th class after EMOTIONS).
CONTEMPT = len(EMOTIONS)

# FER+ vote columns, in the order of fer2013new.csv.
FERPLUS_COLUMNS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
    "unknown", "NF",
)
# The FER+ label order used by its 8-class models (Barsoum et al. 2016).
FERPLUS_LABELS: tuple[str, ...] = (
    "neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", "contempt",
)

ALIASES: dict[str, str] = {
    "angry": "angry", "anger": "angry", "an": "angry",
    "disgust": "disgust", "disgusted": "disgust", "di": "disgust",
    "fear": "fear", "fearful": "fear", "scared": "fear", "fe": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy", "ha": "happy",
    "sad": "sad", "sadness": "sad", "sa": "sad",
    "surprise": "surprise", "surprised": "surprise", "su": "surprise",
    "neutral": "neutral", "ne": "neutral",
}


def canonical(name: str) -> str | None:
    """Return the canonical emotion for a class name or alias, or None if unknown."""
    return ALIASES.get(name.strip().lower())


def label_index(name: str) -> int:
    """Index of an emotion name or alias in :data:`EMOTIONS`.

    Raises:
        FervizError: if the name is not an emotion.
    """
    emotion = canonical(name)
    if emotion is None:
        raise FervizError(f"unknown emotion {name!r}; expected one of {', '.join(EMOTIONS)}")
    return INDEX[emotion]


def check_target(target: str, labels: bool = True) -> None:
    """Refuse a ``--target`` that names nothing before any work: ``pred``, ``true`` (only
    where faces have labels), an emotion, or a contrast ``a-b`` of two different emotions
    (``a`` may be ``pred`` or ``true``), as :func:`ferviz.explain.core.resolve_targets`
    takes them.

    Raises:
        FervizError: naming the targets there are.
    """
    given = ("pred", "true") if labels else ("pred",)
    parts = target.split("-", 1) if canonical(target) is None and "-" in target else [target]
    first, other = parts[0], parts[1:]
    if first == "true" and not labels:
        raise FervizError(f"target {target!r} needs known labels, and these faces have none; "
                          "choose pred, an emotion or a contrast such as sad-neutral")
    known = first in given or canonical(first) is not None
    if not known or (other and canonical(other[0]) is None):
        raise FervizError(f"unknown target {target!r}; choose {', '.join(given)}, an emotion "
                          f"({', '.join(EMOTIONS)}) or a contrast such as sad-neutral")
    if other and canonical(first) is not None and canonical(first) == canonical(other[0]):
        raise FervizError(f"the contrast {target} explains nothing (a class minus itself is "
                          "zero everywhere); name two different classes")


def label_name(index: int) -> str:
    """Emotion name of a label index, 'contempt' for :data:`CONTEMPT`, 'unknown' for -1."""
    if index == CONTEMPT:
        return "contempt"
    return EMOTIONS[index] if 0 <= index < len(EMOTIONS) else "unknown"

TRAIN_SPLITS = ("training", "train")  # split names (lower case) that hold training faces
