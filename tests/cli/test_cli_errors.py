"""Bad input to every command: exit code 2, one ``error:`` line naming what is wrong and the
fix, no traceback, no 'internal error', and no output file left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.cli.app import main
from tests.conftest import SHARED_DATA

DEU = str(SHARED_DATA / "deu" / "deu_dev.csv")
CASES = str(SHARED_DATA / "cases" / "cases.csv")

# (arguments, words the error line must contain). {tmp} is a scratch directory holding
# bad.yaml (broken YAML), badprop.yaml (a proposal with a bad term) and a.txt (a file).
CASES_BAD = [
    # run
    (["run", "no-such-scenario"], ["no-such-scenario", "ukraine-2025"]),
    (["run", "{tmp}/missing.yaml"], ["missing.yaml", "Fix"]),
    (["run", "{tmp}/bad.yaml"], ["bad.yaml", "line"]),
    (["run", "-m", "no_such_model"], ["no_such_model", "compromise"]),
    (["run", "-m", "compromise", "--set", "compromise"], ["NAME.PARAM=VALUE"]),
    (["run", "-m", "compromise", "--set", "compromise.nope=1"], ["nope", "weighting"]),
    (["run", "-m", "expected_utility", "--set", "expected_utility.Q=5"], ["Q", "1"]),
    (["run", "-m", "compromise", "--set", "nash.x=1"], ["nash", "--model"]),
    (["run", "-m", "compromise", "--format", "xml"], ["--format", "json"]),
    (["run", "-m", "compromise", "--seed", "-1"], ["--seed"]),
    (["run", "-m", "compromise", "--no-such-option"], ["--no-such-option"]),
    (["run", "{tmp}/dummy.csv", "-m", "status_quo"], ["status_quo"]),
    # warmup, models: no inputs, but stray arguments are usage errors
    (["warmup", "extra"], ["extra"]),
    (["models", "extra"], ["extra"]),
    # validate, schema, convert
    (["validate", "{tmp}/bad.yaml"], ["bad.yaml", "line 3", "Fix"]),
    (["validate", "{tmp}/a.txt"], ["a.txt"]),
    (["validate", "{tmp}"], ["unknown file type"]),
    (["validate", ""], ["no scenario given"]),
    (["schema", "nope"], ["scenario", "run-output"]),
    (["convert", "ukraine-2025", "{tmp}/out.xyz"], [".xyz", ".yaml"]),
    (["convert", "ukraine-2025", "{tmp}/a.txt"], ["already exists", "--force"]),
    # explain
    (["explain"], ["--actor", "ru_kremlin"]),
    (["explain", "--actor", "nobody"], ["nobody", "ru_kremlin"]),
    (["explain", "--actor", "ru_kremlin", "--issue", "nope"], ["nope", "donbas"]),
    (["explain", "--actor", "ru_kremlin", "-m", "nope"], ["nope", "available"]),
    (["explain", "--actor", "ru_kremlin", "--set", "compromise.x=1"], ["compromise"]),
    (["explain", "--actor", "ru_kremlin", "--set", "expected_utility.QQ=1"], ["QQ", "Q"]),
    # ktab-export
    (["ktab-export", "no-such.csv", "-o", "{tmp}/x.db"], ["no-such.csv"]),
    (["ktab-export", "{tmp}/dummy.csv", "-o", "{tmp}/x.db", "--set", "Bogus=1"], ["Bogus"]),
    (["ktab-export", "{tmp}/dummy.csv", "-o", "{tmp}/x.db", "--preset", "nope"], ["ktab"]),
    (["ktab-export", "{tmp}/dummy.csv", "-o", "{tmp}/x.db", "--tidy", "{tmp}/x.xyz"],
     [".csv", ".parquet"]),
    (["ktab-export", "{tmp}/dummy.csv", "-o", "{tmp}/x.db", "--set", "VotingRule=Nope"],
     ["VotingRule", "PropCbc"]),
    (["ktab-export", "{tmp}/dummy.csv", "-o", ""], ["directory"]),
    # backtest
    (["backtest", "{tmp}/missing.csv"], ["missing.csv"]),
    (["backtest", DEU, "--format", "nope"], ["deu", "cases"]),
    (["backtest", CASES, "--format", "deu"], ["isnr"]),
    (["backtest", DEU, "-m", "compromise", "--n-boot", "5"], ["--n-boot"]),
    (["backtest", DEU, "-m", "compromise", "--seed", "-1"], ["--seed"]),
    # timeline, evaluate, deals
    (["timeline", "emission-bdm1994"], ["conflict"]),
    (["timeline", "--months", "-1"], ["--months"]),
    (["timeline", "--horizon", "soon"], ["rolling", "countdown"]),
    (["evaluate", "no-such-proposal"], ["no-such-proposal", "us-draft-2025"]),
    (["evaluate", "{tmp}/badprop.yaml"], ["badprop.yaml"]),
    (["evaluate", "us-draft-2025", "--set", "nope=5"], ["nope", "donbas"]),
    (["evaluate", "us-draft-2025", "--set", "donbas=500"], ["donbas", "100"]),
    (["evaluate", "us-draft-2025", "--set", "donbas=abc"], ["abc"]),
    (["evaluate", "us-draft-2025", "--guarantee", "2"], ["--guarantee"]),
    (["deals", "emission-bdm1994"], ["principal"]),
    (["deals", "--samples", "5"], ["--samples"]),
    (["deals", "--seed", "-1"], ["--seed"]),
    # serve (every check happens before the server starts)
    (["serve", "--port", "0"], ["--port", "65535"]),
    (["serve", "--workers", "0"], ["--workers"]),
    (["serve", "--executor", "nope"], ["serial", "process"]),
    # report (the scenario is checked before any model runs)
    (["report", "no-such-scenario", "-o", "{tmp}/r.html"], ["no-such-scenario"]),
    (["report", "-n", "0", "--format", "pdf"], ["html", "md"]),
    (["report", "-n", "0", "--issue", "nope"], ["nope", "donbas"]),
    (["report", "-n", "0", "--actor", "nope"], ["nope", "ru_kremlin"]),
    (["report", "run:999", "-o", "{tmp}/r.html"], ["999", "runs list"]),
    (["report", "-n", "0", "--proposal", "{tmp}/missing.yaml"], ["missing.yaml"]),
    (["report", "-n", "0", "--seed", "-1"], ["--seed"]),
    (["report", "-n", "10", "--mc-model", "nope"], ["nope", "available"]),
    # montecarlo
    (["montecarlo", "-n", "-5"], ["-n"]),
    (["montecarlo", "-n", "0"], ["-n", "draw"]),
    (["montecarlo", "-n", "10", "-m", "nope"], ["nope"]),
    (["montecarlo", "-n", "10", "-m", "compromise", "--set", "compromise.zz=1"], ["zz"]),
    (["montecarlo", "-n", "10", "--seed", "-1"], ["--seed"]),
    (["montecarlo", "-n", "10", "--workers", "0"], ["--workers"]),
    (["montecarlo", "-n", "10", "--executor", "nope"], ["serial", "process"]),
    (["montecarlo", "-n", "10", "--range", "nope=1:2"], ["--range", "donbas"]),
    (["montecarlo", "-n", "10", "--range", "donbas=80:20"], ["donbas=20:80"]),
    (["montecarlo", "-n", "10", "--run-file", "{tmp}/missing.yaml"], ["missing.yaml"]),
    (["montecarlo", "-n", "10", "--run-file", "{tmp}/bad.yaml"], ["bad.yaml"]),
    # whatif
    (["whatif", "-m", "compromise"], ["--shift", "--drop"]),
    (["whatif", "--shift", "nobody.donbas=5"], ["nobody.donbas", "ru_kremlin"]),
    (["whatif", "--shift", "ru_kremlin.donbas"], ["ACTOR.ISSUE=VALUE"]),
    (["whatif", "--shift", "ru_kremlin.donbas=abc"], ["abc"]),
    (["whatif", "--drop", "nobody"], ["nobody"]),
    (["whatif", "--cost", "ru_kremlin=x2"], ["dynamics"]),
    (["whatif", "--cost", "ru=-5"], ["--cost", "0"]),
    (["whatif", "--cost", "ru=x"], ["--cost"]),
    (["whatif", "--salience", "ru_kremlin.donbas=500"], ["--salience", "100"]),
    (["whatif", "--capability", "ru=-2"], ["--capability", "0"]),
    (["whatif", "--guarantee", "3"], ["--guarantee", "0-1"]),
    (["whatif", "--shift", "ru_kremlin.donbas=10", "-n", "-3"], ["-n"]),
    # sensitivity
    (["sensitivity", "--method", "nope"], ["sobol", "morris"]),
    (["sensitivity", "--method", "morris", "-N", "0"], ["-N"]),
    (["sensitivity", "--method", "sobol", "-N", "100"], ["power of two"]),
    (["sensitivity", "--by", "nope"], ["entry", "actor"]),
    (["sensitivity", "--issue", "nope"], ["nope", "donbas"]),
    (["sensitivity", "--top", "0"], ["--top"]),
    (["sensitivity", "--method", "morris", "-N", "4", "--seed", "-1"], ["--seed"]),
    # compare
    (["compare", "ukraine-2025"], ["two or more"]),
    (["compare", "ukraine-2025", "no-such-scenario"], ["no-such-scenario"]),
    (["compare", "ukraine-2025", "emission-bdm1994"], ["issue"]),
    (["compare", "ukraine-2025", "ukraine-2025-alt", "--by", "nope"], ["kind", "actor"]),
    (["compare", "ukraine-2025", "ukraine-2025-alt", "-m", "compromise", "--set", "nash.x=1"],
     ["nash", "--model"]),
    (["compare", "ukraine-2025", "ukraine-2025-alt", "-n", "-5"], ["-n"]),
    (["compare", "ukraine-2025", "ukraine-2025-alt", "--seed", "-5"], ["--seed"]),
    # runs
    (["runs", "list", "--limit", "0"], ["--limit"]),
    (["runs", "list", "--format", "nope"], ["table", "json"]),
    (["runs", "list", "--store", "{tmp}/a.txt"], ["a.txt", "store"]),
    (["runs", "show", "abc"], ["abc", "run:12"]),
    (["runs", "show", "999"], ["999", "runs list"]),
    (["runs", "show", "run:-99"], ["run:-99"]),
    (["runs", "show", "latest", "--format", "nope"], ["yaml"]),
    (["runs", "show", "-2"], ["-2"]),
    (["runs", "diff", "1", "999"], ["999"]),
    (["runs", "diff", "abc"], ["abc"]),
    (["runs", "diff", "1", "2", "--format", "nope"], ["table", "json"]),
    (["runs", "rm", "999", "--yes"], ["999"]),
    (["runs", "rm", "abc", "--yes"], ["abc"]),
    (["no-such-command"], ["no-such-command"]),
]


# Cases that load a bundled scenario before failing (~0.15 s each): run under the slow
# marker, keeping at least one fast case per command.
_SLOW_IDS = {
    'compare ukraine-2025 emission-bdm1994',
    'compare ukraine-2025 no-such-scenario',
    'compare ukraine-2025 ukraine-2025-alt --by nope',
    'convert ukraine-2025 {tmp}/out.xyz',
    'evaluate no-such-proposal',
    'evaluate us-draft-2025 --set donbas=500',
    'evaluate us-draft-2025 --set nope=5',
    'explain',
    'explain --actor ru_kremlin --issue nope',
    'explain --actor ru_kremlin --set compromise.x=1',
    'explain --actor ru_kremlin --set expected_utility.QQ=1',
    'explain --actor ru_kremlin -m nope',
    'ktab-export {tmp}/dummy.csv -o {tmp}/x.db --set Bogus=1',
    'montecarlo -n -5',
    'montecarlo -n 10 --executor nope',
    'montecarlo -n 10 --range nope=1:2',
    'montecarlo -n 10 --seed -1',
    'montecarlo -n 10 --workers 0',
    'montecarlo -n 10 -m compromise --set compromise.zz=1',
    'montecarlo -n 10 -m nope',
    'report -n 0 --actor nope',
    'report -n 0 --issue nope',
    'run -m compromise --set compromise',
    'run -m compromise --set nash.x=1',
    'run -m expected_utility --set expected_utility.Q=5',
    'run -m no_such_model',
    'sensitivity --by nope',
    'sensitivity --issue nope',
    'sensitivity --method nope',
    'sensitivity --method sobol -N 100',
    'serve --port 0',
    'timeline emission-bdm1994',
    'whatif --capability ru=-2',
    'whatif --cost ru=x',
    'whatif --cost ru_kremlin=x2',
    'whatif --drop nobody',
    'whatif --guarantee 3',
    'whatif --salience ru_kremlin.donbas=500',
    'whatif --shift nobody.donbas=5',
    'whatif --shift ru_kremlin.donbas',
    'whatif --shift ru_kremlin.donbas=abc',
    'whatif -m compromise',
}


def _case_id(args: list[str]) -> str:
    return " ".join(args)[:60]


def _bad_params():
    return [pytest.param(a, w, id=_case_id(a),
                         marks=[pytest.mark.slow] if _case_id(a) in _SLOW_IDS else [])
            for a, w in CASES_BAD]


@pytest.fixture()
def scratch(tmp_path, monkeypatch) -> Path:
    (tmp_path / "bad.yaml").write_text("id: x\nissues: [\n")
    (tmp_path / "badprop.yaml").write_text("id: p\nname: p\nterms:\n  donbas: [1, 2\n")
    (tmp_path / "a.txt").write_text("not a scenario\n")
    (tmp_path / "dummy.csv").write_bytes(
        (SHARED_DATA / "ktab" / "inputs" / "dummyData_3Dim.csv").read_bytes())
    store = tmp_path / "store" / "runs.db"
    monkeypatch.setenv("DETENTE_STORE", str(store))
    monkeypatch.setenv("DETENTE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("store") / "runs.db"
    mp = pytest.MonkeyPatch()
    mp.setenv("DETENTE_STORE", str(store))
    try:
        for sc in ("emission-bdm1994", "ukraine-2025-alt"):
            assert main(["run", sc, "-m", "compromise", "--format", "csv"]) == 0
    finally:
        mp.undo()
    return store


def _check_error(args: list[str], capsys) -> str:
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2, f"{args}: exit {code}\n{out}\n{err}"
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("warning:")]
    assert len(lines) == 1, f"{args}: expected one error line, got:\n{err}"
    line = lines[0]
    assert line.startswith("error: "), line
    assert "Traceback" not in err and "internal error" not in err
    return line


@pytest.mark.parametrize(("args", "words"), _bad_params())
def test_bad_input_gives_one_line_and_exit_2(args, words, scratch, two_runs, monkeypatch,
                                             capsys):
    if args[0] == "runs" and "--store" not in args:
        monkeypatch.setenv("DETENTE_STORE", str(two_runs))
    args = [a.replace("{tmp}", str(scratch)) for a in args]
    line = _check_error(args, capsys)
    for w in words:
        assert w in line, f"{args}: {w!r} missing from: {line}"


def test_every_command_has_a_bad_input_case():
    from tests.cli.test_help_examples import COMMANDS

    covered = {" ".join(a[:2]) if a[0] == "runs" else a[0] for a, _ in CASES_BAD}
    assert set(COMMANDS) - {"runs"} <= covered


# A failing command leaves no output file: (arguments, files that must not exist).
NO_LEFTOVERS = [
    (["run", "no-such-scenario", "--positions", "p.csv"], ["p.csv"]),
    (["run", "-m", "expected_utility", "--set", "expected_utility.Q=5", "--positions",
      "p.csv"], ["p.csv"]),
    (["run", "-m", "compromise", "--positions", "a.txt/p.csv"], []),
    (["run", "-m", "compromise", "--positions", "."], []),
    (["schema", "nope", "-o", "s.json"], ["s.json"]),
    (["schema", "-o", "."], []),
    (["convert", "bad.yaml", "out.yaml"], ["out.yaml"]),
    (["convert", "ukraine-2025", "a.txt/out.yaml"], []),
    (["ktab-export", "bad.yaml", "-o", "x.db"], ["x.db", "x.csv"]),
    (["ktab-export", "dummy.csv", "-o", "y.db", "--tidy", "."], ["y.db"]),
    (["ktab-export", "dummy.csv", "-o", "z.db", "--set", "Bogus=1"], ["z.db", "z.csv"]),
    (["montecarlo", "no-such-scenario", "--out", "d.csv"], ["d.csv"]),
    (["montecarlo", "-n", "10", "-m", "compromise", "--out", "."], []),
    (["montecarlo", "-n", "10", "-m", "nope", "--out", "d.csv"], ["d.csv"]),
    (["report", "no-such-scenario", "-o", "r.html"], ["r.html"]),
    (["report", "-n", "0", "--format", "pdf", "-o", "r.pdf"], ["r.pdf"]),
    (["report", "-n", "0", "-o", "."], []),
]


@pytest.mark.parametrize(("args", "absent"), NO_LEFTOVERS,
                         ids=[" ".join(a)[:60] for a, _ in NO_LEFTOVERS])
def test_failing_command_leaves_no_output_file(args, absent, scratch, capsys):
    before = {p.name for p in scratch.iterdir()}
    _check_error(args, capsys)
    for name in absent:
        assert not (scratch / name).exists(), f"{args} left {name} behind"
    after = {p.name for p in scratch.iterdir()} - {"store", "data"}
    assert after <= before, f"{args} left {sorted(after - before)} behind"


def test_runs_rm_without_yes_on_a_closed_stdin_aborts(two_runs, monkeypatch, capsys):
    import io

    monkeypatch.setenv("DETENTE_STORE", str(two_runs))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["runs", "rm", "1"]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert main(["runs", "show", "1", "--format", "json"]) == 0  # still there


def test_model_list_summarises_long_tables():
    """`detente models` shows the ensemble's fitted capability tables by size, not 60
    numbers."""
    from typer.testing import CliRunner

    from detente.cli.app import app

    out = CliRunner().invoke(app, ["models"], env={"COLUMNS": "200"}).output
    assert "compromise: 30 entries" in out
    assert "0.73906" not in out
