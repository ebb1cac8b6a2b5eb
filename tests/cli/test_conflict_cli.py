"""detente timeline / evaluate / deals on the bundled scenarios."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from detente.cli.app import app, main

runner = CliRunner()


def _json(args):
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_timeline_prints_range_and_agreement_set_per_month():
    res = runner.invoke(app, ["timeline", "ukraine-2025", "--months", "6"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "bargaining range" in res.output and "agreement set" in res.output
    assert "military reversal" in res.output  # the month-6 event
    a = _json(["timeline", "ukraine-2025", "--months", "6"])
    b = _json(["timeline", "ukraine-2025-alt", "--months", "6"])
    assert len(a["months"]) == 7 and "agreement_set" in a["months"][0]
    assert a["months"][6]["front"] == pytest.approx(a["months"][5]["front"] - 5, abs=1)
    assert [m["low_x"] for m in a["months"]] != [m["low_x"] for m in b["months"]]


def test_evaluate_us_draft_names_vetoes_and_reasons():
    res = runner.invoke(app, ["evaluate", "us-draft-2025"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "VETO" in res.output and "Verdict" in res.output
    a = _json(["evaluate", "us-draft-2025"])
    assert a["vetoes"], "the seed says Moscow and Kyiv rejected the draft"
    assert all(v["reasons"] for v in a["vetoes"])
    assert a["survival"] is not None
    b = _json(["evaluate", "us-draft-2025", "--scenario", "ukraine-2025-alt"])
    assert [v["actor"] for v in a["vetoes"]] != [v["actor"] for v in b["vetoes"]] or \
        a["actors"] != b["actors"]
    c = _json(["evaluate", "us-draft-2025", "--set", "donbas=15"])
    assert c["proposal"]["terms"]["donbas"] == 15


def test_deals_best_packages_or_binding_constraint():
    res = runner.invoke(app, ["deals", "ukraine-2025", "--samples", "3000", "--horizon", "3"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    a = _json(["deals", "ukraine-2025", "--samples", "3000", "--horizon", "3"])
    b = _json(["deals", "ukraine-2025-alt", "--samples", "3000", "--horizon", "3"])
    for d in (a, b):
        assert d["by_nash"][:3] if d["feasible"] else d["binding"]["summary"]
    assert a != b
    if not a["feasible"]:
        assert "No deal possible" in res.output


def test_bad_input_exits_2_with_one_line(capsys):
    assert main(["evaluate", "no-such-proposal"]) == 2
    assert main(["evaluate", "-", "--set", "donbas"]) == 2
    assert main(["evaluate", "-", "--set", "nope=3"]) == 2
    assert main(["timeline", "emission-bdm1994"]) == 2
    err = capsys.readouterr().err
    assert "Fix:" in err and "Traceback" not in err
