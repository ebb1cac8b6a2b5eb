"""`detente run FILE.csv#<isnr>` runs one DEU issue, `FILE.csv#<prnr>` a whole proposal."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from detente.cli.app import app, main
from detente.models.registry import get_model
from detente.scenario.importers.deu import read_deu
from tests.conftest import SHARED_DATA

DEU = str(SHARED_DATA / "deu" / "deu_dev.csv")
runner = CliRunner()


def _run(selector):
    res = runner.invoke(app, ["run", f"{DEU}#{selector}", "--model", "compromise",
                              "--format", "json", "--no-store"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_run_proposal_selector_forecasts_every_issue_of_the_proposal():
    out = _run("d00032")
    assert out["scenario"]["id"] == "d00032"
    got = {f["issue"]: f["outcome"] for f in out["forecasts"]}
    assert list(got) == ["d00032i1", "d00032i2", "d00032i3", "d00032i4"]
    comp = get_model("compromise")
    for s in read_deu(DEU)[:4]:
        assert got[s.id] == pytest.approx(comp.forecast(s).outcome[0], abs=1e-9)


def test_run_issue_selector_still_picks_one_issue():
    out = _run("d00032i3")
    assert out["scenario"]["id"] == "d00032i3"
    assert [f["issue"] for f in out["forecasts"]] == ["d00032i3"]


def test_unknown_selector_names_both_kinds_of_id(capsys):
    assert main(["run", f"{DEU}#nope", "--model", "compromise", "--no-store"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err
    assert "nope" in err and "#<isnr>" in err and "#<prnr>" in err
