"""The one owner of torch's thread count (:mod:`ferviz.models.threads`): a fixed count when
the user sets one, fewer threads beside a busy process, the count restored after the work,
and the same outputs to the bit whatever the count."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest


def _spin(stop) -> None:  # noqa: ANN001 (a multiprocessing Event)
    while not stop.is_set():
        sum(range(10_000))


def test_the_user_fixes_the_count_and_it_is_restored(monkeypatch):
    import torch

    from ferviz.models.threads import threads

    before = torch.get_num_threads()
    monkeypatch.setenv("FERVIZ_THREADS", "1")
    with threads() as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_a_busy_core_is_left_to_its_process(monkeypatch):
    """With another process spinning on a core, ferviz asks for at most the other cores."""
    from ferviz.models import threads as owner

    monkeypatch.delenv("FERVIZ_THREADS", raising=False)
    if owner.busy_elsewhere() is None:
        pytest.skip("this system does not say how busy its cores are")
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,), daemon=True)
    spinner.start()
    try:
        others = max(owner.busy_elsewhere(0.5) for _ in range(2))
        monkeypatch.setattr(owner, "_chosen", None)
        chosen = owner.choose(owner.cores())
    finally:
        stop.set()
        spinner.join()
    assert others >= 0.5
    assert chosen <= max(1, owner.cores() - 1)


def test_the_count_never_changes_what_is_computed(synth_model, monkeypatch):
    """Predictions and Grad-CAM maps on one thread and on two are equal to the bit."""
    import torch

    from ferviz.data import open_data
    from ferviz.explain import explain
    from ferviz.predict import predict_proba

    faces = open_data("synth:1100").images()
    got = []
    for n in ("1", "2"):
        monkeypatch.setenv("FERVIZ_THREADS", n)
        seen = []
        hook = synth_model.net.register_forward_hook(
            lambda *_: seen.append(torch.get_num_threads()))
        got.append((predict_proba(synth_model, faces, progress=False),
                    explain(synth_model, faces[:16], method="gradcam", cache=False).maps))
        hook.remove()
        assert set(seen) == {int(n)}
    assert np.array_equal(got[0][0], got[1][0])
    assert np.array_equal(got[0][1], got[1][1])
