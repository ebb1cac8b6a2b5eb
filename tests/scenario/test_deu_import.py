"""DEU importer: the scoring convention of ../shared/data/deu/README.md and bad rows."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from detente.errors import InputFileError
from detente.models.registry import get_model
from detente.scenario.importers.deu import (
    COUNCIL_WEIGHTS,
    capability_regime,
    deu_year,
    looks_like_deu,
    parse_deu_date,
    read_council_weights,
    read_deu,
    read_deu_issue,
)
from tests.conftest import SHARED_DATA

DEU = SHARED_DATA / "deu" / "deu_dev.csv"


@pytest.fixture(scope="module")
def dev():
    return read_deu(DEU)


def test_counts_and_scoreable(dev):
    assert len(dev) == 216
    assert sum(s.meta["scoreable"] for s in dev) == 204
    assert looks_like_deu(DEU)
    assert not looks_like_deu(SHARED_DATA / "cases" / "cases.csv")


def test_compromise_and_mean_reproduce_readme(dev):
    scored = [s for s in dev if s.meta["scoreable"]]
    comp, mean = get_model("compromise"), get_model("mean")
    e_c = [abs(comp.forecast(s).outcome[0] - s.meta["outcome"]) for s in scored]
    e_m = [abs(mean.forecast(s).outcome[0] - s.meta["outcome"]) for s in scored]
    assert np.mean(e_c) == pytest.approx(23.89, abs=0.01)
    assert np.mean(e_m) == pytest.approx(25.47, abs=0.01)


def test_first_issue_fields(dev):
    s = dev[0]
    assert s.id == "d00032i1"
    m = s.meta
    assert (m["prnr"], m["proc"], m["counvte"], m["outcome"]) == ("d00032", "COD", "QMV", 100.0)
    # finact '1930-05-01' is the mangled 30-05-01 -> 2001 -> pre-Nice votes
    assert (m["year"], m["year_source"], m["capability_regime"]) == (2001, "finact", "pre_nice")
    assert s.issues[0].status_quo == 0.0
    caps = {a.id: a.capability for a in s.actors}
    assert caps["de"] == 10 and caps["lu"] == 2
    assert caps["com"] == caps["ep"] == max(v for k, v in caps.items() if k not in ("com", "ep"))
    # non-members (blank position, salience 0) get no stance and no actor
    assert "pl" not in caps
    assert {st.actor for st in s.stances} == set(caps)


def test_position_without_salience_is_not_a_stance(dev):
    s = next(x for x in dev if x.id == "d05246i3")
    assert s.stance("be", "d05246i3") is None
    assert "be" in s.meta["positions_without_salience"]


def test_read_one_issue(dev):
    s = read_deu_issue(DEU, "d05246i3")
    assert s == next(x for x in dev if x.id == "d05246i3")
    with pytest.raises(InputFileError, match="no issue"):
        read_deu_issue(DEU, "nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("26-01-00", (26, 1, 2000)), ("1930-05-01", (30, 5, 2001)), ("2027-09-01", (27, 9, 2001)),
     ("16-12-99", (16, 12, 1999)), ("999", None), ("", None), ("01-02-2015", (1, 2, 2015))],
)
def test_dates(text, expected):
    assert parse_deu_date(text) == expected


def test_year_fallbacks_and_regimes():
    assert deu_year("999", "26-01-00") == (2000, "intro")
    assert deu_year("999", "999") == (2007, "default")
    assert [capability_regime(y) for y in (2004, 2005, 2014, 2015)] == [
        "pre_nice", "nice", "nice", "population"]


def test_bundled_weights_equal_shared_file():
    assert read_council_weights(SHARED_DATA / "deu" / "council_weights.csv") == {
        k: tuple(None if v is None else float(v) for v in vals)
        for k, vals in COUNCIL_WEIGHTS.items()}


def _write(tmp_path, rows, header=None):
    with open(DEU, newline="") as fh:
        reader = csv.reader(fh)
        head = next(reader)
        first = next(reader)
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header or head)
        for change in rows:
            row = dict(zip(head, first, strict=True))
            row.update(change)
            w.writerow([row.get(h, "") for h in (header or head)])
    return path


def test_non_numeric_position_names_line_and_column(tmp_path):
    path = _write(tmp_path, [{}, {"isnr": "d00032i9", "pde": "abc"}])
    with pytest.raises(InputFileError) as info:
        read_deu(path)
    assert info.value.line == 3 and info.value.field == "pde"
    assert "abc" in str(info.value) and "line 3" in str(info.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"sfr": "140"}, "sfr"), ({"out": "-3"}, "out"), ({"rp": "nan"}, "rp"),
     ({"finact": "yesterday"}, "finact"), ({"isnr": ""}, "isnr")],
)
def test_bad_values(tmp_path, change, field):
    path = _write(tmp_path, [change])
    with pytest.raises(InputFileError) as info:
        read_deu(path)
    assert info.value.field == field and info.value.line == 2


def test_duplicate_issue_and_short_row(tmp_path):
    with pytest.raises(InputFileError, match="twice"):
        read_deu(_write(tmp_path, [{}, {}]))
    path = tmp_path / "short.csv"
    path.write_text(DEU.read_text().splitlines()[0] + "\n1,2,3\n")
    with pytest.raises(InputFileError, match="fields"):
        read_deu(path)


@pytest.mark.parametrize("content", [b"", b"a,b,c\n1,2,3\n", b"\x00\x01\x02garbage"])
def test_not_deu(tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError):
        read_deu(path)


def test_new_member_without_weight_in_old_regime(tmp_path):
    # Poland cannot vote under pre-Nice weights: a stance in 2001 is an error, named
    path = _write(tmp_path, [{"ppl": "50", "spl": "50"}])
    with pytest.raises(InputFileError) as info:
        read_deu(path)
    assert info.value.field == "ppl"


def test_subset_of_actor_columns_and_semicolons(tmp_path):
    path = tmp_path / "mini.csv"
    path.write_text("isnr;pcom;scom;pde;sde;pfr;sfr;rp;out;finact\n"
                    "x1;100;50;0;80;50;20;0;40;01-02-16\n")
    (s,) = read_deu(path)
    assert s.meta["capability_regime"] == "population" and s.meta["prnr"] == "x1"
    assert s.actor("com").capability == pytest.approx(83.12)
    assert s.meta["scoreable"] is True
