"""The HTML report opens in headless Chromium with every figure rendered (no network)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("playwright")

from detente.report._sample import sample_report  # noqa: E402
from detente.report.html import write_html  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium not found; install it with: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    page_file = write_html(sample_report(), tmp_path / "report.html")
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1600})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri(), wait_until="load")
            sizes = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth, "
                "i.naturalHeight, i.getBoundingClientRect().width])")
            title = page.title()
            page.screenshot(path=str(artifacts / "report-top.png"))
            page.screenshot(path=str(artifacts / "report-full.png"), full_page=True)
        finally:
            browser.close()
    assert title == "Sample talks: forecast report"
    assert len(sizes) == 15
    for complete, w, h, shown in sizes:
        assert complete and w > 0 and h > 0 and shown > 0
    # only the file itself (and its embedded data: URIs) were fetched
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    assert (artifacts / "report-full.png").stat().st_size > 50_000
