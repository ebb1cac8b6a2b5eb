"""The uncertainty commands end to end (typer runner, serial executor for speed)."""

from __future__ import annotations

import json

import pytest

from detente.cli.app import main


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_montecarlo_json_csv_and_ranges(capsys, tmp_path):
    out = tmp_path / "draws.csv"
    code, text, _ = run(capsys, "montecarlo", "emission-bdm1994", "-n", "60", "-m",
                        "compromise", "--executor", "serial", "--json", "--out", str(out),
                        "--range", "delay=7:")
    assert code == 0
    d = json.loads(text)
    assert d["n_draws"] == 60 and d["summary"][0]["model"] == "compromise"
    assert d["ranges"][0]["high"] is None and 0 <= d["ranges"][0]["p"] <= 1
    assert out.read_text().startswith("draw,model,issue,outcome,converged\n")


def test_montecarlo_table_and_run_file(capsys, tmp_path):
    rf = tmp_path / "run.yaml"
    rf.write_text(
        "scenario: emission-bdm1994\nmodels: [compromise, weighted_median]\nn: 40\nseed: 3\n"
        "uncertainty:\n  - {target: position, distribution: uniform, params: {delta: 1}}\n")
    code, text, _ = run(capsys, "montecarlo", "--run-file", str(rf), "--executor", "serial")
    assert code == 0
    assert "40 draws, seed 3" in text and "weighted_median" in text
    code, text, _ = run(capsys, "montecarlo", "--run-file", str(rf), "--executor", "serial",
                        "--json")
    assert json.loads(text)["uncertainty"][0]["distribution"] == "uniform"


@pytest.mark.parametrize("args, words", [
    (["montecarlo", "emission-bdm1994", "-n", "5", "--executor", "threads"], "--executor"),
    (["montecarlo", "emission-bdm1994", "-n", "5", "--range", "nope=1:2"], "--range"),
    (["montecarlo", "emission-bdm1994", "-n", "5", "-m", "compromise", "--set",
      "weighted_median.quantile=0.3"], "not being run"),
    (["whatif", "emission-bdm1994"], "no intervention"),
    (["whatif", "emission-bdm1994", "--shift", "france.nope=1"], "--shift"),
    (["sensitivity", "emission-bdm1994", "--method", "sobol", "-N", "100"], "power of two"),
    (["compare", "ukraine-2025"], "two or more"),
])
def test_errors_are_one_line_exit_2(capsys, args, words):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert words in err and "Traceback" not in err


def test_run_file_errors_name_the_field(capsys, tmp_path):
    rf = tmp_path / "bad.yaml"
    rf.write_text("modles: [compromise]\n")
    code, _, err = run(capsys, "montecarlo", "--run-file", str(rf))
    assert code == 2 and "modles" in err and "allowed keys" in err


def test_whatif_commands(capsys):
    code, text, _ = run(capsys, "whatif", "ukraine-2025", "--shift", "ru_kremlin.donbas=10",
                        "--drop", "us_interventionist", "--salience", "cn.sanctions=+20",
                        "--capability", "uk=x2", "-m", "compromise", "--json")
    assert code == 0
    rows = json.loads(text)["rows"]
    names = {r["intervention"] for r in rows}
    assert {"shift ru_kremlin.donbas +10", "drop us_interventionist"} <= names
    code, text, _ = run(capsys, "whatif", "ukraine-2025", "--cost", "ru=x2", "-m", "nash",
                        "-n", "20", "--executor", "serial")
    assert code == 0 and "cost ru=x2" in text


def test_sensitivity_and_compare(capsys):
    code, text, _ = run(capsys, "sensitivity", "emission-bdm1994", "--method", "morris", "-N",
                        "4", "-m", "compromise", "--by", "entry", "--json")
    assert code == 0
    d = json.loads(text)
    assert d["runs"] == 4 * (3 + 1) and len(d["factors"]) == 3
    code, text, _ = run(capsys, "compare", "ukraine-2025", "ukraine-2025-alt", "-m",
                        "compromise", "--top", "3")
    assert code == 0 and "main causes" in text
    code, text, _ = run(capsys, "compare", "ukraine-2025", "ukraine-2025-alt", "-m",
                        "compromise", "--json")
    d = json.loads(text)
    assert d["reference"] == "ukraine-2025" and d["causes"]
