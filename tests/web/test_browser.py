"""End to end in headless Chromium (Debian's package) against a real uvicorn server on a free
loopback port: load ukraine-2025, change a salience (and see a validation message beside the
cell), run the models, see the forecast change, run a small Monte Carlo and see its chart,
test a proposal; add an issue and an actor to a copy of a bundled scenario, give them stances
and forecast it; upload a DEU file and backtest two models. Screenshots go to
test-artifacts/web/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.web, pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "web"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    uvicorn = pytest.importorskip("uvicorn")
    from detente.web.app import create_app
    from detente.web.settings import Settings

    port = _free_port()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("web"), port=port))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    t0 = time.monotonic()
    while not srv.started:
        assert time.monotonic() - t0 < 20, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    th.join(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1300, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        external: list[str] = []
        pg.on("request", lambda r: external.append(r.url)
              if not r.url.startswith((server, "data:", "about:")) else None)
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        assert not external, f"requests left this machine: {external}"
        assert not errors, f"JavaScript errors: {errors}"
        browser.close()


def _run(page, server, scenario: str, models: list[str], montecarlo: int = 0) -> int:
    page.goto(f"{server}/run?scenario={scenario}")
    for box in page.locator("input[name=models]").all():
        box.set_checked(box.get_attribute("value") in models)
    if montecarlo:
        page.check("input[name=kind][value=montecarlo]")
        page.fill("input[name=draws]", str(montecarlo))
    page.click("#start-btn")
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector("#result-link:not([hidden])", timeout=120_000)
    page.click("#result-link")
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("circle.forecast-dot")
    return int(page.url.rsplit("/", 1)[1])


def _forecast(page, model: str) -> float:
    dot = page.locator(f"#forecast-chart circle.forecast-dot[data-model={model}]")
    return float(dot.get_attribute("data-value"))


def test_dashboard_end_to_end(server, page):
    expect = pytest.importorskip("playwright.sync_api").expect
    # library
    page.goto(server + "/")
    page.wait_for_selector("#scenario-table tr[data-id=ukraine-2025]")
    page.screenshot(path=str(SHOTS / "01-library.png"), full_page=True)

    # baseline forecast of the bundled scenario
    base_run = _run(page, server, "ukraine-2025", ["compromise", "expected_utility"])
    page.select_option("#pos-issue", "donbas")
    before = _forecast(page, "compromise")
    page.screenshot(path=str(SHOTS / "02-results-baseline.png"), full_page=False)

    # interactive chart: hover shows a tooltip, toggling an actor removes its line
    page.select_option("#pos-model", "expected_utility")
    n_lines = page.locator("#positions-chart path.actor-line").count()
    assert n_lines > 1
    page.locator("#forecast-chart circle.forecast-dot").first.hover()
    assert page.locator("#chart-tip").is_visible()
    who = page.locator("#positions-chart path.actor-line").first.get_attribute("data-actor")
    page.locator(f"#actor-toggles input[data-actor={who}]").uncheck()
    assert page.locator("#positions-chart path.actor-line").count() < n_lines
    page.locator("#positions-chart svg").hover()
    page.mouse.wheel(0, -300)  # zoom in
    page.click("#pos-reset")

    # edit: a bad salience shows a message beside the cell, then a real change is saved
    page.goto(f"{server}/scenarios/ukraine-2025")
    cell = page.locator("#stance-grid td.cell[data-actor=uk][data-issue=donbas]")
    sal = cell.locator("input[data-field=salience]")
    old_sal = float(sal.input_value())
    sal.fill("150")
    page.click("#validate-btn")
    # (no wait_for_function: the page's CSP forbids eval, which Playwright's polling uses)
    expect(cell.locator(".cell-error")).not_to_be_empty()
    assert "100" in cell.locator(".cell-error").inner_text()
    assert "invalid" in (sal.get_attribute("class") or "")
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "03-editor-validation.png"))
    new_sal = 5.0 if old_sal > 50 else 100.0
    sal.fill(str(new_sal))
    page.fill("#save-id", "ukraine-2025-edit")
    page.click("#save-btn")
    page.wait_for_url("**/scenarios/ukraine-2025-edit")
    cell2 = page.locator("#stance-grid td.cell[data-actor=uk][data-issue=donbas]")
    assert float(cell2.locator("input[data-field=salience]").input_value()) == new_sal

    # run the edited scenario: the forecast moves
    edit_run = _run(page, server, "ukraine-2025-edit", ["compromise", "expected_utility"])
    page.select_option("#pos-issue", "donbas")
    after = _forecast(page, "compromise")
    assert abs(after - before) > 1e-6, (before, after)
    page.screenshot(path=str(SHOTS / "04-results-edited.png"))

    # compare the two runs
    page.goto(f"{server}/compare?a={base_run}&b={edit_run}")
    page.wait_for_selector("#compare-table tr.changed")
    page.screenshot(path=str(SHOTS / "05-compare.png"), full_page=True)

    # a small Monte Carlo and its chart
    _run(page, server, "ukraine-2025", ["compromise", "weighted_median"], montecarlo=100)
    page.wait_for_selector("#mc-svg rect.mc-bar", state="attached")
    assert page.locator("#mc-svg rect.mc-bar").count() >= 10
    assert "100 draws" in page.inner_text("#mc-info")
    page.locator("#mc-chart").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "06-montecarlo.png"))

    # proposal tester: the US draft is blocked; moving sliders updates the verdict live
    page.goto(f"{server}/proposals?proposal=us-draft-2025")
    page.wait_for_selector("#votes tbody tr")
    assert "blocked" in page.inner_text("#verdict")
    ua = page.locator("#votes tbody tr[data-actor=ua]")
    expect(ua).to_contain_text("donbas = 0")
    for issue, value in (("donbas", 60), ("strategic_directions", 30),
                         ("security_guarantees", 20)):
        page.eval_on_selector(f"#term-{issue}", "(el, v) => { el.value = v; "
                              "el.dispatchEvent(new Event('input', {bubbles: true})); }", value)
    expect(ua).not_to_contain_text("donbas = 0")  # re-evaluated with the new terms
    expect(page.locator("[data-label-for=donbas]")).not_to_contain_text("Russia gets all")
    assert page.locator("#votes tbody tr[data-actor=ru]").count() == 1
    page.screenshot(path=str(SHOTS / "07-proposal.png"), full_page=True)


def test_editor_adds_issue_and_actor_then_forecasts(server, page):
    expect = pytest.importorskip("playwright.sync_api").expect
    page.goto(f"{server}/scenarios/emission-bdm1994")
    page.fill("#save-id", "emission-grown")
    # add an issue: a status quo outside the scale is shown beside its box, nothing is saved
    page.click("#add-issue-form >> xpath=ancestor::details/summary")
    form = page.locator("#add-issue-form")
    form.locator("[data-field=id]").fill("inspection")
    form.locator("[data-field=name]").fill("Strictness of inspections")
    form.locator("[data-field=scale_min]").fill("0")
    form.locator("[data-field=scale_max]").fill("10")
    sq = form.locator("[data-field=status_quo]")
    sq.fill("50")
    page.click("#add-issue-btn")
    expect(sq.locator("xpath=..").locator(".cell-error")).to_contain_text("outside the scale")
    assert "invalid" in (sq.get_attribute("class") or "")
    page.screenshot(path=str(SHOTS / "08-editor-add-issue-error.png"))
    sq.fill("3")
    page.click("#add-issue-btn")
    # the bundled scenario stays read-only: the copy is saved first and opened
    page.wait_for_url("**/scenarios/emission-grown")
    expect(page.locator("#editor-status")).to_contain_text("added issue inspection")
    assert page.locator("#stance-grid td.cell[data-issue=inspection]").count() == 10

    # add an actor
    page.click("#add-actor-form >> xpath=ancestor::details/summary")
    form = page.locator("#add-actor-form")
    form.locator("[data-field=id]").fill("commission")
    form.locator("[data-field=name]").fill("European Commission")
    form.locator("[data-field=capability]").fill("0.2")
    page.click("#add-actor-btn")
    expect(page.locator("#actors-table tr[data-actor=commission]")).to_have_count(1)
    row = page.locator("#stance-grid td.cell[data-actor=commission]")
    assert row.count() == 2

    # stances: the new actor on both issues, three old actors on the new issue
    for actor, issue, pos, sal in (("commission", "delay", "6", "70"),
                                   ("commission", "inspection", "8", "90"),
                                   ("germany", "inspection", "2", "60"),
                                   ("france", "inspection", "5", "40"),
                                   ("uk", "inspection", "1", "80")):
        cell = page.locator(f"#stance-grid td.cell[data-actor={actor}][data-issue={issue}]")
        cell.locator("input[data-field=position]").fill(pos)
        cell.locator("input[data-field=salience]").fill(sal)
    page.click("#save-btn")
    expect(page.locator("#editor-status")).to_contain_text("saved as emission-grown")
    page.locator("#stance-grid").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "09-editor-added.png"), full_page=True)

    # forecast the grown scenario: the new issue has a forecast inside its scale
    _run(page, server, "emission-grown", ["compromise", "weighted_median"])
    page.select_option("#pos-issue", "inspection")
    value = _forecast(page, "compromise")
    assert 0 <= value <= 10
    page.screenshot(path=str(SHOTS / "10-results-grown.png"))


def test_backtest_page(server, page, tmp_path):
    from tests.conftest import SHARED_DATA

    deu = SHARED_DATA / "deu" / "deu_dev.csv"
    if not deu.is_file():
        pytest.skip("shared DEU data not found")
    expect = pytest.importorskip("playwright.sync_api").expect
    small = tmp_path / "deu_small.csv"
    small.write_text("".join(deu.read_text().splitlines(keepends=True)[:41]))
    page.goto(f"{server}/backtest")
    for box in page.locator("input[name=models]").all():
        box.set_checked(box.get_attribute("value") in ("compromise", "exchange"))
    page.set_input_files("#bt-file", str(small))
    page.fill("input[name=n_boot]", "200")
    page.fill("input[name=coverage]", "20")
    page.click("#bt-start")
    page.wait_for_url("**/backtest?job=*")
    expect(page.locator("#backtest-table tbody tr")).to_have_count(2, timeout=60_000)
    expect(page.locator("#bt-calibration-table tbody tr")).to_have_count(4)
    assert page.locator("#backtest-table tr[data-model=exchange] .bt-bar").count() == 1
    mae = float(page.locator("#backtest-table tr[data-model=compromise] td.mae").inner_text())
    assert mae > 0
    expect(page.locator("#bt-summary")).to_contain_text("39 scored issues")
    page.locator("#bt-figure-img").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "11-backtest.png"), full_page=True)
    # a bad file: the reader's message, no job
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    page.set_input_files("#bt-file", str(bad))
    page.click("#bt-start")
    expect(page.locator("#bt-error")).to_contain_text("bad.csv")
