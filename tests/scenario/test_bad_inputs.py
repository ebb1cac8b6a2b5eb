"""The malformed-input corpus: every file gives exit code 2 and one clear message naming the
file, the line, the field (where there is one) and the fix; never a traceback and never a
partly written output file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from detente.cli.app import main

CORPUS = Path(__file__).parent / "bad_inputs"
FILES = sorted(p for p in CORPUS.iterdir() if p.is_file())

# whole-file problems have no single field to name
NO_FIELD = {
    "syntax_error.yaml", "unclosed_quote.yaml", "duplicate_key.yaml", "empty.yaml",
    "only_comments.yaml", "python_object_tag.yaml", "python_name_tag.yaml",
    "top_level_list.yaml", "binary_garbage.yaml", "invalid_utf8.yaml",
    "table_missing_salience.csv", "ktab_short_row.csv", "ktab_bad.xml", "decide_short_row.txt",
}


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 30


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_bad_file_gives_one_clear_error(path: Path, capsys, tmp_path) -> None:
    out_file = tmp_path / "out.yaml"
    code, text = _run(["convert", str(path), str(out_file)], capsys)
    assert code == 2, text
    assert "Traceback" not in text
    assert text.startswith("error: "), text
    assert str(path) in text
    assert "line " in text, text
    assert "Fix:" in text or "fix" in text.lower(), text
    if path.name not in NO_FIELD:
        assert "field '" in text, text
    assert not out_file.exists()
    assert not list(tmp_path.iterdir()), "no temporary or partial output may remain"


def test_huge_file_is_refused_before_parsing(tmp_path, capsys) -> None:
    big = tmp_path / "huge.yaml"
    with big.open("w") as fh:
        fh.write("id: huge\nname: huge\nmeta:\n  filler: ")
        chunk = "x" * 1_000_000
        for _ in range(50):
            fh.write(chunk)
        fh.write("\n")
    code, text = _run(["validate", str(big)], capsys)
    assert code == 2
    assert "MB" in text and "Fix:" in text and str(big) in text


def test_yaml_tag_is_never_executed(tmp_path, capsys) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f'!!python/object/apply:os.system ["touch {marker}"]\n')
    code, _ = _run(["validate", str(evil)], capsys)
    assert code == 2
    assert not marker.exists()


def test_real_process_prints_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "detente.cli.app", "validate", str(CORPUS / "syntax_error.yaml")],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "line 13" in proc.stderr
