"""Behaviour of the KTAB-compatible spatial model: contract, presets, fixed defects."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from detente.errors import ModelError, NotConvergedWarning, ParamsError
from detente.models.explain import explain_lines
from detente.models.registry import get_model
from detente.models.spatial import SpatialModel, SpatialParams
from detente.scenario.importers.ktab import read_ktab_csv
from detente.scenario.schema import Actor, Issue, Scenario, Stance
from tests.conftest import SHARED_DATA

KTAB_IN = SHARED_DATA / "ktab" / "inputs"


def random_scenario(n: int, k: int, seed: int) -> Scenario:
    """Drawn like KTAB's ``smpc --euSMP`` generator."""
    rng = np.random.default_rng(seed)
    issues = tuple(Issue(id=f"d{d}", name=f"Dim {d}") for d in range(k))
    actors, stances = [], []
    for i in range(n):
        actors.append(Actor(id=f"a{i:03d}", name=f"A{i}", capability=float(rng.uniform(10, 200))))
        total = rng.uniform(0.75, 0.99)
        w = rng.uniform(0.1, 1.0, size=k)
        sal = total * w / w.sum() * 100
        for d in range(k):
            stances.append(Stance(actor=f"a{i:03d}", issue=f"d{d}",
                                  position=float(rng.uniform(0, 100)), salience=float(sal[d])))
    return Scenario(id=f"rand-{n}x{k}-{seed}", name="random", issues=issues,
                    actors=tuple(actors), stances=tuple(stances))


def simple(positions: list[list[float]], caps: list[float], sals: list[list[float]],
           *, lo: float = 0.0, hi: float = 100.0) -> Scenario:
    k = len(positions[0])
    issues = tuple(Issue(id=f"i{d}", name=f"I{d}", scale_min=lo, scale_max=hi) for d in range(k))
    actors = tuple(Actor(id=f"x{i}", name=f"X{i}", capability=c) for i, c in enumerate(caps))
    stances = tuple(Stance(actor=f"x{i}", issue=f"i{d}", position=p[d], salience=s[d])
                    for i, (p, s) in enumerate(zip(positions, sals, strict=True))
                    for d in range(k))
    return Scenario(id="simple", name="simple", issues=issues, actors=actors, stances=stances)


@pytest.fixture(scope="module")
def dummy() -> Scenario:
    return read_ktab_csv(KTAB_IN / "dummyData_3Dim.csv")


# -- contract -----------------------------------------------------------------------------


def test_registered_and_tags() -> None:
    m = get_model("spatial")
    assert isinstance(m, SpatialModel)
    assert m.tags.multi_dimensional and m.tags.round_based and not m.tags.per_issue


def test_params_round_trip_and_aliases() -> None:
    p = SpatialParams(VotingRule="Proportional", BigRAdjust="No", accommodation=[["a", "b", 0.2]])
    assert p.VotingRule == "Prop" and p.BigRAdjust == "None"
    assert SpatialParams(**p.model_dump()) == p
    assert SpatialParams.model_validate_json(p.model_dump_json()) == p
    m = SpatialModel(p)
    assert SpatialModel(m.params.model_dump()) == m


@pytest.mark.parametrize("bad", [{"VotingRule": "Majority"}, {"max_turns": 0},
                                 {"nonsense": 1}, {"accommodation": [["a", "b", 1.5]]},
                                 {"preset": "nope"}])
def test_invalid_params(bad: dict) -> None:
    with pytest.raises(ParamsError):
        SpatialModel(**bad)


def test_no_mutation_determinism_pickle(dummy: Scenario) -> None:
    before = dummy.model_dump()
    m = SpatialModel()
    p0 = m.params
    a, b = m.forecast(dummy), m.forecast(dummy)
    assert dummy.model_dump() == before and m.params == p0
    assert np.array_equal(a.positions, b.positions) and np.array_equal(a.outcome, b.outcome)
    m2 = pickle.loads(pickle.dumps(m))
    assert m2 == m and np.array_equal(m2.forecast(dummy).outcome, a.outcome)


