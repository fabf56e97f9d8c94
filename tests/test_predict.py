"""The predictions table: columns, agreement with a plain forward pass, TTA, the cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FER2013, needs_fer2013

from ferviz.cache import atomic_path, cache_dir
from ferviz.labels import EMOTIONS
from ferviz.predict import predict, predict_proba, to_tensor
from ferviz.table import PROBS


def test_table_columns_and_values(synth_model, synth_test):
    df = predict(synth_model, synth_test, cache=False)
    for col in ["id", "split", "source", "label", *PROBS, "pred", "confidence", "margin",
                "entropy", "correct", *[f"soft_{e}" for e in EMOTIONS]]:
        assert col in df.columns
    p = df[PROBS].to_numpy()
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-5)
    top2 = np.sort(p, 1)[:, -2:]
    np.testing.assert_allclose(df["confidence"], top2[:, 1], atol=1e-6)
    np.testing.assert_allclose(df["margin"], top2[:, 1] - top2[:, 0], atol=1e-6)
    np.testing.assert_allclose(df["entropy"], -(p * np.log(p + 1e-12)).sum(1), atol=1e-4)
    assert (df["pred"] == [EMOTIONS[i] for i in p.argmax(1)]).all()
    assert df["correct"].mean() > 0.9  # the FER-Synth model is good on its own data


def test_matches_a_plain_forward_pass(synth_model, synth_test):
    df = predict(synth_model, synth_test, cache=False, batch_size=37)
    with torch.no_grad():
        plain = torch.softmax(synth_model.net(to_tensor(synth_test.images())), 1).numpy()
    np.testing.assert_allclose(df[PROBS].to_numpy(), plain, atol=1e-5)


def test_tta_averages_views(synth_model, synth_test):
    plain = predict_proba(synth_model, synth_test.images()[:20])
    tta = predict_proba(synth_model, synth_test.images()[:20], tta=True)
    np.testing.assert_allclose(tta.sum(1), 1, atol=1e-5)
    assert np.abs(tta - plain).max() > 1e-3
    assert (tta.argmax(1) == plain.argmax(1)).mean() > 0.8


def test_cache_hit_skips_the_model(synth_model, synth_test, tmp_path, monkeypatch):
    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path))  # an empty cache
    calls = []
    hook = synth_model.register_forward_hook(lambda *a: calls.append(1))
    try:
        first = predict(synth_model, synth_test, tta=False)
        n = len(calls)
        second = predict(synth_model, synth_test, tta=False)
        assert n > 0 and len(calls) == n  # served from the parquet cache
        pd.testing.assert_frame_equal(first, second)
        predict(synth_model, synth_test, tta=True)  # other options: not the same entry
        assert len(calls) > n
    finally:
        hook.remove()
    assert len(list(cache_dir("predictions").glob("*.parquet"))) >= 2


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a file")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_gives_the_usual_file_mode_even_when_the_writer_recreates_it(tmp_path):
    import os

    target = tmp_path / "out.bin"
    with atomic_path(target) as tmp:
        tmp.unlink()  # as some writers (safetensors) do
        tmp.write_bytes(b"data")
        os.chmod(tmp, 0o600)
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@needs_fer2013
def test_privatetest_table_matches_plain_forward(synth_model):
    from ferviz.data import open_data

    records = open_data(FER2013, split="PrivateTest")
    df = predict(synth_model, records, cache=False)
    assert len(df) == 3589 and set(df["split"]) == {"PrivateTest"}
    idx = np.arange(0, 3589, 97)
    with torch.no_grad():
        plain = torch.softmax(synth_model.net(to_tensor(records.images()[idx])), 1).numpy()
    np.testing.assert_allclose(df[PROBS].to_numpy()[idx], plain, atol=1e-5)
