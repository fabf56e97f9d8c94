"""What a view asks for: a data set and a model, as frozen, hashable specs.

Every view (CLI, report, dashboard) builds these from its input and hands them to the tasks;
they are the cache keys of the dashboard too. ``stamp()`` changes when the files behind a spec
change on disk, so a cache keyed by ``(spec, spec.stamp())`` notices edits.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .data.records import Records
    from .models.fermodel import FERModel

SYNTH = "synth"
LABEL_MODES = ("fer2013", "ferplus-majority", "ferplus-dist")


def file_stamp(*paths: str | os.PathLike | None) -> str:
    """Size and modification time of existing files (and of a folder's direct entries)."""
    parts = []
    for p in (Path(x) for x in paths if x):
        entries = [p, *sorted(p.iterdir())] if p.is_dir() else [p] if p.exists() else []
        parts += [f"{e.name}:{e.stat().st_size}:{e.stat().st_mtime_ns}" for e in entries]
    return "|".join(parts)


@dataclass(frozen=True)
class DataSpec:
    """A data set and the part of it to use.

    Attributes:
        data: ``synth`` (the FER-Synth demo set), ``synth:N`` (N FER-Synth faces), a fer2013
            csv, an image folder or a photo.
        split: split to keep (None: all faces).
        labels: ``fer2013``, ``ferplus-majority`` or ``ferplus-dist``.
        ferplus: FER+ votes file (``fer2013new.csv``) or None.
        contempt: ``merge``, ``drop`` or ``keep`` (None: the source's default).
        groups: a csv of group columns (face id or file name, then e.g. ``subject``).
        group_regex: a regex with named groups read from face ids, e.g.
            ``(?P<subject>S\\d+)_`` (known naming schemes such as CK+ and JAFFE are parsed
            without ``groups`` or ``group_regex``).
        one_per_sequence: keep one frame per sequence.
        confine: skip an image folder's links that lead outside it (the dashboard's roots).
    """

    data: str
    split: str | None = None
    labels: str = "fer2013"
    ferplus: str | None = None
    contempt: str | None = None
    groups: str | None = None
    group_regex: str | None = None
    one_per_sequence: bool = False
    confine: bool = False

    def open_all(self) -> Records:
        """All faces of the data set (on the 7 emotions; contempt kept as a label is refused)."""
        from .data import open_grouped

        return open_grouped(self.data, None, self.labels, self.ferplus, self.contempt,
                            self.groups, self.group_regex, self.one_per_sequence,
                            self.confine)

    def open(self) -> Records:
        """The faces of :attr:`split` (all faces when it is None)."""
        from .data import open_grouped

        return open_grouped(self.data, self.split, self.labels, self.ferplus, self.contempt,
                            self.groups, self.group_regex, self.one_per_sequence,
                            self.confine)

    def is_synth(self) -> bool:
        """The demo set or a ``synth:N`` set."""
        return self.data == SYNTH or self.data.startswith(f"{SYNTH}:")

    def with_split(self, split: str | None) -> DataSpec:
        return replace(self, split=split)

    def kind(self) -> str:
        """``synth``, ``fer2013`` (a csv), ``folder``, ``photo`` or ``missing``."""
        if self.is_synth():
            return "synth"
        p = Path(self.data)
        if p.is_dir():
            return "folder"
        if p.is_file():
            return "fer2013" if p.name.lower().endswith((".csv", ".csv.gz", ".csv.xz")) \
                else "photo"
        return "missing"

    def dataset(self) -> str:
        """What a card records as the data set: ``FER2013``, ``FER-Synth`` or the name."""
        return {"fer2013": "FER2013", "synth": "FER-Synth"}.get(self.kind(),
                                                                Path(self.data).name)

    def stamp(self) -> str:
        """Changes when the data set's files do (for FER-Synth: its generator's source)."""
        if self.is_synth():
            from .data import synth

            return file_stamp(synth.__file__)
        return file_stamp(self.data, self.ferplus, self.groups)

    def name(self) -> str:
        """A short display name: the file or folder name, and the split."""
        base = "FER-Synth" if self.data == SYNTH else \
            f"FER-Synth ({self.data.removeprefix(SYNTH + ':')} faces)" if self.is_synth() \
            else Path(self.data).name
        return f"{base} [{self.split}]" if self.split else base


@dataclass(frozen=True)
class ModelSpec:
    """A model and how to read it: the options every command that takes a model accepts.

    Attributes:
        model: zoo name or model file.
        arch: architecture of a state dict: registered name or ``file.py:ClassName``.
        trust: allow running code from the file (unpickling a whole model).
        input_size: card override: the input side, e.g. 64.
        channels: card override: input channels, 1 or 3.
        normalize: card override: ``0..1``, ``-1..1``, ``0..255``, ``imagenet`` or
            ``MEAN,STD``.
        label_order: card override: the output order, ``fer2013``, ``ferplus`` or
            comma-separated names.
        output: card override: ``logits``, ``probs``, ``log_probs`` or ``sigmoid``.
        cam_layer: the Grad-CAM target layer (default: the card's, else the last convolution
            with a spatial output).
        preset: named preprocessing and label order of a Keras project
            (``face_classification``, ``emotion-detection``).
    """

    model: str
    arch: str | None = None
    trust: bool = False
    input_size: int | None = None
    channels: int | None = None
    normalize: str | None = None
    label_order: str | None = None
    output: str | None = None
    preset: str | None = None
    cam_layer: str | None = None

    def options(self) -> dict[str, Any]:
        """The card overrides that are set, as ``ferviz.models.load.load_model`` takes them."""
        names = {"label_order": "labels"}
        skip = {"model", "arch", "trust", "preset"}
        return {names.get(f.name, f.name): getattr(self, f.name) for f in fields(self)
                if f.name not in skip and getattr(self, f.name) is not None}

    def load(self, explaining: bool = False) -> FERModel:
        """The model; what was assumed about a file without a card (a Keras file's
        preprocessing, say) and outputs that do not fit the declared mode are noted on stderr,
        and (``explaining``) a Grad-CAM layer found automatically."""
        import sys

        from .models.load import load_model

        m = load_model(self.model, arch=self.arch, trust=self.trust, preset=self.preset,
                       **self.options())
        for key in ("assumed", "output_note"):
            if m.card.info.get(key):
                print(f"note: {m.card.info[key]}", file=sys.stderr)
        if explaining and m.card.info.get("cam_layer_found"):
            print(f"note: Grad-CAM layer {m.card.cam_layer} (the last convolution with a "
                  "spatial output; --cam-layer NAME to choose another)", file=sys.stderr)
        return m

    def is_zoo(self) -> bool:
        from .models import zoo

        return zoo.exists(self.model)

    def stamp(self) -> str:
        """Changes when the model's files do (a zoo entry's card and weights, or a file and its
        sidecar card)."""
        from .models import zoo

        if self.is_zoo():
            folder = zoo.root() / self.model
            return file_stamp(folder / "card.json", folder / zoo.WEIGHTS)
        return file_stamp(self.model, f"{self.model}.json")

    def name(self) -> str:
        """The display name without loading the model (zoo card name, else the file name)."""
        from .models import zoo

        return (zoo.card(self.model).name or self.model) if self.is_zoo() \
            else Path(self.model).name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