def test_outcome_within_scale_and_shapes(dummy: Scenario) -> None:
    fc = SpatialModel().forecast(dummy)
    assert fc.positions.shape == (fc.n_rounds + 1, 7, 3)
    assert np.all((fc.outcome >= 0) & (fc.outcome <= 100))
    out = fc.details["outcomes"]
    assert set(out["expected"]) == set(fc.issue_ids) == set(out["most_probable"])
    fc2 = SpatialModel(outcome="most_probable").forecast(dummy)
    assert list(fc2.outcome) == [out["most_probable"][i] for i in fc.issue_ids]


def test_other_scales_are_mapped() -> None:
    s100 = simple([[10, 80], [60, 20], [90, 50], [40, 40]], [100, 60, 80, 30],
                  [[50, 30], [20, 60], [40, 40], [30, 30]])
    s_shift = simple([[-40 + 2 * p for p in row] for row in [[10, 80], [60, 20], [90, 50],
                                                              [40, 40]]],
                     [100, 60, 80, 30], [[50, 30], [20, 60], [40, 40], [30, 30]], lo=-40, hi=160)
    a, b = SpatialModel().forecast(s100), SpatialModel().forecast(s_shift)
    assert np.allclose(-40 + 2 * a.positions, b.positions, atol=1e-9)


def test_unanimity_single_and_two_actors() -> None:
    same = simple([[30, 70]] * 4, [10, 20, 30, 40], [[50, 50]] * 4)
    fc = SpatialModel().forecast(same)
    assert np.allclose(fc.outcome, [30, 70])
    one = simple([[25, 60]], [5], [[40, 40]])
    fc1 = SpatialModel().forecast(one)
    assert np.allclose(fc1.outcome, [25, 60]) and bool(fc1.converged.all())
    two = simple([[20, 60], [80, 40]], [50, 50], [[60, 30], [30, 60]])
    fc2 = SpatialModel().forecast(two)
    assert np.all((fc2.outcome >= 20) & (fc2.outcome <= 80))


def test_order_renaming_and_capability_scaling(dummy: Scenario) -> None:
    base = SpatialModel().forecast(dummy)
    perm = [3, 0, 6, 2, 5, 1, 4]
    shuffled = dummy.model_copy(update={"actors": tuple(dummy.actors[i] for i in perm)})
    fc = SpatialModel().forecast(shuffled)
    assert np.allclose(fc.outcome, base.outcome, atol=1e-9)
    assert np.allclose(fc.positions, base.positions[:, perm, :], atol=1e-9)
    ren = {a.id: f"zz-{n}" for n, a in enumerate(dummy.actors)}
    renamed = Scenario.model_validate({
        **dummy.model_dump(),
        "actors": [{**a.model_dump(), "id": ren[a.id]} for a in dummy.actors],
        "stances": [{**s.model_dump(), "actor": ren[s.actor]} for s in dummy.stances],
        "meta": {}})
    assert np.allclose(SpatialModel().forecast(renamed).outcome, base.outcome, atol=1e-9)
    scaled = dummy.model_copy(update={"actors": tuple(
        a.model_copy(update={"capability": a.capability * 10}) for a in dummy.actors)})
    assert np.allclose(SpatialModel().forecast(scaled).outcome, base.outcome, atol=1e-6)


def test_stochastic_seeds(dummy: Scenario) -> None:
    m = SpatialModel(StateTransMode="Stochastic")
    a, b = m.forecast(dummy, rng=7), m.forecast(dummy, rng=7)
    assert np.array_equal(a.positions, b.positions)
    others = [m.forecast(dummy, rng=s) for s in (8, 9, 10)]
    assert any(o.positions.shape != a.positions.shape or
               not np.array_equal(o.positions, a.positions) for o in others)


# -- explanation records ----------------------------------------------------------------


