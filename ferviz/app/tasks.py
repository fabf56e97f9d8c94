"""The use cases every view shares: each takes specs and plain values, does the work, and
returns what a view shows. Views only parse their input, call one task and render its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FervizError
from ..outputs import check_output
from ..specs import DataSpec, ModelSpec
from .predicting import opened, predictions, read_table

if TYPE_CHECKING:
    import pandas as pd

    from ..data.records import Records
    from ..explain.face_masks import RegionsUsed
    from ..models.fermodel import FERModel

HALF_TOLERANCE = 0.001  # float16 weights are kept only if accuracy moves by at most 0.1 point


@dataclass
class Evaluation:
    """What ``ferviz evaluate`` shows. Shows itself as HTML in a notebook.

    Attributes:
        model: the model's display name.
        data: the data set's display name (with the split).
        n: the number of faces scored.
        scores: ``accuracy``, ``macro_f1`` (over the classes present in the truth),
            ``macro_f1_seen`` (scikit-learn's average: the classes in the truth or the
            predictions), ``weighted_f1`` and ``n``.
        per_class: precision, recall, F1 and support per emotion.
        confusion: the confusion matrix (rows: true emotion, columns: predicted).
        notes: what was assumed or noticed (no split given, a file's preprocessing, ...).
        warnings: domain and leak warnings.
        lines: the text printed under the scores (the 95% intervals among them).
        extra: JSON-ready details: ``intervals``, ``contempt``, ``by`` (the per-group table)
            and ``leak``.
    """

    model: str
    data: str
    n: int
    scores: dict[str, float]
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def _repr_html_(self) -> str:
        from .display import evaluation_html

        return evaluation_html(self)


def evaluate(ms: ModelSpec, ds: DataSpec, tta: bool = False, update_card: bool = False,
             half: bool = False, by: str | None = None) -> Evaluation:
    """Accuracy, macro-F1, per-class table and confusion matrix, with intervals (clustered by
    subject when known), the contempt policy, metrics per ``by`` group and domain and leak
    warnings; optionally written into the zoo entry's card (with and without TTA), with
    float16 weights when ``half`` keeps the accuracy within :data:`HALF_TOLERANCE`."""
    from ..analysis.metrics import summary
    from ..models.digests import remember
    from ..prediction_cache import cached

    if half and not update_card:
        raise FervizError("--half rewrites a zoo entry's weights: use it with --update-card")
    if update_card:
        from ..models.card_metrics import entry_folder

        entry_folder(ms.model)  # fail before any work
    records = opened(ds)
    notes = []
    if ds.split is None and len(set(map(str, records.splits))) > 1:
        notes.append(f"no --split given: scored all splits together "
                     f"({', '.join(dict.fromkeys(map(str, records.splits)))})")
    hit = None if update_card else cached(ms, records, tta)
    if hit:  # model and predictions known as the files are now: no model loaded, no torch
        known, df = hit
        name, info = known.name, known.info
        notes += [info["assumed"]] if info.get("assumed") else []
    else:
        m = ms.load()
        remember(ms, m)
        fp32 = None
        if half:
            from ..models.card_metrics import rounded_to_half

            fp32 = summary(predictions(m, records))["accuracy"]
            m = rounded_to_half(m)
        df = predictions(m, records, tta)
        if update_card:
            measured = {"data": f"{records.name} [{ds.split or 'all'}]",
                        "dataset": ds.dataset(), "labels": ds.labels, "split": ds.split or "all"}
            notes += _update_card(ms.model, m, records, df, tta, fp32, measured)
        return scored(df, records, m, ds, by, notes, check_preprocessing=not ms.is_zoo())
    return scored(df, records, None, ds, by, notes, name, info)


def scored(df: pd.DataFrame, records: Records, model: FERModel | None, ds: DataSpec,
           by: str | None = None, notes: list[str] | None = None, name: str = "",
           info: dict[str, Any] | None = None, check_preprocessing: bool = True) -> Evaluation:
    """The evaluation of a predictions table (every door's one owner of it): scores,
    per-class table, confusion matrix, intervals, notes and warnings; with the loaded
    ``model`` (and ``check_preprocessing``), a note when another normalisation scores
    clearly better."""
    from ..analysis.metrics import confusion, per_class, summary
    from .evaluation import evaluation_notes

    notes = list(notes or [])
    if model is not None:
        name, info = model.card.name, model.card.info
        if check_preprocessing:
            from .preprocessing import normalisation_note

            better = normalisation_note(model, records.images(), records.labels)
            notes += [better] if better else []
    extra = evaluation_notes(df, records, info or {}, name, ds.data, ds.split, by)
    return Evaluation(name, ds.name(), len(df), summary(df), per_class(df),
                      confusion(df), notes, extra.pop("warnings"), extra.pop("lines"), extra)


def _update_card(name: str, m: FERModel, records: Records, df: pd.DataFrame, tta: bool,
                 fp32: float | None, measured: dict[str, str]) -> list[str]:
    from ..analysis.metrics import card_metrics, summary
    from ..models.card_metrics import update_info, write_half_weights

    other = predictions(m, records, not tta)
    plain, with_tta = (other, df) if tta else (df, other)
    notes = []
    info: dict[str, Any] = {"metrics": {**measured, **card_metrics(plain, with_tta)}}
    if fp32 is not None:
        fp16 = summary(plain)["accuracy"]
        if abs(fp16 - fp32) > HALF_TOLERANCE:
            raise FervizError(f"float16 weights move the accuracy from {fp32:.2%} to "
                              f"{fp16:.2%} (more than 0.1 point); kept float32")
        notes.append(f"float16 weights: accuracy {fp32:.2%} -> {fp16:.2%}; wrote "
                     f"{write_half_weights(name, m)}")
        info["weights"] = {"dtype": "float16", "accuracy_float32": round(fp32, 6)}
    notes.append(f"updated {update_info(name, info)}")
    return notes


def report(ms: ModelSpec, ds: DataSpec, out: Path | None, force: bool = False,
           compare: ModelSpec | None = None, compare_preds: Path | None = None,
           tta: bool = False, **options: Any) -> Path:
    """Build and write the self-contained HTML report; returns its path."""
    from ..analysis.groups import describe
    from ..data.source_landmarks import fit_records
    from ..report import default_path, write_report
    from .reporting import Options, build_html, check_methods

    if compare and compare_preds:
        raise FervizError("use --compare or --compare-preds, not both")
    opts = Options(**options)
    check_methods(opts.saliency)
    out = out or default_path(ms.name(), Path(ds.data).name.split(".")[0], ds.split or "")
    check_output(out, force)
    other, other_name = None, ""
    if compare_preds:
        other, other_name = read_table(compare_preds), compare_preds.name
    records = opened(ds)
    m = ms.load(explaining=True)
    df = predictions(m, records, tta)
    if compare:
        m2 = compare.load()
        other, other_name = predictions(m2, records, tta), m2.card.name or compare.model
    ev = scored(df, records, m, ds, check_preprocessing=not ms.is_zoo())
    info = {"data": records.name or ds.data, "split": ds.split or "all",
            "predictions": "with TTA" if tta else "without TTA",
            "intervals": describe(ev.extra["intervals"])}
    if records.contempt is not None:
        info["contempt"] = records.contempt.text()
    title = f"{m.card.name or ms.model} on {records.name or ds.data}" + \
        (f" [{ds.split}]" if ds.split else "")
    html = build_html(df, records.images(), model=m, model_card=m.card.to_dict(),
                      data_info=info, compare=other, compare_name=other_name, options=opts,
                      title=title, fit=lambda rows: fit_records(records.select(rows)),
                      notes=[*ev.warnings, *(f"note: {n}" for n in ev.notes)])
    return write_report(html, out, force=force)


def regions(ms: ModelSpec, ds: DataSpec, method: str, target: str, by: str,
            limit: int | None, regions_file: Path | None
            ) -> tuple[pd.DataFrame, str, float, RegionsUsed]:
    """Mean share of attribution per face region and class; returns the table, the target
    used, the seconds spent explaining and which regions were used
    (:class:`~ferviz.explain.face_masks.RegionsUsed`): per face its own landmark regions
    where they were fitted reliably on a large enough source image, else the fixed boxes."""
    import numpy as np

    from ..data.source_landmarks import fit_records
    from ..explain import explain
    from ..explain.face_masks import choose
    from ..explain.regions import class_table, load_regions
    from ..labels import EMOTIONS

    if by not in ("true", "pred"):
        raise FervizError(f"--by must be true or pred, not {by!r}")
    if limit is not None and limit < 1:
        raise FervizError(f"--limit must be at least 1, not {limit}")
    spec = load_regions(regions_file) if regions_file else None
    records = opened(ds)
    m = ms.load(explaining=True)
    if limit is not None:
        records = records.select(slice(0, limit))
    known = records.labels >= 0
    if target == "true" and not known.all():
        if known.any():
            raise FervizError("some faces have no label; use --target pred")
        target = "pred"
    faces, used = choose(None if spec else fit_records(records), len(records), spec)
    maps = explain(m, records, target=target, method=method, progress=len(records) > 256)
    if by == "true" and known.all():
        classes = records.labels
    else:
        classes = predictions(m, records)["pred"].map(
            {e: i for i, e in enumerate(EMOTIONS)}).to_numpy(np.int64)
    return class_table(maps.maps, classes, spec, faces), target, maps.seconds, used


def saliency(image: Path, ms: ModelSpec | None, methods: list[str] | None, target: str,
             out: Path | None, force: bool, detect: bool, regions_file: Path | None,
             all_faces: bool = False, check: bool = False):
    """Find, predict and explain the faces of one photo; write a panel per face (and an
    overview with numbered boxes when there are several); returns the run's result."""
    from ..explain.photo import default_model
    from .panels import run

    note = None
    if ms is None:
        name, note = default_model()
        ms = ModelSpec(name)
    return run(image, lambda: ms.load(explaining=True), note, methods, target, out, force,
               "auto" if detect else "never", all_faces, regions_file, check)


def checks(ms: ModelSpec, ds: DataSpec, n: int = 256, methods: list[str] | None = None):
    """Trust verdicts of explanation methods on a model (see :func:`ferviz.explain.trust.
    trust_table`); returns (table, heading)."""
    from ..explain.trust import THRESHOLD, trust_table

    if n < 1:
        raise FervizError(f"--n must be at least 1, not {n}")
    records = ds.open()
    m = ms.load(explaining=True)
    table = trust_table(m, records, methods, n=n)
    heading = (f"{m.card.name} on {ds.name()}: {table['n'].iloc[0]} faces (randomisation on "
               f"{table['n_random'].iloc[0]}), predicted class; sanity PASS when rho < "
               f"{THRESHOLD}; faithfulness = (insertion - deletion AUC) minus the same for a "
               "random pixel order")
    return table, heading


def is_video(path: Path) -> bool:
    """Whether a file given to ``saliency`` is a video (by its first bytes)."""
    from ..video import is_video as sniffed

    return sniffed(path)


def convert(model: str, out: Path, force: bool = False, **options: Any) -> tuple[Any, float]:
    """Copy a Keras model's weights into the registered network it matches layer for layer
    (:func:`ferviz.models.convert.convert`): the new card and the largest output difference."""
    from ..models.convert import convert as run

    return run(model, out, force=force, **options)


def saliency_video(video: Path, ms: ModelSpec | None, methods: list[str] | None,
                   regions_file: Path | None, target: str, out: Path | None, force: bool,
                   detect: bool, overlay: str | None, every: int, max_frames: int | None):
    """Follow, predict and explain the faces of a video; write the annotated video, the
    per-frame table and the timeline (see :func:`ferviz.video.run.explain_video`)."""
    from ..explain.photo import default_model
    from ..video.run import explain_video

    if methods or regions_file:
        raise FervizError("--method and --regions are for photos; for a video, draw a "
                          "method's map with --overlay (and --every N)")
    note = None
    if ms is None:
        name, note = default_model()
        ms = ModelSpec(name)
    result = explain_video(video, ms.load(explaining=True), out, force, detect, overlay, every,
                           target, max_frames)
    if note:
        result.summary["notes"].insert(0, note)
    return result
