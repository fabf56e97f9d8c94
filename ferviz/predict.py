"""Model + records -> the predictions table, cached on disk as parquet."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from .data.records import Records
from .errors import Cancelled, FervizError, user_code_errors
from .labels import EMOTIONS, label_name
from .models.fermodel import FERModel
from .models.layout import fastest, placed
from .models.threads import threads
from .prediction_cache import read_table, save_table, table_path
from .progress import progress as bar
from .table import PROBS, entropy

# Test-time augmentation as in the CS230 project: flip plus small rotations, shifts, zooms.
# Each entry: (flip, degrees, shift_x, shift_y as a fraction of the side, zoom).
TTA = ((False, 0, 0, 0, 1.0), (True, 0, 0, 0, 1.0), (False, 8, 0, 0, 1.0),
       (False, -8, 0, 0, 1.0), (True, 8, 0, 0, 1.0), (True, -8, 0, 0, 1.0),
       (False, 0, 0.06, 0, 1.0), (False, 0, -0.06, 0, 1.0), (False, 0, 0, 0.06, 1.0),
       (False, 0, 0, 0, 1.1))
LAYOUT_MIN = 1024  # smaller sets are not worth probing and timing both memory layouts


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_tensor(faces: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """N x 48 x 48 uint8 -> N x 1 x 48 x 48 float in [0, 1]."""
    a = np.ascontiguousarray(faces)
    if not a.flags.writeable:  # a read-only memory map (a FER2013 shard): torch wants to own
        a = a.copy()
    return torch.from_numpy(a).to(device).unsqueeze(1).float().div_(255)


def augment(x: torch.Tensor, flip: bool, degrees: float, tx: float, ty: float,
            zoom: float) -> torch.Tensor:
    """One deterministic affine view of a batch (border pixels replicated)."""
    if flip:
        x = x.flip(-1)
    if degrees == 0 and tx == 0 and ty == 0 and zoom == 1:
        return x
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a) / zoom, -math.sin(a) / zoom, -2 * tx],
                          [math.sin(a) / zoom, math.cos(a) / zoom, -2 * ty]],
                         dtype=x.dtype, device=x.device).expand(len(x), 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def predict_proba(model: FERModel, faces: np.ndarray, tta: bool = False,
                  batch_size: int = 512, progress: bool | None = None,
                  layout: torch.memory_format | None = None,
                  on_batch: Callable[[int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """N x 7 emotion probabilities, batched under ``torch.inference_mode``, on CUDA when
    available and in the faster memory layout (:func:`ferviz.models.layout.fastest`, for sets
    of :data:`LAYOUT_MIN` faces or more, unless ``layout`` is given: sharded jobs fix it so
    every shard computes alike). The one prediction path of every view: ``on_batch(done)``
    follows its progress and ``cancelled()`` (checked between batches) stops it.

    Raises:
        FervizError: the model's forward fails or gives no finite probabilities (both name the
            model and the faces concerned).
        Cancelled: ``cancelled()`` became true.
    """
    device = default_device()
    views = TTA if tta else TTA[:1]
    out = np.empty((len(faces), len(EMOTIONS)), np.float32)
    name = model.card.name or model.card.arch
    was_training = model.training
    model.eval()
    bad = 0
    try:
        with torch.inference_mode(), threads():
            if layout is None:
                layout = fastest(model, device) if len(faces) >= LAYOUT_MIN \
                    else torch.contiguous_format
            with placed(model, device, layout):
                for start in bar(range(0, len(faces), batch_size), desc="predicting",
                                 unit="batch", quiet=True if progress is False else None):
                    if cancelled is not None and cancelled():
                        raise Cancelled("predictions cancelled")
                    x = to_tensor(faces[start:start + batch_size], device)
                    x = x.contiguous(memory_format=layout)
                    p = _forward(model, x, views, name, start, len(faces))
                    bad += int((~torch.isfinite(p).all(dim=1)).sum())
                    out[start:start + len(x)] = p.float().cpu().numpy()
                    if on_batch is not None:
                        on_batch(start + len(x))
    finally:
        model.train(was_training)
    if bad:
        raise FervizError(f"{name}: the model gives NaN or infinite scores for {bad:,} of "
                          f"{len(faces):,} faces; its weights may be damaged")
    return out

def _forward(model: FERModel, x: torch.Tensor, views: tuple, name: str, start: int,
             total: int) -> torch.Tensor:
    """Mean softmax over the TTA views; a failing user network becomes a FervizError."""
    try:
        p = F.softmax(model(x), dim=1)
        for view in views[1:]:
            p += F.softmax(model(augment(x, *view)), dim=1)
    except FervizError:
        raise
    except user_code_errors() as e:  # the network is user code: report what it raised
        raise FervizError(f"{name}: the model's forward pass failed on faces {start + 1}-"
                          f"{start + len(x)} of {total:,} ({type(e).__name__}: {e})") from e
    return p / len(views)


def table(records: Records, probs: np.ndarray) -> pd.DataFrame:
    """The predictions table from records and their N x 7 probabilities."""
    df = records.frame()
    for j, col in enumerate(PROBS):
        df[col] = probs[:, j]
    order = np.argsort(-probs, axis=1)
    top = np.take_along_axis(probs, order[:, :2], axis=1)
    df["pred"] = [label_name(int(i)) for i in order[:, 0]]
    df["confidence"] = top[:, 0]
    df["margin"] = top[:, 0] - top[:, 1]
    df["entropy"] = entropy(probs).astype(np.float32)
    df["correct"] = df["pred"] == df["label"]
    return df


def predict(model: FERModel, records: Records, tta: bool = False, batch_size: int = 512,
            cache: bool = True, progress: bool | None = None,
            on_batch: Callable[[int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> pd.DataFrame:
    """The predictions table of ``model`` on ``records``.

    Columns: id, split, source, label (true emotion or 'unknown'), FER+ ``votes_*`` and
    ``soft_*`` when known, ``p_<emotion>`` for the 7 emotions, pred, confidence, margin
    (top-1 minus top-2), entropy (nats), correct.

    Cached under ``$FERVIZ_CACHE/predictions`` by weights hash + data hash + options, written
    atomically, and only once every face is predicted (``on_batch`` and ``cancelled`` as
    :func:`predict_proba`'s).
    """
    if len(records) == 0:
        raise FervizError("no faces to predict")
    path = cache_path(model, records, tta)
    if cache and (df := read_table(path, len(records))) is not None:
        return df
    df = table(records, predict_proba(model, records.images(), tta, batch_size, progress,
                                      on_batch=on_batch, cancelled=cancelled))
    if cache:
        save_table(df, path)
    return df


def cache_path(model: FERModel, records: Records, tta: bool = False) -> Path:
    """Where :func:`predict` caches this table (it exists once predicted)."""
    return table_path(model.digest(), records.digest(), tta)
