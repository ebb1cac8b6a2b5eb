"""detente report / runs / run-store recording through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")

from detente.cli.app import main  # noqa: E402

MINI = """\
id: mini
name: Mini talks
sources:
  - {id: s1, title: A briefing, url: "https://example.org/b"}
issues:
  - id: t
    name: Territory
    anchors: [{value: 0, label: none returned}, {value: 100, label: all returned}]
  - {id: g, name: Guarantees}
actors:
  - {id: a, name: A, capability: 50}
  - {id: b, name: B, capability: 30}
  - {id: c, name: C, capability: 20}
stances:
  - {actor: a, issue: t, position: 10, salience: 80,
     evidence: [{source: s1, locator: p1, paraphrase: A wants little returned}]}
  - {actor: b, issue: t, position: 90, salience: 60}
  - {actor: c, issue: t, position: 50, salience: 40}
  - {actor: a, issue: g, position: 20, salience: 50}
  - {actor: b, issue: g, position: 70, salience: 50}
"""


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DETENTE_STORE", str(tmp_path / "runs.sqlite"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mini.yaml").write_text(MINI)
    return tmp_path


def test_run_records_and_says_where(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "mini.yaml", "-m", "compromise", "--format", "json"]) == 0
    out = capsys.readouterr()
    json.loads(out.out)  # stdout stays clean JSON
    assert re.search(r"saved as run 1 in .*runs\.sqlite", out.err.replace("\n", ""))
    assert main(["run", "mini.yaml", "-m", "compromise", "--no-store"]) == 0
    assert "saved as run" not in capsys.readouterr().err
    assert main(["runs", "list"]) == 0
    assert "mini" in capsys.readouterr().out


def test_runs_show_diff_rm(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", "mini.yaml", "-m", "compromise", "-m", "weighted_median"])
    (env / "mini2.yaml").write_text(MINI.replace("position: 90, salience: 60",
                                                 "position: 90, salience: 95"))
    main(["run", "mini2.yaml", "-m", "compromise"])
    capsys.readouterr()
    assert main(["runs", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "compromise" in shown and "weighted_median" in shown
    assert main(["runs", "show", "latest", "--format", "yaml"]) == 0
    assert "salience: 95" in capsys.readouterr().out
    assert main(["runs", "diff", "1", "2"]) == 0
    diff = capsys.readouterr().out
    assert "stance b / t: salience: 60 -> 95" in diff
    assert "model weighted_median" in diff and "compromise" in diff
    assert main(["runs", "diff", "1", "2", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    t = next(f for f in d["forecasts"] if f["model"] == "compromise" and f["issue"] == "t")
    assert t["delta"] > 0
    assert main(["runs", "rm", "1", "--yes"]) == 0
    assert main(["runs", "show", "1"]) == 2
    assert "no run 1" in capsys.readouterr().err


def test_report_html_from_scenario_and_from_run(env: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "mini.yaml", "-o", "r.html", "--montecarlo", "200",
                 "--executor", "serial", "-m", "compromise", "-m", "weighted_median"]) == 0
    html = (env / "r.html").read_text()
    assert "<img" in html and "https://" not in html and "example.org/b" in html
    assert "A wants little returned" in html
    assert "200" in html  # Monte Carlo draws in provenance
    main(["run", "mini.yaml", "-m", "compromise"])
    capsys.readouterr()
    assert main(["report", "run:latest", "-o", "run.html", "--montecarlo", "0"]) == 0
    html = (env / "run.html").read_text()
    assert "stored run" in html and "Monte Carlo: not run" in html


def test_report_markdown_and_terminal(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "mini.yaml", "--format", "md", "-o", "out/r.md",
                 "--montecarlo", "0", "-m", "compromise"]) == 0
    assert (env / "out" / "r.md").is_file()
    assert list((env / "out" / "r_figures").glob("*.png"))
    assert main(["report", "mini.yaml", "--format", "terminal", "--montecarlo", "0",
                 "-m", "compromise"]) == 0
    assert "Mini talks" in capsys.readouterr().out


def test_report_errors_are_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "mini.yaml", "--format", "pdf"]) == 2
    assert "choose html, md or terminal" in capsys.readouterr().err
    assert main(["report", "mini.yaml", "--issue", "nope", "--montecarlo", "0"]) == 2
    assert "unknown issue" in capsys.readouterr().err
    assert main(["report", "run:7"]) == 2
    assert "no run 7" in capsys.readouterr().err
    assert main(["report", "mini.yaml", "--sensitivity", "fast", "--montecarlo", "0"]) == 2
    assert "choose morris, sobol, oat, none" in capsys.readouterr().err
    assert main(["report", "mini.yaml", "--sensitivity-model", "nope", "--montecarlo", "0"]) == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.parametrize("method,word", [("morris", "mu*"), ("sobol", "ST"),
                                         ("oat", "swing")])
def test_report_sensitivity_option(env: Path, method: str, word: str) -> None:
    assert main(["report", "mini.yaml", "-o", f"{method}.html", "--montecarlo", "40",
                 "--executor", "serial", "-m", "compromise", "-m", "expected_utility",
                 "--sensitivity", method, "--fan-draws", "20"]) == 0
    html = (env / f"{method}.html").read_text()
    assert 'id="sensitivity"' in html and f"<th>{word}</th>" in html
    assert 'id="fig-fan-expected_utility' in html  # the position model's own fan
    assert main(["report", "mini.yaml", "-o", "none.html", "--montecarlo", "0",
                 "-m", "compromise", "--sensitivity", "none"]) == 0
    assert 'id="sensitivity"' not in (env / "none.html").read_text()


@pytest.mark.slow
def test_default_report_on_bundled_scenario(env: Path) -> None:
    assert main(["report", "-o", "uk.html", "--montecarlo", "200"]) == 0
    html = (env / "uk.html").read_text()
    for anchor in ("positions", "quad", "bargains", "montecarlo", "sensitivity", "conflict",
                   "proposal", "provenance"):
        assert f'id="{anchor}"' in html
    assert "https://" not in html and "http://" not in html