def test_rounds_details_and_explain(dummy: Scenario) -> None:
    fc = SpatialModel().forecast(dummy)
    rounds = fc.details["rounds"]
    assert len(rounds) == fc.n_rounds
    r1 = rounds[0]
    assert {"turn", "risk", "probabilities", "ideals", "bargains", "moves"} <= set(r1)
    b = r1["bargains"][0]
    assert {"initiator", "receiver", "initiator_coords", "receiver_coords",
            "initiator_selected", "receiver_selected", "value"} <= set(b)
    mv = r1["moves"][0]
    assert {"round", "actor", "issue", "from", "to", "kind", "counterpart", "reason"} <= set(mv)
    a = fc.actor_ids.index(mv["actor"])
    k = fc.issue_ids.index(mv["issue"])
    assert fc.positions[1, a, k] == mv["to"]
    lines = explain_lines(fc, mv["actor"])
    assert lines and "bargain" in lines[0]
    import json

    json.dumps(fc.details, allow_nan=False)


# -- KTAB quirks: reproduced under the preset, fixed in the default ----------------------


def test_degenerate_inputs() -> None:
    ident = simple([[40, 40]] * 3, [10, 10, 10], [[50, 50]] * 3)
    zero_cap = simple([[10, 90], [50, 50], [90, 10]], [0, 50, 60], [[50, 50]] * 3)
    zero_sal = simple([[10, 90], [50, 50], [90, 10]], [40, 50, 60],
                      [[0, 0], [50, 50], [50, 50]])
    for sc in (ident, zero_cap, zero_sal):
        fc = SpatialModel().forecast(sc)
        assert np.all(np.isfinite(fc.outcome))
        with pytest.raises(ModelError, match="ktab preset"):
            SpatialModel(preset="ktab").forecast(sc)


def test_big_r_adjust_full(dummy: Scenario) -> None:
    assert np.all(np.isfinite(SpatialModel(BigRAdjust="Full").forecast(dummy).outcome))
    with pytest.raises(ModelError, match="BigRAdjust=Full"):
        SpatialModel(preset="ktab", BigRAdjust="Full").forecast(dummy)


def test_no_and_full_commit(dummy: Scenario) -> None:
    k_no = SpatialModel(preset="ktab", ThirdPartyCommit="NoCommit").forecast(dummy)
    k_full = SpatialModel(preset="ktab", ThirdPartyCommit="FullCommit").forecast(dummy)
    assert np.array_equal(k_no.positions, k_full.positions)  # KTAB's defect, reproduced
    d_no = SpatialModel(ThirdPartyCommit="NoCommit").forecast(dummy)
    d_full = SpatialModel(ThirdPartyCommit="FullCommit").forecast(dummy)
    assert not (d_no.positions.shape == d_full.positions.shape
                and np.array_equal(d_no.positions, d_full.positions))


