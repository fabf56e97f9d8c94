"""Trust verdicts per (model, method), the badge shown beside every map.

* Sanity (Adebayo et al., NeurIPS 2018): cascading model randomisation; PASS when the maps of
  the fully randomised model keep a mean Spearman rank correlation below ``THRESHOLD`` with the
  original maps (a map that survives randomisation shows the input, not the model).
* Faithfulness (Petsiuk et al. 2018): deletion and insertion AUCs of the map's pixel order,
  against a random order; ``faithfulness = (insertion - deletion) - (same for random)``,
  above 0 when the map ranks pixels by what the model uses better than chance.

All methods share the work: the faces' targets come from one prediction pass, each
randomisation stage builds one model copy for every method, the deletion and insertion curves
of every method and of the random order go through the model together. Maps (occlusion's
aside: it has its own incremental engine) are computed on a copy of the network with batch
norms folded in and channels-last weights (:func:`~ferviz.explain.checks.fused_copy`).
Verdicts are cached per method under ``$FERVIZ_CACHE/trust``, keyed by the model digest, the
faces and the settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..predict import to_tensor
from .checks import deletion_insertion_all, fused_copy, randomised_stages, rank_correlation
from .core import as_faces, explain, prepared
from .registry import METHODS, get_method

THRESHOLD = 0.5  # largest mean rank correlation a passing method may keep
NOT_CHECKED = ("trust not checked (ferviz checks -m MODEL -d DATA, ferviz saliency --check, or "
               "Run in the dashboard, runs the checks)")
# forward passes of one face per map, roughly (the rest: about 3), for time estimates
PASSES = {"occlusion": 40, "scorecam": 64, "integrated_gradients": 96}
_VERSION = 2


@dataclass(frozen=True)
class Verdict:
    """The checks of one method on one model.

    Attributes:
        spearman: mean rank correlation with the original maps after each randomisation
            stage (cumulative, output side first); the last is the fully randomised model.
        deletion, insertion, deletion_random, insertion_random: mean AUCs of the
            target-class probability (see :func:`~ferviz.explain.checks.deletion_insertion`).
        n, n_random: faces in the faithfulness and in the randomisation checks.
    """

    method: str
    class_agnostic: bool
    stages: list[str]
    spearman: list[float]
    deletion: float
    insertion: float
    deletion_random: float
    insertion_random: float
    n: int
    n_random: int
    threshold: float = THRESHOLD

    @property
    def sanity(self) -> str:
        return "PASS" if self.spearman[-1] < self.threshold else "FAIL"

    @property
    def faithfulness(self) -> float:
        return (self.insertion - self.deletion) - (self.insertion_random - self.deletion_random)

    @property
    def trusted(self) -> bool:
        return self.sanity == "PASS" and self.faithfulness > 0

    def badge(self) -> str:
        """One line, e.g. ``sanity PASS (rho 0.08) | faithful +0.21``."""
        faith = f"faithful {self.faithfulness:+.2f}" if self.faithfulness > 0 else \
            f"NOT faithful ({self.faithfulness:+.2f}: no better than random pixels)"
        sanity = f"sanity {self.sanity} (rho {self.spearman[-1]:.2f})"
        if self.sanity == "FAIL":
            sanity += ": unchanged by a random model, shows the input not the model"
        return f"{sanity} | {faith}"

    def label(self) -> str:
        """The short badge: ``trust PASS``, or what failed."""
        if self.trusted:
            return "trust PASS"
        return "trust FAIL: " + " and ".join(
            ["sanity"] * (self.sanity == "FAIL") + ["faithfulness"] * (self.faithfulness <= 0))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "sanity": self.sanity,
                "faithfulness": round(self.faithfulness, 4), "trusted": self.trusted,
                "badge": self.badge()}


def badge(verdict: Verdict | None) -> dict[str, Any]:
    """What a view shows beside a map of a method: ``state`` (``pass``, ``fail`` or
    ``unchecked``), ``label`` (short), ``text`` (the full line) and ``warning`` (the method
    failed a check: its maps must not be read as facial evidence)."""
    if verdict is None:
        return {"state": "unchecked", "label": "trust not checked", "text": NOT_CHECKED,
                "warning": False}
    ok = verdict.trusted
    text = verdict.badge() + ("" if ok else ": do not read these maps as facial evidence")
    return {"state": "pass" if ok else "fail", "label": verdict.label(), "text": text,
            "warning": not ok}


def passes(methods: Sequence[str], n: int = 256, n_random: int = 64, stages: int = 3,
           steps: int = 8) -> int:
    """Forward passes of one face the checks of ``methods`` take, roughly (times the
    measured seconds of one pass: an estimate of their time)."""
    maps = sum(PASSES.get(get_method(m).name, 3) for m in methods)
    return maps * (n + stages * n_random) + 2 * (steps - 1) * (len(methods) + 1) * n


def verdicts(model: nn.Module, images: Any, methods: Sequence[str] | None = None,
             n: int = 256, n_random: int = 64, stages: int = 3, steps: int = 8,
             seed: int = 0, cache: bool = True, compute: bool = True,
             on_step: Callable[[int, int], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> dict[str, Verdict]:
    """Checks of every method (default: all registered) on up to ``n`` faces of ``images``
    (a seeded sample), explaining the predicted class.

    Args:
        n_random: faces (the first of the sample) in the randomisation check.
        stages: cumulative randomisation stages; the verdict reads the last.
        steps: points of the deletion and insertion curves.
        compute: false: only the verdicts cached already (the others are left out).
        on_step: called with (steps done, steps in all) as the checks go (a step: one
            method's maps on the faces or on one randomised stage, or the curves).
        cancelled: checked before each step; when true the checks stop with
            :class:`ferviz.errors.Cancelled`, caching nothing.

    Raises:
        FervizError: unknown methods, bad faces, a model without parameters.
        Cancelled: ``cancelled()`` became true.
    """
    names = [get_method(m).name for m in (methods or METHODS)]
    faces, _ = as_faces(images)
    if len(faces) > n:
        faces = faces[np.sort(np.random.default_rng(seed).choice(len(faces), n, replace=False))]
    settings = [_VERSION, len(faces), min(n_random, len(faces)), stages, steps, seed, THRESHOLD]
    digest = model.digest() if cache and hasattr(model, "digest") else None
    keys = {m: _key(digest, faces, m, settings) for m in names}
    out = {m: v for m in names if (v := _read(keys[m])) is not None}
    todo = [m for m in names if m not in out]
    if todo and compute:
        out.update(_compute(model, faces, todo, min(n_random, len(faces)), stages, steps,
                            seed, Steps(len(todo) * (stages + 1) + 1, on_step, cancelled)))
        for m in todo:
            if keys[m] is not None:
                _write(keys[m], out[m])
    return {m: out[m] for m in names if m in out}


def trust_table(model: nn.Module, images: Any, methods: Sequence[str] | None = None,
                **kwargs: Any):
    """:func:`verdicts` as a DataFrame, one row per method: ``sanity``, ``rho`` (fully
    randomised), ``faithfulness``, the four AUCs, ``class_agnostic``, ``trusted``."""
    import pandas as pd

    rows = []
    for m, v in verdicts(model, images, methods, **kwargs).items():
        rows.append({"method": m, "sanity": v.sanity, "rho": v.spearman[-1],
                     "faithfulness": v.faithfulness, "deletion": v.deletion,
                     "insertion": v.insertion, "deletion_random": v.deletion_random,
                     "insertion_random": v.insertion_random,
                     "class_agnostic": v.class_agnostic, "trusted": v.trusted, "n": v.n,
                     "n_random": v.n_random})
    return pd.DataFrame(rows).set_index("method")


def sample(n: int = 256, seed: int = 0) -> tuple[np.ndarray, str]:
    """Faces to check methods on when no data set is given: ``$FERVIZ_DATA`` (its PrivateTest
    or test split when it has one), else FER-Synth; and a description of them."""
    import os

    from ..data import open_data

    spec = os.environ.get("FERVIZ_DATA")
    if spec:
        records = open_data(spec)
        split = next((s for s in ("PrivateTest", "test") if s in set(records.splits)), None)
        records = records.split(split) if split else records
        return records.images(), f"{records.name or spec}{f' [{split}]' if split else ''}"
    from ..data.synth import load_synth

    return load_synth(n, seed=seed).images(), f"FER-Synth ({n} generated faces)"


class Steps:
    """The checks' progress: each step reported to ``on_step``, cancellation checked before
    each."""

    def __init__(self, total: int, on_step: Callable[[int, int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> None:
        self.total, self.done = total, 0
        self.on_step, self.cancelled = on_step, cancelled

    def __call__(self, work: Callable[[], Any]) -> Any:
        from ..errors import Cancelled

        if self.cancelled is not None and self.cancelled():
            raise Cancelled("trust checks cancelled")
        out = work()
        self.done += 1
        if self.on_step is not None:
            self.on_step(self.done, self.total)
        return out


def _compute(model: nn.Module, faces: np.ndarray, methods: list[str], n_random: int,
             stages: int, steps: int, seed: int, step: Steps) -> dict[str, Verdict]:
    with prepared(model, torch.device("cpu")), torch.inference_mode():
        targets = np.concatenate([model(b).argmax(1).numpy() for b in to_tensor(faces).split(512)])
    fast = fused_copy(model)
    maps = {m: step(lambda m=m: _maps(model, fast, faces, targets, m)) for m in methods}
    rho: dict[str, list[float]] = {m: [] for m in methods}
    stage_names = []
    for name, shuffled in randomised_stages(model, stages, seed):
        stage_names.append(name)
        fast_shuffled = fused_copy(shuffled)
        for m in methods:
            again = step(lambda m=m: _maps(shuffled, fast_shuffled, faces[:n_random],
                                           targets[:n_random], m))
            rho[m].append(float(rank_correlation(maps[m][:n_random].reshape(n_random, -1),
                                                 again.reshape(n_random, -1)).mean()))
    auc = step(lambda: deletion_insertion_all(fast, faces, maps, targets, steps=steps,
                                              seed=seed))
    chance = auc["random"]
    return {m: Verdict(m, get_method(m).class_agnostic, stage_names, rho[m],
                       auc[m]["deletion"], auc[m]["insertion"], chance["deletion"],
                       chance["insertion"], len(faces), n_random) for m in methods}


def _maps(model: nn.Module, fast: nn.Module, faces: np.ndarray, targets: np.ndarray,
          method: str) -> np.ndarray:
    """One method's maps, computed on the fused copy ``fast`` of ``model`` (the same maps up
    to float rounding, faster), except for perturbation methods, which have their own fast
    engine on the original network."""
    use = model if get_method(method).family == "perturbation" else fast
    return explain(use, faces, targets, method, cache=False, progress=False).maps


def _key(digest: str | None, faces: np.ndarray, method: str, settings: list) -> str | None:
    if digest is None:
        return None
    spec = get_method(method)
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps([digest, method, sorted(spec.defaults.items()), *settings]).encode())
    h.update(np.ascontiguousarray(faces).tobytes())
    return h.hexdigest()


def _read(key: str | None) -> Verdict | None:
    if key is None:
        return None
    from ..cache import cache_dir

    path = cache_dir("trust") / f"{key}.json"
    if not path.is_file():
        return None
    d = json.loads(path.read_text())
    return Verdict(**{k: d[k] for k in Verdict.__dataclass_fields__})


def _write(key: str, verdict: Verdict) -> None:
    from ..cache import atomic_path, cache_dir

    with atomic_path(cache_dir("trust") / f"{key}.json") as tmp:
        tmp.write_text(json.dumps(verdict.to_dict()))
