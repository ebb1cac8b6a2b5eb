"""DEU importer: the scoring convention of ../shared/data/deu/README.md and bad rows."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from detente.errors import InputFileError
from detente.models.registry import get_model
from detente.scenario.arrays import scenario_arrays
from detente.scenario.formats import read_any
from detente.scenario.importers.deu import (
    COUNCIL_WEIGHTS,
    DEU_ACTORS,
    capability_regime,
    deu_year,
    looks_like_deu,
    parse_deu_date,
    read_council_weights,
    read_deu,
    read_deu_issue,
    read_deu_proposal,
)
from tests.conftest import SHARED_DATA

DEU = SHARED_DATA / "deu" / "deu_dev.csv"


@pytest.fixture(scope="module")
def dev():
    return read_deu(DEU)


@pytest.fixture(scope="module")
def dev_proposals():
    return read_deu(DEU, by="proposal")


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


# ---------------------------------------------------------------------------------------
# proposal level (by="proposal")


def test_proposal_level_groups_issues_in_file_order(dev, dev_proposals):
    assert len(dev_proposals) == 85
    assert [i.id for p in dev_proposals for i in p.issues] == [s.id for s in dev]
    order = list(dict.fromkeys(s.meta["prnr"] for s in dev))
    assert [p.meta["prnr"] for p in dev_proposals] == order
    assert all(s.meta["level"] == "issue" for s in dev)
    p = dev_proposals[0]
    assert (p.id, p.name) == ("d00032", "documents")
    assert "4 issues" in p.description
    m = p.meta
    assert (m["format"], m["level"], m["source_file"]) == ("deu", "proposal", "deu_dev.csv")
    assert (m["prnr"], m["proc"], m["counvte"], m["year"], m["capability_regime"]) == (
        "d00032", "COD", "QMV", 2001, "pre_nice")
    assert m["lines"] == {"d00032i1": 2, "d00032i2": 3, "d00032i3": 4, "d00032i4": 5}
    assert m["outcome"] == {"d00032i1": 100.0, "d00032i2": 0.0, "d00032i3": 100.0,
                            "d00032i4": 50.0}
    assert m["reference_point"]["d00032i2"] is None
    assert set(m["isnr"]) == set(m["scoreable"]) == set(m["positions_without_salience"]) \
        == {i.id for i in p.issues}
    assert "Arregui" in m["citation"]
    # actors: the union over the issues, in DEU_ACTORS order
    by_issue = {s.id: s for s in dev}
    for q in dev_proposals:
        union = {a.id for i in q.issues for a in by_issue[i.id].actors}
        assert [a.id for a in q.actors] == [a for a in DEU_ACTORS if a in union]


def test_proposal_arrays_equal_issue_arrays(dev, dev_proposals):
    """Issue by issue, a proposal scenario gives exactly the arrays of the issue scenario."""
    by_issue = {s.id: s for s in dev}
    n_overrides = 0
    for p in dev_proposals:
        pa = scenario_arrays(p)
        n_overrides += sum(st.capability is not None for st in p.stances)
        for k, issue_id in enumerate(pa.issue_ids):
            ia = scenario_arrays(by_issue[issue_id])
            assert ia.issue_ids == (issue_id,)
            rows = [pa.actor_index(a) for a in ia.actor_ids]
            others = [r for r in range(pa.n_actors) if r not in rows]
            for name in ("position", "salience", "capability", "present"):
                got, want = getattr(pa, name)[rows, k], getattr(ia, name)[:, 0]
                np.testing.assert_array_equal(got, want, err_msg=f"{issue_id} {name}")
            # actors of the proposal without a stance on this issue stay absent
            assert not pa.present[others, k].any()
            assert np.isnan(pa.position[others, k]).all()
            assert not pa.salience[others, k].any() and not pa.capability[others, k].any()
            np.testing.assert_array_equal(pa.status_quo[k], ia.status_quo[0])
            assert (pa.scale_min[k], pa.scale_max[k]) == (ia.scale_min[0], ia.scale_max[0])
    assert n_overrides > 0  # the Commission/Parliament clout varies by issue somewhere


def test_proposal_actor_capability_is_first_issue_value(dev, dev_proposals):
    by_issue = {s.id: s for s in dev}
    for p in dev_proposals:
        for a in p.actors:
            first = next(i.id for i in p.issues if p.stance(a.id, i.id) is not None)
            assert a.capability == by_issue[first].actor(a.id).capability
            for i in p.issues:
                st = p.stance(a.id, i.id)
                if st is None:
                    continue
                cap = by_issue[i.id].actor(a.id).capability
                assert st.capability == (None if cap == a.capability else cap)


def test_proposal_backtest_cases_and_compromise_match_issue_mode(dev, dev_proposals):
    from detente.analysis.backtest import backtest_cases, predict

    cases_i, skipped_i = backtest_cases(dev)
    cases_p, skipped_p = backtest_cases(dev_proposals)
    assert len(cases_i) == len(cases_p) == 204 and skipped_i == skipped_p == 12

    def key(c):
        return (c.issue_id, c.outcome, c.group, c.scale_min, c.scale_max)

    assert [key(c) for c in cases_i] == [key(c) for c in cases_p]
    comp = get_model("compromise")
    fi, fp = predict(comp, cases_i).values, predict(comp, cases_p).values
    assert not np.isnan(fi).any()
    assert np.max(np.abs(fi - fp)) < 1e-9


def test_read_one_proposal(dev_proposals):
    p = read_deu_proposal(DEU, "d05246")
    assert p == next(x for x in dev_proposals if x.id == "d05246")
    assert "be" in p.meta["positions_without_salience"]["d05246i3"]
    with pytest.raises(InputFileError) as info:
        read_deu_proposal(DEU, "nope")
    err = info.value
    assert err.field == "prnr" and err.path == str(DEU)
    assert "nope" in str(err) and "d00032" in err.fix


def test_proposal_rows_need_not_be_adjacent_and_may_disagree_on_procedure(tmp_path):
    path = _write(tmp_path, [
        {"isnr": "d00032i1"},
        {"isnr": "x1i1", "prnr": "x1", "prname": "other"},
        {"isnr": "d00032i2", "proc": "CNS", "counvte": "Unan", "out": ""},
        # no actor with both position and salience: no issue scenario, skipped
        {**{f"s{a}": "" for a in ("com", "ep", *COUNCIL_WEIGHTS)}, "isnr": "x2i1",
         "prnr": "x2"},
    ])
    issues = read_deu(path)
    assert [s.id for s in issues] == ["d00032i1", "x1i1", "d00032i2"]
    props = read_deu(path, by="proposal")
    assert [p.id for p in props] == ["d00032", "x1"]
    p = props[0]
    assert [i.id for i in p.issues] == ["d00032i1", "d00032i2"]
    assert (p.meta["proc"], p.meta["counvte"]) == ("COD", "QMV")
    assert p.meta["outcome"] == {"d00032i1": 100.0, "d00032i2": None}
    assert p.meta["scoreable"] == {"d00032i1": True, "d00032i2": False}
    assert p.meta["lines"] == {"d00032i1": 2, "d00032i2": 4}
    assert props[1].name == "other" and "1 issue " in props[1].description
    with pytest.raises(InputFileError, match="x2"):
        read_deu_proposal(path, "x2")


def test_malformed_rows_raise_in_proposal_mode_too(tmp_path):
    path = _write(tmp_path, [{}, {"isnr": "d00032i9", "pde": "abc"}])
    with pytest.raises(InputFileError) as info:
        read_deu(path, by="proposal")
    assert (info.value.line, info.value.field) == (3, "pde") and info.value.fix
    with pytest.raises(InputFileError, match="twice"):
        read_deu(_write(tmp_path, [{}, {}]), by="proposal")
    with pytest.raises(ValueError, match="proposal"):
        read_deu(DEU, by="row")  # type: ignore[arg-type]


def test_file_selector_picks_issue_then_proposal(dev, dev_proposals):
    assert read_any(f"{DEU}#d00032i2") == dev[1]
    p = read_any(f"{DEU}#d00032")
    assert p == dev_proposals[0] and len(p.issues) == 4
    for sel in ("nope", None):
        with pytest.raises(InputFileError) as info:
            read_any(f"{DEU}#{sel}" if sel else DEU)
        fix = info.value.fix or ""
        assert "#<isnr>" in fix and "#<prnr>" in fix and "d00032i1" in fix and "d00032," in fix