@pytest.mark.parametrize("bm", ["InitRcvrInterp", "PWCompInterp"])
def test_receiver_view_bargains(dummy: Scenario, bm: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        a = SpatialModel(BargnModel=bm).forecast(dummy)
        b = SpatialModel(preset="ktab", BargnModel=bm).forecast(dummy)
    assert np.all(np.isfinite(a.outcome)) and np.all(np.isfinite(b.outcome))


def test_cycle_detection() -> None:
    sc = random_scenario(6, 3, 49)  # a two-state cycle (KTAB runs it to the 100-turn cap)
    with pytest.warns(NotConvergedWarning):
        fc = SpatialModel().forecast(sc)
    assert fc.details["stop_reason"] == "cycle" and fc.details["cycle"]["period"] == 2
    assert fc.n_rounds < 30
    with pytest.warns(NotConvergedWarning):
        k = SpatialModel(preset="ktab").forecast(sc)
    assert k.n_rounds == 100 and k.details["cycle"] is None


@pytest.mark.parametrize("param,values", [
    ("VictoryProbModel", ["Square", "Quartic", "Octic", "Binary"]),
    ("PCEModel", ["MarkovIncentive", "MarkovUniform"]),
    ("VotingRule", ["Binary", "PropBin", "PropCbc", "Cubic", "ASymProsp"]),
    ("BigRAdjust", ["None", "Half", "TwoThirds"]),
    ("BigRRange", ["Min", "Max"]),
    ("InterVecBrgn", ["S1P1", "S2PMax"]),
])
def test_every_parameter_value_runs(dummy: Scenario, param: str, values: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        for v in values:
            fc = SpatialModel(**{param: v}).forecast(dummy)
            assert np.all((fc.outcome >= 0) & (fc.outcome <= 100)), (param, v)


# -- non-KTAB scenarios --------------------------------------------------------------------


def test_missing_stances_and_salience_overflow() -> None:
    issues = (Issue(id="a", name="A"), Issue(id="b", name="B"))
    actors = tuple(Actor(id=f"p{i}", name=f"P{i}", capability=10 + i) for i in range(4))
    stances = (Stance(actor="p0", issue="a", position=10, salience=90),
               Stance(actor="p0", issue="b", position=20, salience=80),  # sums to 170
               Stance(actor="p1", issue="a", position=70, salience=50),
               Stance(actor="p2", issue="a", position=40, salience=30),
               Stance(actor="p2", issue="b", position=90, salience=60),
               Stance(actor="p3", issue="b", position=55, salience=40))
    sc = Scenario(id="gaps", name="gaps", issues=issues, actors=actors, stances=stances)
    fc = SpatialModel().forecast(sc)
    assert np.isnan(fc.positions[:, 1, 1]).all() and np.isnan(fc.positions[:, 3, 0]).all()
    assert np.all(np.isfinite(fc.outcome))
    assert fc.details["salience"]["p0"]["a"] + fc.details["salience"]["p0"]["b"] == \
        pytest.approx(1.0)
    with pytest.raises(ModelError, match="sum to 170"):
        SpatialModel(salience_overflow="error").forecast(sc)


def test_bundled_ukraine_scenario_runs() -> None:
    from detente.scenario.load import load_scenario

    sc = load_scenario("ukraine-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        fc = SpatialModel().forecast(sc, rng=0)
    for k, iss in enumerate(sc.issues):
        assert iss.scale_min <= fc.outcome[k] <= iss.scale_max


def test_accommodation_from_xml_meta(tmp_path) -> None:
    text = (KTAB_IN / "smpExample.xml").read_text(encoding="utf-8-sig")
    text = text.replace("<dCoord></dCoord>", "<dCoord>33.0</dCoord>", 1)
    f = tmp_path / "smp.xml"
    f.write_text(text, encoding="utf-8")
    from detente.scenario.importers.ktab import read_ktab_xml

    sc = read_ktab_xml(f)
    m = SpatialModel(StateTransMode="Deterministic")  # explicit beats the file's Stochastic
    eff = m.effective_params(sc)
    assert eff.PCEModel == "MarkovIncentive" and eff.VotingRule == "PropCbc"
    assert eff.StateTransMode == "Deterministic"
    assert ("alice", "alice", 0.87) in eff.accommodation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        fc = m.forecast(sc)
    r1 = fc.details["rounds"][0]
    alice = fc.actor_ids.index("alice")
    moved = not np.allclose(fc.positions[1, alice], fc.positions[0, alice])
    ideal = np.array(list(r1["ideals"]["alice"].values()))
    if moved:  # a lagging ideal sits between the old and the new position
        assert not np.allclose(ideal, fc.positions[1, alice])
    ident = SpatialModel(StateTransMode="Deterministic", accommodation="identity")
    assert ident.effective_params(sc).accommodation == "identity"


def test_positions_only_record_keeps_the_run_and_drops_the_bargain_log() -> None:
    """record='positions' (KTAB with logging off) gives the same run without per-turn logs."""
    from detente.scenario.load import load_scenario

    s = load_scenario("ukraine-2025")
    full = SpatialModel().forecast(s)
    lean = SpatialModel(record="positions").forecast(s)
    assert np.array_equal(full.positions, lean.positions, equal_nan=True)
    assert np.array_equal(full.outcome, lean.outcome)
    assert full.details["outcomes"]["path"] == lean.details["outcomes"]["path"]
    assert full.details["rounds"] and lean.details["rounds"] == []
    assert any("moved" in line for line in explain_lines(lean, "ua"))
