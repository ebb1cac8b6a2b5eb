"""Reading Decide input files (tests read the shared data; nothing is bundled)."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.errors import InputFileError
from detente.scenario.importers.decide import looks_like_decide, read_decide
from tests.conftest import SHARED_DATA

DECIDE = SHARED_DATA / "decide"


@pytest.mark.parametrize("name", ["cop21.csv", "CoP21_semicolon.csv", "copenhagen.csv",
                                  "sample_data.txt"])
def test_reads_the_real_files(name: str) -> None:
    path = DECIDE / name
    assert looks_like_decide(path)
    s = read_decide(path)
    assert len(s.actors) >= 10 and len(s.issues) >= 6
    assert all(0 <= st.salience <= 100 for st in s.stances)
    assert all(st.capability is not None for st in s.stances)


def test_tab_and_semicolon_versions_agree() -> None:
    a = read_decide(DECIDE / "cop21.csv")
    b = read_decide(DECIDE / "CoP21_semicolon.csv")
    assert len(a.stances) == len(b.stances) == 181
    assert sorted(st.position for st in a.stances) == sorted(st.position for st in b.stances)
    # the semicolon file labels its scale points
    diff = b.issue("differentiation")
    assert len(diff.anchors) == 5 and diff.anchors[0].value == 0
    assert "differentiation" in diff.label_for(0) or diff.anchors[0].label


def test_values_and_scales() -> None:
    s = read_decide(DECIDE / "sample_data.txt")
    toll = s.issue("tol-hoogte")
    assert (toll.scale_min, toll.scale_max) == (0.5, 7.0)
    st = s.stance("Willems", "tolheffing-binnenstad")
    assert (st.position, st.salience, st.capability) == (100.0, 95.0, 1.0)
    c = read_decide(DECIDE / "copenhagen.csv")
    assert c.meta["decide"]["actor_ids"]["EU_incl_Norway"] == "EU (incl Norway)"
    assert c.actor("EU_incl_Norway").name == "EU (incl Norway)"
    assert c.stance("USA", "MRVdecrease").capability == pytest.approx(0.26)


def test_file_with_errors_names_its_line() -> None:
    with pytest.raises(InputFileError) as err:
        read_decide(DECIDE / "copenhagen_with_errors.csv")
    e = err.value
    assert e.line == 86 and e.field == "position"
    assert "160" in str(e) and "line 87" in str(e) and e.fix


def _write(tmp_path: Path, rows: list[str]) -> Path:
    p = tmp_path / "x.csv"
    p.write_text("\n".join(rows) + "\n")
    return p


def test_scale_points_in_any_order(tmp_path: Path) -> None:
    rows = ["#A\ta\ta", "#A\tb\tb", "#P\tI\tissue", "#M\tI\t10\thigh", "#M\tI\t0\tlow",
            "#D\ta\tI\t2\t0.5\t1", "#D\tb\tI\t8\t0.5\t1"]
    s = read_decide(_write(tmp_path, rows))
    assert (s.issues[0].scale_min, s.issues[0].scale_max) == (0.0, 10.0)
    assert [a.label for a in s.issues[0].anchors] == ["low", "high"]
    with pytest.raises(InputFileError) as err:  # Decide's reader breaks here
        read_decide(_write(tmp_path, rows), decide_compat=True)
    assert err.value.line == 5


@pytest.mark.parametrize(("bad", "field"), [
    ("#D\ta\tI\tx\t0.5\t1", "position"),
    ("#D\ta\tI\t5\t1.5e9\t1", "salience"),
    ("#D\tzz\tI\t5\t0.5\t1", "actor"),
    ("#D\ta\tJJ\t5\t0.5\t1", "issue"),
    ("#Q\ta", "tag"),
])
def test_row_errors(tmp_path: Path, bad: str, field: str) -> None:
    rows = ["#A\ta\ta", "#A\tb\tb", "#P\tI\tissue", "#D\tb\tI\t8\t0.5\t1", bad]
    with pytest.raises(InputFileError) as err:
        read_decide(_write(tmp_path, rows))
    assert err.value.line == 5 and err.value.field == field


def test_not_decide(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text("actor,issue,position\nA,I,3\n")
    assert not looks_like_decide(p)
