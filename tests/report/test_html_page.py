"""The report page in a real headless Chromium: it loads offline, without errors, and draws."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from comparison_runs import seed_runs

from edgekit.report.table import build_comparison
from edgekit.report.writer import write_report

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "chromium is not installed; the HTML report is checked in a real browser: "
            "apt-get update && apt-get install -y chromium (what .ci/run does)"
        )
    return path


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory) -> Path:
    runs = seed_runs()
    records = [run.record(f"run{i}") for i, run in enumerate(runs)]
    histories = {f"run{i}": run.history() for i, run in enumerate(runs)}
    folder = tmp_path_factory.mktemp("report")
    write_report(build_comparison(records), histories, folder, "test report")
    return folder


@pytest.mark.slow
def test_page_loads_offline_without_errors_and_draws_every_chart(
    report_folder: Path, tmp_path: Path
) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    chromium = _chromium()
    problems: list[str] = []
    requests: list[str] = []

    with sync_playwright() as playwright:
        # A fresh profile per run (Playwright passes it as --user-data-dir).
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=chromium,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto((report_folder / "report.html").as_uri(), wait_until="load")
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5",
                timeout=30_000,
            )
            drawn = page.evaluate(_COUNT_DRAWN)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report_page.png"), full_page=True)
        finally:
            browser.close()

    assert problems == []
    assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []
    # size scatter, rpi4 and jetson latency scatters, training curves, parallel coordinates
    assert drawn["plots"] == 5
    assert drawn["points"] >= 4 + 3 + 1
    assert drawn["curves"] >= 16  # 4 models x train/val accuracy and loss
    assert drawn["parcoords"] == 1
    for label in ("mobilenetv3large", "efficientnet-lite2", "mobilevit-xs", "pmvt"):
        assert label in drawn["text"]


_COUNT_DRAWN = """() => ({
    plots: document.querySelectorAll('.js-plotly-plot').length,
    points: document.querySelectorAll('.scatterlayer .point').length,
    curves: document.querySelectorAll('.scatterlayer .js-line').length,
    parcoords: document.querySelectorAll('.parcoords').length,
    text: [...document.querySelectorAll('.scatterlayer .textpoint')].map(t => t.textContent)
        .join(' '),
})"""
