"""ModelCard: the frozen record of what a model expects and what it outputs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..errors import FervizError
from ..labels import EMOTIONS, FERPLUS_LABELS, canonical

NORMALISATIONS = {  # name -> (mean, std) applied to pixels scaled to [0, 1]
    "0..1": (0.0, 1.0),
    "-1..1": (0.5, 0.5),
    "0..255": (0.0, 1 / 255),
    "imagenet": (0.449, 0.226),  # ImageNet's mean and std, averaged over the three channels
}
LABEL_ORDERS = {"fer2013": EMOTIONS, "ferplus": FERPLUS_LABELS}
OUTPUTS = ("logits", "probs", "log_probs", "sigmoid")


@dataclass(frozen=True)
class Metrics:
    """What ``ferviz evaluate --update-card`` measured (a zoo card's ``info.metrics``).

    Attributes:
        data: display text, e.g. ``FER2013 (fer2013 labels) [PrivateTest]``.
        dataset: ``FER2013``, ``FER-Synth`` or a folder's name.
        labels: the label set scored: ``fer2013``, ``ferplus-majority`` or ``ferplus-dist``.
        split: the split scored.
        accuracy, accuracy_tta, macro_f1: the scores (None when not measured).
    """

    data: str = ""
    dataset: str = ""
    labels: str = ""
    split: str = ""
    accuracy: float | None = None
    accuracy_tta: float | None = None
    macro_f1: float | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Metrics:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass(frozen=True)
class ModelCard:
    """What a model expects and emits; preprocessing is derived from it, never hard-coded.

    Attributes:
        arch: registered architecture name (or ``file.py:Class``, ``torchscript``, ``onnx``).
        name: the model's name (zoo entry or file).
        input_size: side of the square input the network takes.
        channels: 1 (grayscale) or 3 (the face is repeated).
        mean, std: normalisation applied to pixels scaled to [0, 1].
        labels: class names in the network's output order.
        output: ``logits``, ``probs``, ``log_probs`` or ``sigmoid`` (independent per-class
            scores in [0, 1], renormalised to sum to one for the table).
        cam_layer: dotted path of the default Grad-CAM target layer inside the network.
        source: paper or project the architecture comes from.
        params: number of parameters.
        info: everything else a zoo card.json holds (training recipe, metrics, ...).
    """

    arch: str
    name: str = ""
    input_size: int = 48
    channels: int = 1
    mean: float = 0.0
    std: float = 1.0
    labels: tuple[str, ...] = EMOTIONS
    output: str = "logits"
    cam_layer: str = ""
    source: str = ""
    params: int = 0
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def members(self) -> tuple[str, ...]:
        """The zoo models an ensemble averages (empty for a single network)."""
        return tuple(self.info.get("members") or ())

    @property
    def metrics(self) -> Metrics | None:
        """The measured test metrics, if any."""
        m = self.info.get("metrics")
        return Metrics.from_dict(m) if m else None

    @property
    def goal(self) -> float | None:
        """The accuracy this zoo entry was trained to reach."""
        g = self.info.get("goal")
        return None if g is None else float(g)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["labels"] = list(self.labels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelCard:
        if not isinstance(d, dict) or not isinstance(d.get("info", {}), dict):
            raise TypeError("a card is a JSON object (with an object under 'info')")
        known = {f.name for f in fields(cls)}
        args = {k: v for k, v in d.items() if k in known}
        args["info"] = {**d.get("info", {}), **{k: v for k, v in d.items() if k not in known}}
        if "labels" in args:
            args["labels"] = tuple(args["labels"])
        return cls(**args)

    @classmethod
    def read(cls, path: str | Path) -> ModelCard:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, TypeError) as e:
            raise FervizError(f"{path}: not a readable model card ({e})") from e

    def with_options(self, input_size: int | None = None, channels: int | None = None,
                     normalize: str | None = None, labels: str | None = None,
                     output: str | None = None, cam_layer: str | None = None) -> ModelCard:
        """A copy with user overrides (CLI options or a sidecar file).

        Args:
            normalize: ``0..1``, ``-1..1``, ``0..255``, ``imagenet`` or ``MEAN,STD``.
            labels: ``fer2013``, ``ferplus`` or comma-separated class names.

        Raises:
            FervizError: on values ferviz cannot interpret.
        """
        changes: dict[str, Any] = {}
        if input_size is not None:
            if not 8 <= input_size <= 512:
                raise FervizError(f"input size {input_size} is out of range 8-512")
            changes["input_size"] = input_size
        if channels is not None:
            if channels not in (1, 3):
                raise FervizError(f"channels must be 1 or 3, not {channels}")
            changes["channels"] = channels
        if normalize is not None:
            changes["mean"], changes["std"] = parse_normalize(normalize)
        if labels is not None:
            changes["labels"] = parse_labels(labels)
        if output is not None:
            if output not in OUTPUTS:
                raise FervizError(f"output must be one of {', '.join(OUTPUTS)}, not {output!r}")
            changes["output"] = output
        if cam_layer is not None:
            changes["cam_layer"] = cam_layer
        return replace(self, **changes)


def parse_normalize(text: str) -> tuple[float, float]:
    if text in NORMALISATIONS:
        return NORMALISATIONS[text]
    try:
        mean, std = (float(v) for v in text.split(","))
    except ValueError:
        raise FervizError(f"normalisation {text!r}: use 0..1, -1..1, 0..255, imagenet or "
                          "MEAN,STD") from None
    if std <= 0:
        raise FervizError("normalisation std must be positive")
    return mean, std


def parse_labels(text: str) -> tuple[str, ...]:
    if text in LABEL_ORDERS:
        return LABEL_ORDERS[text]
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    known = {"contempt", "unknown", "nf"}
    bad = [n for n in names if canonical(n) is None and n not in known]
    if bad or not names:
        raise FervizError(f"label order {text!r}: unknown class name(s) {', '.join(bad)}")
    return names
