"""Every command's --help carries examples, and the examples work as written.

The examples are read from the commands' own help text, so a help text that drifts from
what the CLI accepts fails here. They run in a scratch directory laid out like a checkout
next to the shared data (``../shared/data``), with the KTAB sample file and ``examples/``
copied in, and a throw-away run store holding a dozen runs.
"""

from __future__ import annotations

import io
import re
import shlex
import shutil
from pathlib import Path

import pytest
import typer

from detente.cli.app import app, main
from tests.conftest import ROOT, SHARED_DATA


def _commands() -> dict[str, object]:
    """Every registered command and group, keyed by its path ('run', 'runs show', ...)."""
    out: dict[str, object] = {}

    def walk(cmd, prefix: tuple[str, ...]) -> None:
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            path = (*prefix, name)
            out[" ".join(path)] = sub
            walk(sub, path)

    walk(typer.main.get_command(app), ())
    return out


COMMANDS = _commands()
_EXAMPLE = re.compile(r"(?:^|Examples?:\s*)(detente\s.*?)\s*(?:#.*)?$")


def _examples(text: str) -> list[str]:
    found = []
    for line in (text or "").splitlines():
        for part in line.split(";"):
            m = _EXAMPLE.search(part.strip())
            if m:
                found.append(m.group(1).strip().rstrip(",."))
    return found


# not runnable in a test: placeholders for the user's own file, a server, a Dask cluster
_SKIP = ("my-talks.yaml", "my.yaml", "detente serve", "--dask", "DETENTE_TOKEN")
# runnable but multi-second: run under the slow marker
_SLOW = ("detente report", "detente montecarlo", "detente sensitivity", "detente warmup",
         "detente compare", "-n 500", "detente deals ukraine-2025 --samples")

EXAMPLES = sorted({(cmd, ex) for cmd, c in COMMANDS.items() for ex in _examples(c.help)
                   if not any(s in ex for s in _SKIP)})


def test_every_command_has_help_with_an_example():
    assert {"run", "validate", "runs", "runs list", "runs show", "runs diff", "runs rm",
            "montecarlo", "report", "serve"} <= set(COMMANDS)
    for name, cmd in COMMANDS.items():
        assert "Example" in (cmd.help or ""), f"`detente {name} --help` has no example"
        assert any(ex.startswith(f"detente {name}") for ex in _examples(cmd.help)), (
            f"`detente {name} --help` has no example of itself")


def test_help_renders_for_every_command(capsys):
    for name in COMMANDS:
        assert main([*name.split(), "--help"]) == 0, name
        out = capsys.readouterr().out
        assert "Example" in out, name


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A scratch checkout: ``<tmp>/checkout`` (cwd) next to ``<tmp>/shared/data``."""
    base = tmp_path_factory.mktemp("examples")
    (base / "shared").mkdir()
    (base / "shared" / "data").symlink_to(SHARED_DATA, target_is_directory=True)
    cwd = base / "checkout"
    cwd.mkdir()
    shutil.copy(SHARED_DATA / "ktab" / "inputs" / "dummyData_3Dim.csv", cwd)
    shutil.copytree(ROOT / "examples", cwd / "examples")
    return cwd


@pytest.fixture(scope="module")
def store(checkout) -> Path:
    """A run store with 12 quick runs, so `runs show 12`, `runs diff 3 7`, `rm 3 4` work."""
    path = checkout.parent / "runs.db"
    mp = pytest.MonkeyPatch()
    mp.setenv("DETENTE_STORE", str(path))
    try:
        for k in range(12):
            sc = ("emission-bdm1994", "ukraine-2025-alt")[k % 2]
            assert main(["run", sc, "-m", "compromise", "--format", "csv"]) == 0
    finally:
        mp.undo()
    return path


def _run_example(example: str, checkout: Path, store: Path, monkeypatch) -> None:
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("DETENTE_STORE", str(store))
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # `runs rm` asks before removing
    args = shlex.split(example)[1:]
    if "-o" in args or "--output" in args or "convert" in args[:1]:
        dst = Path(args[-1] if args[0] == "convert" else
                   args[(args.index("-o") if "-o" in args else args.index("--output")) + 1])
        if dst.exists():
            dst.unlink()
    assert main(args) == 0, f"help example failed: {example}"


def _params(slow: bool):
    out = []
    for _cmd, ex in EXAMPLES:
        is_slow = any(s in ex for s in _SLOW)
        if is_slow == slow:
            out.append(pytest.param(ex, id=ex.removeprefix("detente ")[:60]))
    return sorted(out, key=lambda p: p.values[0].startswith("detente runs rm"))


@pytest.mark.parametrize("example", _params(slow=False))
def test_help_example_runs(example, checkout, store, monkeypatch, capsys):
    _run_example(example, checkout, store, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("example", _params(slow=True))
def test_slow_help_example_runs(example, checkout, store, monkeypatch, capsys):
    _run_example(example, checkout, store, monkeypatch)


def test_examples_were_found():
    names = {cmd for cmd, _ in EXAMPLES}
    assert len(EXAMPLES) >= 30
    assert {"run", "explain", "evaluate", "runs show", "runs diff", "whatif"} <= names


@pytest.mark.parametrize("name", ["decide/cop21.csv", "decide/sample_data.txt",
                                  "ktab/inputs/dummyData_3Dim.csv",
                                  "ktab/inputs/dummyData_3Dim.xml",
                                  "deu/deu_dev.csv#d00032i1"])
def test_readme_formats_validate(name, capsys):
    """README: KTAB CSV/XML, Decide tagged files (quoted tags too) and DEU rows load."""
    assert main(["validate", str(SHARED_DATA / name)]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_readme_python_example():
    import warnings

    from detente import get_model, load_scenario

    s = load_scenario("ukraine-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = get_model("expected_utility", preset="scholz").forecast(s, rng=1)
    assert 0 <= f.outcome_of("donbas") <= 100 and len(f.tidy()[:3]) == 3
    assert 'outcome_of("donbas")' in (ROOT / "README.md").read_text()
