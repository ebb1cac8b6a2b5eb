"""Documented cases: importer and the acceptance reference values of issue 2."""

from __future__ import annotations

import pytest

from detente.errors import InputFileError
from detente.models.registry import get_model
from detente.scenario.importers.cases import looks_like_cases, read_cases
from tests.conftest import SHARED_DATA

CASES = SHARED_DATA / "cases" / "cases.csv"


@pytest.fixture(scope="module")
def cases():
    return read_cases(CASES)


def test_counts(cases):
    assert [s.id for s in cases] == ["emission_bdm1994", "china_soe_policy_2014",
                                     "china_soe_competitive_2014", "greece_2015_blog",
                                     "deu_d98195i1", "deu_d04209i1"]
    assert [len(s.actors) for s in cases] == [10, 26, 34, 11, 17, 27]
    assert looks_like_cases(CASES)


def test_every_case_matches_reference_values(cases):
    comp, med = get_model("compromise"), get_model("weighted_median")
    for s in cases:
        assert comp.forecast(s).outcome[0] == pytest.approx(
            s.meta["expected_weighted_mean_cxs"], abs=0.0015), s.id
        assert med.forecast(s).outcome[0] == pytest.approx(
            s.meta["expected_weighted_median_cxs"], abs=1e-9), s.id


def test_emission_case(cases):
    s = cases[0]
    assert (s.issues[0].scale_min, s.issues[0].scale_max) == (4, 10)
    assert s.meta["outcome"] == pytest.approx(8.833)
    assert round(get_model("compromise").forecast(s).outcome[0], 2) == 7.39
    assert get_model("weighted_median").forecast(s).outcome[0] == 7


def test_outcomes_and_reference_points(cases):
    by = {s.id: s for s in cases}
    assert by["china_soe_policy_2014"].meta["outcome"] is None
    assert by["deu_d04209i1"].issues[0].status_quo == 0.0
    assert by["deu_d04209i1"].meta["outcome"] == 0.0


def test_bad_actor_row(tmp_path):
    (tmp_path / "cases.csv").write_text(CASES.read_text())
    text = (SHARED_DATA / "cases" / "case_actors.csv").read_text().splitlines()
    text[3] = text[3].replace(",4,20,", ",four,20,")
    (tmp_path / "case_actors.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(InputFileError) as info:
        read_cases(tmp_path / "cases.csv")
    assert info.value.line == 4 and info.value.field == "position"


def test_unknown_case_in_actors(tmp_path):
    (tmp_path / "cases.csv").write_text(CASES.read_text())
    (tmp_path / "a.csv").write_text("case_id,actor_id,actor_name,position,salience,capability\n"
                                    "nope,x,X,1,1,1\n")
    with pytest.raises(InputFileError, match="unknown case"):
        read_cases(tmp_path / "cases.csv", tmp_path / "a.csv")
