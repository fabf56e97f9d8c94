"""``ferviz saliency``'s work: one photo -> a panel PNG per face (numbered as in the overview
image, every map captioned with its evidence and, with ``check``, its trust badge), the
overview image with numbered boxes when there are several faces, and the JSON of it all."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..data.detectors import NAMES
from ..errors import FervizError
from ..explain.photo import DEFAULT_METHODS, FaceResult, explain_photo, output_paths
from ..explain.registry import get_method

if TYPE_CHECKING:
    from ..models.fermodel import FERModel


@dataclass(frozen=True)
class SaliencyRun:
    """What :func:`run` wrote and found."""

    model: str
    note: str | None
    faces: list[FaceResult]
    panels: list[Path]
    overview: Path | None
    dropped: int
    check_data: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "note": self.note,
                "overview": str(self.overview) if self.overview else None,
                "dropped_boxes": self.dropped, "check_data": self.check_data,
                "faces": [f.to_dict(str(p)) for f, p in zip(self.faces, self.panels)]}

    def lines(self) -> list[str]:
        """The plain-text report: per face its top-3 emotions, its panel, the regions its
        evidence was read with, and per method the off-face share and any warning or
        badge."""
        out = []
        for f, path in zip(self.faces, self.panels):
            box = f" at {f.found.box}" if f.found is not None else ""
            top = ", ".join(f"{e} {p * 100:.1f}%" for e, p in f.top())
            out.append(f"{f.number}. {f.id}{box}: {top}  -> {path}")
            out.append(f"   regions: {f.regions} ({f.regions_why})")
            for m in f.maps:
                out.append(f"   {f.maps[m].titles()[0]}: " + "; ".join(f.caption(m, False)))
        detectors = sorted({f.found.detector for f in self.faces if f.found is not None})
        if detectors:
            out.append("faces found by " + " and ".join(NAMES[d] for d in detectors))
        if self.overview:
            out.append(f"faces numbered in {self.overview}")
        if self.dropped:
            out.append(f"{self.dropped} smaller or eyeless box(es) dropped as unlikely faces "
                       "(--all-faces keeps them)")
        return out


def run(image: str | os.PathLike, load: Callable[[], FERModel], note: str | None = None,
        methods: list[str] | None = None, target: str = "pred",
        out: str | os.PathLike | None = None, force: bool = False, detect: str = "auto",
        all_faces: bool = False, regions: str | os.PathLike | None = None,
        check: bool = False) -> SaliencyRun:
    """Explain the faces of one photo and write their panels (and the overview image);
    ``load`` gives the model once the photo has been read.

    Raises:
        FervizError: unreadable image, no face, bad model, methods, target or regions, or
            outputs that exist without ``force``.
    """
    from ..data.photos import overview, read_photo
    from ..explain.regions import load_regions
    from ..labels import check_target
    from ..viz.overlays import PanelMap, write_panel

    check_target(target, labels=False)  # a photo's faces have no labels
    names = [get_method(m).name for m in (methods or DEFAULT_METHODS)]
    region_spec = load_regions(regions) if regions is not None else None
    photo = read_photo(image, detect=detect, all_faces=all_faces)
    paths = output_paths(image, len(photo.records), out, force)
    m = load()
    from ..explain.trust import sample
    from ..explain.trust import verdicts as checked

    faces, check_data = sample()  # with check: run the missing checks; else cached ones only
    verdicts = checked(m, faces, names, compute=check)
    check_data = check_data if check or verdicts else None
    faces = explain_photo(photo, m, names, target, region_spec, verdicts)
    for f, path in zip(faces, paths):
        maps = [PanelMap(s.titles()[0], s.maps[0], f.caption(name), f.warning(name))
                for name, s in f.maps.items()]
        write_panel(path, f.face, f.probs, maps, f"face {f.number}: {f.id}  -  {m.card.name}",
                    force=force)
    view = None
    if len(faces) > 1:
        from ..cache import atomic_path

        view = paths[-1]
        if view.exists() and not force:
            raise FervizError(f"{view} exists; pass --force to overwrite it")
        with atomic_path(view) as tmp:
            overview(photo).save(tmp, format="PNG")
    return SaliencyRun(m.card.name, note, faces, paths[:len(faces)], view, photo.dropped,
                       check_data)
