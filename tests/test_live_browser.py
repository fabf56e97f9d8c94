"""The Live page in headless chromium with a fake camera playing a FER-Synth Y4M clip: frames
come back labelled through WebRTC (aiortc, no STUN/TURN server), and Freeze fills the page
with the frozen faces' saliency panels. Screenshots go to test-artifacts/."""

from __future__ import annotations

import time

import pytest
from conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, browser_test, stop
from test_app_browser import start_server

pytest.importorskip("streamlit_webrtc")
pytestmark = browser_test
WAIT_MS = 90_000


@pytest.fixture
def warm(synth_model):
    """FER-Synth and its predictions in the session's cache, which the server shares."""
    from ferviz.data import open_data
    from ferviz.predict import predict

    predict(synth_model, open_data("synth", split="test"))


def test_live_camera_labels_frames_and_freezes(tmp_path, warm):
    from playwright.sync_api import TimeoutError as Waited
    from playwright.sync_api import sync_playwright

    from ferviz.video.synthclip import Actor, write_y4m

    still = [Actor(3, ("happy", "surprise"), (0.27, 0.5), (0.27, 0.5), side=100),
             Actor(8, ("angry", "sad"), (0.73, 0.5), (0.73, 0.5), side=100)]
    camera = write_y4m(tmp_path / "camera.y4m", still, 60)  # Chromium loops it
    proc, url = start_server(tmp_path)
    fake = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}"]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                        args=[*CHROMIUM_ARGS, *fake])
            page = browser.new_page(viewport={"width": 1300, "height": 1100})
            page.goto(f"{url}/?page=live&model_choice=fer_synth_cnn&model=fer_synth_cnn",
                      timeout=WAIT_MS)
            page.frame_locator("iframe").get_by_role("button", name="START").click(
                timeout=WAIT_MS)
            status = page.locator(".fv-live")
            counts, deadline = [], time.time() + WAIT_MS / 1000
            while time.time() < deadline:  # frames analysed, faces on the latest frame
                if status.count():
                    counts.append(tuple(int(status.first.get_attribute(a) or 0)
                                        for a in ("data-frames", "data-faces")))
                    if counts[-1][0] >= 10 and counts[-1][1] and counts[0][0] < counts[-1][0]:
                        break
                time.sleep(0.5)
            assert counts and counts[-1][0] >= 10 and counts[-1][1], counts
            assert "#" in status.first.inner_text()  # e.g. "#3 happy 98%"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "live-playing.png"), full_page=True)
            freeze = page.get_by_role("button", name="Freeze: explain the faces of the "
                                      "current frame")
            for _ in range(3):  # a frame may be caught before its faces are confirmed
                freeze.click(timeout=WAIT_MS)
                try:
                    page.wait_for_selector(".fv-prediction", timeout=WAIT_MS // 3)
                    break
                except Waited:
                    continue
            assert page.locator(".fv-prediction").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "live-frozen.png"), full_page=True)
            browser.close()
    finally:
        stop(proc)
