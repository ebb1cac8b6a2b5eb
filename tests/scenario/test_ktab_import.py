"""KTAB SMP CSV and XML importers."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.errors import InputFileError
from detente.scenario.importers.ktab import looks_like_ktab_csv, read_ktab_csv, read_ktab_xml
from tests.conftest import SHARED_DATA

KTAB_IN = SHARED_DATA / "ktab" / "inputs"

ALL_CSV = ["SOE-Competitive.csv", "SOE-Pol-Comp.csv", "SOE-Policy.csv", "dummyData-a040.csv",
           "dummyData-a080.csv", "dummyData-a160.csv", "dummyData_3Dim-no-final-comma.csv",
           "dummyData_3Dim.csv", "dummyData_6Dim.csv", "rand_a10_d3.csv"]


@pytest.mark.parametrize("name", ALL_CSV)
def test_every_shipped_csv_reads(name: str) -> None:
    assert looks_like_ktab_csv(KTAB_IN / name)
    sc = read_ktab_csv(KTAB_IN / name)
    meta = sc.meta["ktab"]
    assert meta["format"] == "csv" and meta["parameters"] is None
    assert len(sc.stances) == len(sc.actors) * len(sc.issues)
    assert all(i.scale_min == 0 and i.scale_max == 100 for i in sc.issues)
    assert len(meta["accommodation"]) == len(sc.actors)  # identity


def test_dummy_csv_content() -> None:
    sc = read_ktab_csv(KTAB_IN / "dummyData_3Dim.csv")
    assert sc.name == "DummyData_3Dim"
    assert sc.description == "Dummy scenario to test reading format"
    assert sc.issue_ids == ("pstn1", "pstn2", "pstn3")
    assert sc.actor_ids[0] == "sactor-00" and sc.actors[0].capability == 102.543
    st = sc.stance("sactor-02", "pstn3")
    assert st.position == 0.07 and st.salience == 34.62
    assert sc.meta["ktab"]["actor_names"]["sactor-00"] == "SActor-00"
    nf = read_ktab_csv(KTAB_IN / "dummyData_3Dim-no-final-comma.csv")
    assert [s.position for s in nf.stances] == [s.position for s in sc.stances]


def _write(tmp_path: Path, text: str, name: str = "k.csv") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


HEAD = "S,\"d\",3,2,\nActor,Description,Power,P1,S1,P2,S2,\n"


@pytest.mark.parametrize("rows,line,msg", [
    ("A,a,10,50,40,50,40\nB,b,10,50,40,50,40\nC,c,10,50,70,50,40\n", 5, "sum to more than 100"),
    ("A,a,10,50,40,50,40\nB,b,10,150,40,50,40\nC,c,10,50,30,50,40\n", 4, r"outside \[0, 100\]"),
    ("A,a,-1,50,40,50,40\nB,b,10,50,40,50,40\nC,c,10,50,30,50,40\n", 3, "capability"),
    ("A,a,10,50,40,50,40\nB,b,x,50,40,50,40\nC,c,10,50,30,50,40\n", 4, "not a number"),
    ("A,a,10,50,40,50,40\nB,b,10,50,40\nC,c,10,50,30,50,40\n", 4, "fields"),
    ("A,a,10,50,40,50,40\nB,b,10,50,40,50,40\n", 5, "only 2 actor rows"),
    ("A,a,10,50,40,50,40\nA,b,10,50,40,50,40\nC,c,10,50,30,50,40\n", 4, "twice"),
    ("ThisNameIsMuchTooLongForKTAB,a,10,50,40,50,40\nB,b,1,5,4,5,4\nC,c,1,5,3,5,4\n", 3,
     "1 to 25"),
])
def test_csv_errors_name_the_line(tmp_path: Path, rows: str, line: int, msg: str) -> None:
    f = _write(tmp_path, HEAD + rows)
    with pytest.raises(InputFileError, match=msg) as exc:
        read_ktab_csv(f)
    assert exc.value.line == line and str(f) in str(exc.value) and exc.value.fix


def test_csv_actor_count_limits(tmp_path: Path) -> None:
    f = _write(tmp_path, "S,d,2,1\nActor,Description,Power,P,S\nA,a,1,5,5\nB,b,1,5,5\n")
    with pytest.raises(InputFileError, match="3 to 250") as exc:
        read_ktab_csv(f)
    assert exc.value.line == 1


def test_csv_quotes_spaces_duplicate_slugs(tmp_path: Path) -> None:
    f = _write(tmp_path, ' "My Scen" , "a, desc" ,3,1,,,\n'
                         'Actor,Description,Power,"Oil Policy",Sal,,\n'
                         ' "US" , "United States" , 10 , 20 , 30 ,,\n'
                         'u.s.,x,5,40,50\nUs!,y,5,60,50,\n\n')
    sc = read_ktab_csv(f)
    assert sc.name == "My Scen" and sc.issue_ids == ("oil-policy",)
    assert len(set(sc.actor_ids)) == 3 and sc.actors[0].name == "US"


def test_looks_like_ktab_csv(tmp_path: Path) -> None:
    assert not looks_like_ktab_csv(_write(tmp_path, "actor,issue,position\nA,x,1\n", "t.csv"))
    assert not looks_like_ktab_csv(tmp_path / "missing.csv")


# -- XML ------------------------------------------------------------------------------


def test_xml_without_ideal_adjustment_reads() -> None:
    sc = read_ktab_xml(KTAB_IN / "dummyData_3Dim.xml")  # KTAB itself rejects this file
    csv_sc = read_ktab_csv(KTAB_IN / "dummyData_3Dim.csv")
    assert sc.meta["ktab"]["seed"] == 3707583219545544125
    assert [(s.position, s.salience) for s in sc.stances] == \
        [(s.position, s.salience) for s in csv_sc.stances]


def test_xml_empty_dcoord_is_a_clear_error() -> None:
    with pytest.raises(InputFileError, match="dCoord.*empty") as exc:
        read_ktab_xml(KTAB_IN / "smpExample.xml")
    assert exc.value.line == 27 and exc.value.fix


def _smp_example(tmp_path: Path, **subs: str) -> Path:
    text = (KTAB_IN / "smpExample.xml").read_text(encoding="utf-8-sig")
    text = text.replace("<dCoord></dCoord>", "<dCoord>33.0</dCoord>", 1)
    for old, new in subs.items():
        text = text.replace(old, new)
    return _write(tmp_path, text, "smp.xml")


def test_xml_parameters_accommodation_and_both_enum_spellings(tmp_path: Path) -> None:
    sc = read_ktab_xml(_smp_example(tmp_path, **{
        "<VotingRule>PropCbc</VotingRule>": "<VotingRule>Proportional</VotingRule>",
        "<BigRAdjust>OneThird</BigRAdjust>": "<BigRAdjust>No</BigRAdjust>"}))
    meta = sc.meta["ktab"]
    assert meta["parameters"]["VotingRule"] == "Prop"
    assert meta["parameters"]["BigRAdjust"] == "None"
    assert meta["parameters"]["StateTransMode"] == "Stochastic"
    assert meta["parameters"]["PCEModel"] == "MarkovIncentive"
    assert meta["seed"] == 3507583219545544127
    acc = {(a, b): v for a, b, v in meta["accommodation"]}
    assert acc[("bob", "alice")] == 0.07 and acc[("ellie", "ellie")] == 1.0
    sc2 = read_ktab_xml(_smp_example(tmp_path, **{
        "<VotingRule>PropCbc</VotingRule>": "<VotingRule>Prop</VotingRule>",
        "<BigRAdjust>OneThird</BigRAdjust>": "<BigRAdjust>None</BigRAdjust>"}))
    assert sc2.meta["ktab"]["parameters"] == meta["parameters"]


@pytest.mark.parametrize("subs,msg", [
    ({"<VotingRule>PropCbc</VotingRule>": "<VotingRule>Majority</VotingRule>"},
     "unknown VotingRule"),
    ({"<BargnModel>InitOnlyInterp</BargnModel>": ""}, "BargnModel> is missing"),
    ({"<adjust>0.07</adjust>": "<adjust>0.5</adjust>"}, "sum to 1.25"),
    ({"<referencePos>Alice</referencePos>": "<referencePos>Zed</referencePos>"},
     "unknown actor 'Zed'"),
    ({"<dName>YADN</dName>": ""}, "<dCoord> values"),
    ({"<capability>93.2</capability>": "<capability>lots</capability>"}, "not a number"),
])
def test_xml_errors(tmp_path: Path, subs: dict[str, str], msg: str) -> None:
    with pytest.raises(InputFileError, match=msg):
        read_ktab_xml(_smp_example(tmp_path, **subs))


def test_xml_malformed(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="well-formed"):
        read_ktab_xml(_write(tmp_path, "<Scenario><name>x</Scenario>", "bad.xml"))


def test_dispatcher_reads_ktab_files() -> None:
    from detente.scenario.load import load_scenario

    assert load_scenario(KTAB_IN / "dummyData_3Dim.csv").meta["ktab"]["format"] == "csv"
    assert load_scenario(KTAB_IN / "dummyData_3Dim.xml").meta["ktab"]["format"] == "xml"
