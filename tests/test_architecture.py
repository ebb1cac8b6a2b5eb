"""The package's imports flow one way (import-linter contract in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_flow_one_way() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    proc = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_core_import_is_light() -> None:
    """Importing detente and its CLI pulls in no heavy optional dependency."""
    code = ("import sys, detente, detente.cli.app; "
            "heavy = [m for m in ('matplotlib', 'dask', 'fastapi', 'SALib', 'numba', 'distributed')"
            " if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"heavy modules imported at start-up: {out.stdout}"


def test_ruff_is_clean() -> None:
    """The lint rules configured in pyproject.toml hold on the package, tests and scripts."""
    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    proc = subprocess.run([exe, "check", "src", "tests", "benchmarks", "scripts"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean(tmp_path: Path) -> None:
    """The package type-checks (settings in pyproject.toml, pydantic plugin on)."""
    exe = shutil.which("mypy") or str(Path(sys.executable).parent / "mypy")
    proc = subprocess.run([exe, "--cache-dir", str(tmp_path / "cache"), "src"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
