"""Benchmark the dashboard in a real browser (headless Debian chromium through Playwright).

Goals (issue 6), on a 2-core CPU machine:
- first chart visible within 5 s of the server being ready, with the predictions cached;
- a confusion-matrix click showing its drill-down gallery within 1 s;
- a saliency panel for one face within 1 s for Grad-CAM and 2 s for occlusion.

How: a first server run fills the caches (predictions parquet, Streamlit's persisted tables)
and is stopped; then, per repeat, a fresh ``streamlit run app.py`` is started and timed from
its health endpoint answering to the first plotly chart drawn (``.main-svg``) in a browser
that is already open. Clicks are timed from the mouse click to the gallery being in the page;
saliency from choosing a new target (a cache miss) to its overlay being in the page.

    python bench/bench_dashboard.py [--repeats 3] [--screenshot docs/dashboard.png]
        [-- dashboard args, e.g. --data fer2013.csv.xz]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
WAIT_MS = 120_000


def start(env: dict[str, str], app_args: list[str]) -> tuple[subprocess.Popen, str, float]:
    """Start the server; return it, its URL and the time its health endpoint answered."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", *(["--", *app_args] if app_args else [])],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return proc, url, time.perf_counter()
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("streamlit exited") from None
            time.sleep(0.05)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def first_chart(browser, env, app_args) -> float:
    proc, url, ready = start(env, app_args)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("[data-testid=stPlotlyChart] .main-svg", timeout=WAIT_MS)
        seconds = time.perf_counter() - ready
        page.close()
        return seconds
    finally:
        stop(proc)


def cell_center(page, i: int, j: int) -> tuple[float, float]:
    box = page.locator("[data-testid=stPlotlyChart] .nsewdrag").first.bounding_box()
    return box["x"] + (j + 0.5) * box["width"] / 7, box["y"] + (i + 0.5) * box["height"] / 7


def drilldowns(page, url: str, cells: list[tuple[int, int]]) -> list[float]:
    page.goto(f"{url}/?page=confusion&true=angry&pred=angry")
    page.wait_for_selector('[data-gallery="angry:angry"]', timeout=WAIT_MS)
    times = []
    for i, j in cells:
        x, y = cell_center(page, i, j)
        start_t = time.perf_counter()
        page.mouse.click(x, y)
        page.wait_for_selector(f'[data-gallery="{EMOTIONS[i]}:{EMOTIONS[j]}"]', timeout=WAIT_MS)
        times.append(time.perf_counter() - start_t)
    return times


def choose(page, label: str, option: str) -> None:
    page.locator("[data-testid=stSelectbox]").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def saliency(page, url: str, method: str, targets: list[str]) -> list[float]:
    """Seconds from choosing each new target to its panel (first visit of that target)."""
    page.goto(f"{url}/?page=inspector&methods={method}")
    page.wait_for_selector(f'[data-method^="{method} ("] img', timeout=WAIT_MS)
    times = []
    for t in targets:
        start_t = time.perf_counter()
        choose(page, "Explain", t)
        page.wait_for_selector(f'[data-method="{method} ({t})"] img', timeout=WAIT_MS)
        times.append(time.perf_counter() - start_t)
    return times


def summary(name: str, values: list[float], goal: float) -> str:
    med = statistics.median(values)
    return (f"{name:34} median {med:5.2f} s  max {max(values):5.2f} s  goal {goal:g} s  "
            f"{'ok' if med <= goal else 'MISSED'}  ({', '.join(f'{v:.2f}' for v in values)})")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--screenshot", type=Path, help="save the drill-down view here too")
    p.add_argument("app_args", nargs="*", help="dashboard arguments (after --)")
    args = p.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} is absent")
        return 0
    from playwright.sync_api import sync_playwright

    tmp = tempfile.TemporaryDirectory(prefix="ferviz-bench-dash-")
    env = {**os.environ, "HOME": tmp.name,
           "FERVIZ_CACHE": os.environ.get("FERVIZ_CACHE") or str(Path(tmp.name) / "cache")}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        first_chart(browser, env, args.app_args)  # fills the caches
        firsts = [first_chart(browser, env, args.app_args) for _ in range(args.repeats)]
        proc, url, _ = start(env, args.app_args)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            clicks = drilldowns(page, url, [(4, 6), (6, 4), (2, 6), (3, 3), (0, 6)][
                :max(3, args.repeats)])
            if args.screenshot:
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.set_viewport_size({"width": 1400, "height": 1400})
                page.wait_for_timeout(1500)
                page.screenshot(path=args.screenshot)
                page.set_viewport_size({"width": 1400, "height": 1000})
            targets = ["sad", "neutral", "angry", "fear", "surprise"][:max(3, args.repeats)]
            cams = saliency(page, url, "gradcam", targets)
            occs = saliency(page, url, "occlusion", targets)
        finally:
            stop(proc)
        browser.close()
    load = os.getloadavg()[0]
    print(f"dashboard benchmark ({os.cpu_count()} CPUs, load average {load:.1f}; "
          f"data: {' '.join(args.app_args) or 'FER-Synth default'})")
    print(summary("first chart after server ready", firsts, 5))
    print(summary("drill-down gallery after click", clicks, 1))
    print(summary("Grad-CAM panel (one face)", cams, 1))
    print(summary("occlusion panel (one face)", occs, 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
