"""The dashboard in a real headless chromium: ``streamlit run app.py`` on a free loopback
port; click a confusion-matrix cell and get its gallery, reopen the shared URL in a second
session, upload a face in Try it and get its prediction. Screenshots go to test-artifacts/."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTIFACTS, ROOT, browser_test, free_port, stop, wait_until_serving

WAIT_MS = 90_000

pytestmark = browser_test


def start_server(tmp: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` with its own ferviz and Streamlit caches; returns once the
    server says it accepts sessions (no polling) and its health check answers."""
    port = free_port()
    env = {**os.environ, "FERVIZ_CACHE": os.environ["FERVIZ_CACHE"], "HOME": str(tmp)}
    for var in ("FERVIZ_DATA", "FERVIZ_MODEL", "FERVIZ_SPLIT", "FERVIZ_SETTINGS"):
        env.pop(var, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    serving, lines = wait_until_serving(proc)
    if serving:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as r:
            if r.status == 200:
                return proc, url
    proc.kill()
    raise RuntimeError(f"streamlit did not start: {''.join(lines)[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    proc, url = start_server(tmp)
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def table(synth_model):
    from ferviz.data import open_data
    from ferviz.predict import predict

    records = open_data("synth", split="test")
    return predict(synth_model, records), records


def page_of(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def click_cell(page, true: str, pred: str) -> None:
    """Click the middle of a cell of the confusion matrix (rows true, columns predicted)."""
    from ferviz.labels import EMOTIONS

    area = page.locator("[data-testid=stPlotlyChart] .nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    i, j = EMOTIONS.index(true), EMOTIONS.index(pred)
    page.mouse.click(box["x"] + (j + 0.5) * box["width"] / 7,
                     box["y"] + (i + 0.5) * box["height"] / 7)


def test_click_a_cell_then_share_the_drill_down(server, browser, table):
    from ferviz.analysis.confusions import cell, top_confusions

    df, _ = table
    true, pred = top_confusions(df, 1)[["true", "pred"]].iloc[0]
    n = min(24, len(cell(df, true, pred)))
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = page_of(browser, f"{server}/?page=confusion")
    page.wait_for_selector("[data-testid=stPlotlyChart] .nsewdrag", timeout=WAIT_MS)
    page.wait_for_selector(".fv-gallery", timeout=WAIT_MS)  # the default cell
    click_cell(page, true, pred)
    selector = f'.fv-gallery[data-gallery="{true}:{pred}"]'
    page.wait_for_selector(selector, timeout=WAIT_MS)
    assert page.locator(f"{selector} .fv-face").count() == n
    assert page.locator(f"{selector} img.fv-thumb").count() == n
    page.wait_for_function(f"location.search.includes('true={true}') && "
                           f"location.search.includes('pred={pred}')", timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "dashboard-drilldown.png")

    # A second session opens the shared URL on the same drill-down, and choosing another
    # cell there leaves the first session alone.
    other, other_errors = page_of(browser, page.url)
    other.wait_for_selector(selector, timeout=WAIT_MS)
    assert other.locator(f"{selector} .fv-face").count() == n
    click_cell(other, "happy", "happy")
    other.wait_for_selector('.fv-gallery[data-gallery="happy:happy"]', timeout=WAIT_MS)
    page.wait_for_timeout(500)
    assert page.locator(selector).count() == 1
    assert page.locator('.fv-gallery[data-gallery="happy:happy"]').count() == 0
    assert not errors and not other_errors


def png(face: np.ndarray, side: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(face).resize((side, side), Image.NEAREST).save(buf, "PNG")
    return buf.getvalue()


def test_try_it_upload_predicts_the_face(server, browser, table, synth_model, tmp_path):
    import torch

    from ferviz.labels import EMOTIONS

    _, records = table
    face = records.images()[11]
    with torch.inference_mode():
        want = EMOTIONS[int(synth_model(torch.from_numpy(face[None, None]).float() / 255)
                            .argmax())]
    page, errors = page_of(browser, f"{server}/?page=try")
    upload = page.locator("[data-testid=stFileUploader] input[type=file]")
    upload.wait_for(state="attached", timeout=WAIT_MS)
    (tmp_path / "notes.png").write_bytes(b"not an image at all")
    upload.set_input_files(str(tmp_path / "notes.png"))
    page.get_by_text("Cannot use this image").wait_for(timeout=WAIT_MS)
    (tmp_path / "face.png").write_bytes(png(face, 96))
    upload.set_input_files(str(tmp_path / "face.png"))
    page.wait_for_selector(f'.fv-prediction[data-pred="{want}"]', timeout=WAIT_MS)
    page.get_by_text(f"Face 1: predicted {want}").wait_for(timeout=WAIT_MS)
    page.wait_for_selector('.fv-panel figure[data-method^="gradcam"] img', timeout=WAIT_MS)
    assert page.get_by_text("Cannot use this image").count() == 0
    page.screenshot(path=ARTIFACTS / "dashboard-try-it.png")
    assert not errors
