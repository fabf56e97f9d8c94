"""The report in a real headless chromium: offline, no console errors, plots drawn, the
drill-down works, and injected markup stays inert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import ARTIFACTS, browser_test
from test_report import EVIL, evil_report, synth_report

pytestmark = browser_test


def open_page(browser, path: Path):
    """Open a file; record console errors, page errors, dialogs and every request."""
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    log = {"errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('.main-svg').length > 0")
    return page, log


def offline(log) -> list[str]:
    return [u for u in log["requests"] if not u.startswith(("file://", "data:", "blob:"))]


def not_blank(png: bytes) -> bool:
    from io import BytesIO

    from PIL import Image

    px = np.asarray(Image.open(BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(px, axis=0, return_counts=True)
    return len(colours) > 20 and counts.max() < 0.98 * len(px)  # not one flat background


def test_report_renders_offline(browser, synth_test, synth_model, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(synth_report(synth_test, synth_model), encoding="utf-8")
    page, log = open_page(browser, path)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        n_figs = page.locator(".plotly-graph-div").count()
        assert n_figs >= 7
        assert page.locator(".plotly-graph-div .main-svg").count() >= n_figs
        shot = page.locator("#fig-confusion").screenshot(path=ARTIFACTS / "confusion.png")
        assert not_blank(shot)
        assert not_blank(page.locator("#fig-reliability").screenshot(
            path=ARTIFACTS / "reliability.png"))
        page.screenshot(path=ARTIFACTS / "report.png")

        # Drill-down: click a cell of the heatmap, its gallery shows up.
        shown = "Array.from(document.querySelectorAll('.cell-gallery'))" \
                ".filter(e => !e.hidden).map(e => e.dataset.cell)"
        page.locator("#fig-confusion").scroll_into_view_if_needed()
        area = page.locator("#fig-confusion .nsewdrag").first.bounding_box()
        true, pred = "neutral", "neutral"  # the diagonal is never empty for this model
        i, j = 6, 6
        page.mouse.click(area["x"] + (j + 0.5) * area["width"] / 7,
                         area["y"] + (i + 0.5) * area["height"] / 7)
        page.wait_for_function(f"{shown}.length === 1 && {shown}[0] === '{true}|{pred}'")
        gallery = page.locator(f".cell-gallery[data-cell='{true}|{pred}']")
        assert gallery.locator("img.thumb").count() > 0 and gallery.is_visible()
        gallery.screenshot(path=ARTIFACTS / "drilldown.png")
        # ... and the select box does the same.
        value = page.locator("#cell-select option").nth(0).get_attribute("value")
        page.select_option("#cell-select", value)
        assert page.evaluate(shown) == [value]
        assert page.locator("#top .face").count() > 0
    finally:
        page.close()
    assert log["errors"] == [] and log["dialogs"] == []
    assert offline(log) == [] and log["requests"] == [path.as_uri()]


def test_injected_markup_is_inert(browser, synth_test, tmp_path):
    path = tmp_path / "evil.html"
    path.write_text(evil_report(synth_test), encoding="utf-8")
    page, log = open_page(browser, path)
    try:
        page.screenshot(path=ARTIFACTS / "injection.png", full_page=False)
        assert page.evaluate("window.__pwned === undefined")
        assert page.title() == EVIL
        text = page.inner_text("body")
        assert EVIL in text and '"><img src=x onerror=' in text
        assert page.locator("img[src='x']").count() == 0
    finally:
        page.close()
    assert log["errors"] == [] and log["dialogs"] == [] and offline(log) == []
