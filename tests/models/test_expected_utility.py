"""Tests of the expected-utility model (models.md §1): the worked numbers of §1.11, the
ten-round paths of the variant table, the closed form of §1.6, kernel cross-checks, the
batched entry, explanations and the conformance checks under every preset."""

from __future__ import annotations

import csv
import importlib.util
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.errors import NotConvergedWarning, ParamsError
from detente.models import _eu_kernels as K
from detente.models.expected_utility import (
    ExpectedUtilityModel,
    compute_round,
    expected_utility_matrix,
    explain_lines,
    mean_voter,
    median_voter,
    quad_map,
    risk_exponents,
    solve_batch,
    win_probability,
)
from detente.models.registry import get_model
from detente.scenario.schema import Scenario
from detente.testing.conformance import run_checks
from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["netherlands", "belgium", "luxembourg", "germany", "france", "italy", "uk",
         "ireland", "denmark", "greece"]
NL, BE, LU, DE, FR, IT, UK, IE, DK, GR = range(10)
NOSTOP = {"tol": 0.0, "detect_cycles": False, "max_rounds": 10}


def _emission_rows() -> list[dict[str, str]]:
    path = SHARED_DATA / "cases" / "case_actors.csv"
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["case_id"] == "emission_bdm1994"]
    assert [r["actor_id"] for r in rows] == NAMES
    return rows


@pytest.fixture(scope="module")
def emission() -> Scenario:
    rows = _emission_rows()
    return Scenario(
        id="emission", name="EC emission standards (BDM 1994)",
        issues=[dict(id="year", name="Years until standards apply", scale_min=4, scale_max=10)],
        actors=[dict(id=r["actor_id"], name=r["actor_name"], capability=float(r["capability"]))
                for r in rows],
        stances=[dict(actor=r["actor_id"], issue="year", position=float(r["position"]),
                      salience=float(r["salience"])) for r in rows],
    )


@pytest.fixture(scope="module")
def arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = _emission_rows()
    x = np.array([float(r["position"]) for r in rows])
    c = np.array([float(r["capability"]) for r in rows])
    s = np.array([float(r["salience"]) for r in rows]) / 100.0
    return x, c, s


def _run(scenario: Scenario, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotConvergedWarning)
        return ExpectedUtilityModel(**params).forecast(scenario)


def _bench_module():
    spec = importlib.util.spec_from_file_location(
        "bench_expected_utility", ROOT / "benchmarks" / "bench_expected_utility.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------ §1.3, §1.11


def test_median_and_mean_of_the_example(arrays):
    x, c, s = arrays
    assert median_voter(x, c, s) == 7.0
    assert round(mean_voter(x, c, s), 2) == 7.39


def test_paper_pair_belgium_france(arrays):
    x, c, s = arrays
    p = win_probability(x, c, s, 6.0, "paper")
    assert round(p[BE, FR], 4) == 0.5037
    assert round(p[FR, BE], 4) == 0.4963
    eu = expected_utility_matrix(x, s, 6.0, p)
    assert round(eu[BE, FR], 4) == 0.4044
    assert round(eu[FR, BE], 4) == 0.5970
    # both positive, France's larger: a conflict Belgium expects to lose
    assert 0 < eu[BE, FR] < eu[FR, BE]


def test_paper_threats_and_risk_exponents(arrays):
    x, c, s = arrays
    eu = expected_utility_matrix(x, s, 6.0, win_probability(x, c, s, 6.0, "paper"))
    threat = eu.sum(axis=0)
    assert round(threat[LU], 2) == 7.54
    assert round(threat[UK], 3) == 0.035
    r = risk_exponents(eu)
    expected = [1.117, 1.004, 0.50, 1.117, 1.018, 1.018, 2.00, 0.648, 1.454, 1.557]
    np.testing.assert_allclose(r, expected, atol=5e-4)


@pytest.mark.parametrize("prob, expected", [
    ("net", [1.127, 0.781, 0.5, 1.127, 1.078, 1.078, 2.0, 0.525, 1.472, 1.140]),
    ("triples", [1.406, 0.754, 0.509, 1.406, 1.047, 1.047, 1.965, 0.5, 2.0, 1.112]),
])
def test_risk_exponents_of_net_and_triples(arrays, prob, expected):
    x, c, s = arrays
    eu = expected_utility_matrix(x, s, 6.0, win_probability(x, c, s, 6.0, prob))
    np.testing.assert_allclose(risk_exponents(eu), expected, atol=5e-4)
    st_ = compute_round(x, c, s, 6.0, {"prob": prob})
    np.testing.assert_allclose(st_.r[0], expected, atol=5e-4)


def test_scholz_round_one_belgium(arrays):
    x, c, s = arrays
    st_ = compute_round(x, c, s, 6.0, {"preset": "scholz"})
    r_b = st_.r[0, BE]
    assert round(r_b, 4) == 0.7542
    assert round(st_.p[0, BE, FR], 5) == 0.00731
    assert round(st_.p[0, FR, BE], 5) == 0.00458
    assert round(2 - 4 * 0.25 ** r_b, 4) == 0.5940
    assert round(2 - 4 * 0.75 ** r_b, 4) == -1.2198
    assert round(2 - 4 * 0.5 ** r_b, 4) == -0.3715
    a, b = st_.a[0, BE, FR], st_.b[0, BE, FR]
    assert round(a, 4) == -0.1148
    assert round(b, 4) == 0.2433
    assert st_.kind[0, BE, FR] == K.KIND_COMPROMISE
    assert round(-a / b, 4) == 0.4720
    assert round(st_.new[0, BE], 3) == 8.416
    assert round(st_.new[0, BE], 4) == 8.4159
    assert st_.new[0, LU] == 7.0 and st_.new[0, IE] == 4.0
    assert int((st_.new[0] != x).sum()) == 3


def test_scholz_belgium_through_the_model(emission):
    f = _run(emission, preset="scholz")
    assert round(float(f.positions[1, BE, 0]), 3) == 8.416
    first = f.details["year"]["moves"][0]
    be = next(m for m in first if m["actor"] == "belgium")
    assert be["kind"] == "compromise" and be["counterpart"] == "france"
    assert round(be["eu_own"], 4) == -0.1148 and round(be["eu_other"], 4) == 0.2433


# ------------------------------------------------------------------------------ ten rounds


SCHOLZ_PATH = [8.42, 9.61, 9.96, 9.96, 9.96, 7.47, 8.82, 9.67, 9.67, 7.0]
TRIPLES_LEAST_MOVE = [8.42, 9.47, 9.93, 10, 10, 10, 10, 10, 7.0, 8.22]


def test_exact_jmckib_replication(emission):
    det = _run(emission, preset="scholz", stop=NOSTOP).details["year"]
    np.testing.assert_allclose(det["median"][1:], SCHOLZ_PATH, atol=0.005)
    np.testing.assert_allclose(det["mean"][1:7],
                               [7.4613, 7.5525, 7.5901, 7.3581, 7.3492, 7.4149], atol=5e-5)
    assert round(det["mean"][10], 2) == 7.24
    assert len(det["moves"][0]) == 3


def test_triples_least_move(emission):
    """The §1.11 row 'triples (least-move offers)'.

    Rounds 1-7 match exactly. In round 7 Belgium stands 8e-14 short of France and the
    offers it gets have EU_ij, EU_ji ~ 5e-15: the spec's reference computed them as
    differences of O(1) utilities, i.e. as rounding noise, took a 'compromise' to
    9.999999999999991 and needed an extra round to reach 10. Computed without
    cancellation (as here) Belgium reaches 10 in round 7, so rounds 8-9 here equal the
    spec's rounds 9-10 (one round earlier). The naive plain loop reproduces the spec row.
    """
    det = _run(emission, prob="triples", offer_pick="least_move", stop=NOSTOP).details["year"]
    med = det["median"][1:]
    np.testing.assert_allclose(med[:7], TRIPLES_LEAST_MOVE[:7], atol=0.005)
    np.testing.assert_allclose(med[7:9], TRIPLES_LEAST_MOVE[8:10], atol=0.005)
    assert round(det["mean"][9], 2) == 7.47  # the spec's "c·s mean after 10"
    assert len(det["moves"][0]) == 3


def test_naive_plain_loop_reproduces_the_spec_triples_row(arrays):
    bench = _bench_module()
    x, c, s = (list(map(float, a)) for a in arrays)
    meds = []
    for _ in range(10):
        x, _r, _mu = bench.reference_round(x, c, s, 6.0, prob="triples")
        meds.append(median_voter(x, c, s))
    np.testing.assert_allclose(meds, TRIPLES_LEAST_MOVE, atol=0.005)
    w = np.array(c) * np.array(s)
    assert round(float((w * np.array(x)).sum() / w.sum()), 2) == 7.47


@pytest.mark.parametrize("prob, means, movers", [
    ("paper", (6.93, 7.11), (7, 9)),
    ("net", (7.25, 7.42), (2, 3)),
    ("exclude_ij", (6.52, 7.00), (6, 10)),
])
@pytest.mark.parametrize("risk_view", ["own", "perceiver"])
@pytest.mark.parametrize("q", [1.0, 0.5])
def test_paper_net_exclude_stay_at_seven(emission, prob, means, movers, risk_view, q):
    det = _run(emission, prob=prob, risk_view=risk_view, Q=q, stop=NOSTOP).details["year"]
    assert det["median"][1:] == [7.0] * 10
    assert means[0] - 0.005 <= det["mean"][10] <= means[1] + 0.005
    assert movers[0] <= len(det["moves"][0]) <= movers[1]


def test_net_means_by_q(emission):
    m1 = _run(emission, prob="net", Q=1.0, stop=NOSTOP).details["year"]["mean"][10]
    m5 = _run(emission, prob="net", Q=0.5, stop=NOSTOP).details["year"]["mean"][10]
    assert (round(m1, 2), round(m5, 2)) == (7.25, 7.42)


# ------------------------------------------------------------------------------ closed form


def _random_issue(draw, n_min=2, n_max=9):
    n = draw(st.integers(n_min, n_max))
    pos = st.floats(0, 10, allow_nan=False).map(lambda v: round(v, 2))
    x = np.array(draw(st.lists(pos, min_size=n, max_size=n)))
    c = np.array(draw(st.lists(st.floats(0.01, 5), min_size=n, max_size=n)))
    s = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    return x, c, s


@st.composite
def issues(draw):
    return _random_issue(draw)


@settings(max_examples=60, deadline=None)
@given(issues(), st.sampled_from(["paper", "net", "exclude_ij", "triples"]))
def test_closed_form_r1_q1(issue, prob):
    x, c, s = issue
    p = win_probability(x, c, s, 10.0, prob)
    eu = expected_utility_matrix(x, s, 10.0, p)
    d = np.abs(x[:, None] - x[None, :]) / 10.0
    closed = 2 * d * (1 - 2 * s[None, :] * (1 - p))
    np.fill_diagonal(closed, 0.0)
    np.testing.assert_allclose(eu, closed, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(issues(), st.sampled_from(["paper", "net", "exclude_ij", "triples"]),
       st.booleans())
def test_prefix_probabilities_equal_the_vote_tensor(issue, prob, with_risk):
    x, c, s = issue
    r = np.linspace(0.5, 2.0, x.size) if with_risk else None
    fast = win_probability(x, c, s, 10.0, prob, r, method="prefix")
    slow = win_probability(x, c, s, 10.0, prob, r, method="direct")
    np.testing.assert_allclose(fast, slow, atol=1e-12)
    if prob == "paper":
        off = ~np.isclose(x[:, None], x[None, :])
        np.testing.assert_allclose((fast + fast.T)[off], 1.0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(issues(), st.sampled_from([
    {}, {"prob": "triples"}, {"preset": "scholz"}, {"prob": "net", "risk_view": "own"},
    {"prob": "exclude_ij", "Q": 0.5, "T": 0.3}, {"offer_pick": "max_sender_eu"},
    {"threat": "own", "capitulation": False}, {"prob": "triples", "voter_risk": False},
]))
def test_vectorised_round_equals_plain_loop(issue, params):
    bench = _bench_module()
    x, c, s = issue
    model = ExpectedUtilityModel(**params)
    prm = model.params
    st_ = compute_round(x, c, s, 10.0, prm)
    new, r, mu = bench.reference_round(
        x, c, s, 10.0, prob=prm.prob, voter_risk=prm.voter_risk, risk_view=prm.risk_view,
        Q=prm.Q, T=prm.T, threat=prm.threat, offer_pick=prm.offer_pick,
        capitulation=prm.capitulation)
    assert mu == pytest.approx(float(st_.mu[0]))
    np.testing.assert_allclose(st_.r[0], r, atol=1e-9)
    np.testing.assert_allclose(st_.new[0], new, atol=1e-9)


# ------------------------------------------------------------------------------ stopping


CYCLE = dict(x=[1.0, 3.0, 3.0], c=[4.0, 3.0, 1.0], s=[0.5, 0.4, 0.8])


def _cycle_scenario() -> Scenario:
    return Scenario(
        id="cyc", name="cycle", issues=[dict(id="i", name="i", scale_min=0, scale_max=4)],
        actors=[dict(id=f"a{k}", name=f"A{k}", capability=CYCLE["c"][k]) for k in range(3)],
        stances=[dict(actor=f"a{k}", issue="i", position=CYCLE["x"][k],
                      salience=100 * CYCLE["s"][k]) for k in range(3)],
    )


def test_cycle_is_reported_and_averaged():
    sc = _cycle_scenario()
    with pytest.warns(NotConvergedWarning):
        f = ExpectedUtilityModel(preset="scholz", stop={"max_rounds": 40}).forecast(sc)
    det = f.details["i"]
    cyc = det["cycle"]
    assert det["stopped"] == "cycle" and not f.converged[0]
    assert cyc["period"] == 2 and len(cyc["forecasts"]) == 2
    assert f.outcome[0] == pytest.approx(np.mean(cyc["forecasts"]))
    assert cyc["forecasts"] == pytest.approx(det["median"][cyc["start"]:cyc["start"] + 2])
    b = solve_batch(np.array([CYCLE["x"]]), CYCLE["c"], CYCLE["s"], width=4.0,
                    params={"preset": "scholz", "stop": {"max_rounds": 40}})
    assert b.cycle_period[0] == 2 and b.outcome[0] == pytest.approx(f.outcome[0])


def test_convergence_stops_early(emission):
    f = _run(emission, prob="triples", stop={"max_rounds": 100})
    assert f.converged[0] and f.rounds[0] < 100
    assert f.outcome[0] == pytest.approx(f.details["year"]["median"][-1])


def test_mean_forecast(emission):
    f = _run(emission, forecast="mean")
    assert f.outcome[0] == pytest.approx(f.details["year"]["mean"][-1])


def test_single_actor_and_unanimity():
    sc = Scenario(id="u", name="u", issues=[dict(id="i", name="i")],
                  actors=[dict(id="a", name="a", capability=1), dict(id="b", name="b",
                                                                     capability=2)],
                  stances=[dict(actor="a", issue="i", position=40, salience=50),
                           dict(actor="b", issue="i", position=40, salience=90)])
    f = _run(sc, preset="scholz")
    assert f.outcome[0] == 40 and f.converged[0]


# ------------------------------------------------------------------------------ batch


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([{}, {"preset": "scholz"},
                                                {"prob": "net", "offer_pick": "jmckib"}]))
def test_solve_batch_equals_the_model(seed, params):
    rng = np.random.default_rng(seed)
    bsz, n = 6, 5
    x = rng.integers(0, 9, (bsz, n)).astype(float)
    c = rng.uniform(0.1, 1, (bsz, n))
    s = rng.uniform(0.05, 1, (bsz, n))
    params = {**params, "stop": {"max_rounds": 25}}
    res = solve_batch(x, c, s, width=8.0, params=params)
    for b in range(bsz):
        sc = Scenario(
            id="d", name="d", issues=[dict(id="i", name="i", scale_min=0, scale_max=8)],
            actors=[dict(id=f"a{k}", name="a", capability=float(c[b, k])) for k in range(n)],
            stances=[dict(actor=f"a{k}", issue="i", position=float(x[b, k]),
                          salience=float(100 * s[b, k])) for k in range(n)])
        # saliences go through /100 in the scenario; feed the batch the same numbers
        s_b = np.array([st_.salience / 100 for st_ in sc.stances])
        one = solve_batch(x[b:b + 1], c[b], s_b, width=8.0, params=params)
        f = _run(sc, **params)
        assert f.outcome[0] == pytest.approx(one.outcome[0], abs=1e-9)
        assert f.rounds[0] == one.rounds[0] and f.converged[0] == one.converged[0]
        assert res.outcome[b] == pytest.approx(one.outcome[0], abs=1e-6)


def test_batch_without_numba_matches(monkeypatch, arrays):
    x, c, s = arrays
    rng = np.random.default_rng(0)
    draws = np.clip(s + rng.normal(0, 0.05, (50, 10)), 0, 1)
    xb = np.broadcast_to(x, (50, 10))
    fast = solve_batch(xb, c, draws, width=6.0, params={"preset": "scholz"})
    monkeypatch.setattr(K, "_nb", None)
    slow = solve_batch(xb, c, draws, width=6.0, params={"preset": "scholz"})
    np.testing.assert_allclose(fast.outcome, slow.outcome, atol=1e-9)
    np.testing.assert_array_equal(fast.rounds, slow.rounds)


# ------------------------------------------------------------------------------ explain


def test_move_records_follow_the_shared_format(emission):
    f = _run(emission, preset="scholz")
    det = f.details["year"]
    assert len(det["moves"]) == f.rounds[0] == len(det["risk"])
    assert len(det["median"]) == len(det["mean"]) == f.rounds[0] + 1
    assert det["risk"][0]["belgium"] == pytest.approx(0.7542, abs=5e-5)
    for t, row in enumerate(det["moves"], start=1):
        for m in row:
            assert {"round", "actor", "from", "to", "kind", "counterpart", "reason",
                    "eu_own", "eu_other"} <= set(m)
            assert m["round"] == t and m["kind"] in ("conflict", "compromise", "capitulation")
            a = f.actor_ids.index(m["actor"])
            assert f.positions[t, a, 0] == pytest.approx(m["to"])
            assert f.positions[t - 1, a, 0] == pytest.approx(m["from"])


def test_explain_lines(emission):
    f = _run(emission, preset="scholz")
    lines = explain_lines(f, "belgium")
    assert len(lines) == f.rounds[0]
    assert lines[0].startswith("round 1: belgium moved 7 -> 8.416 because ")
    assert "france" in lines[0] and "conceded" in lines[0]
    stay = explain_lines(f, "uk")
    assert all("stayed at 10" in ln for ln in stay)
    assert explain_lines(f, "belgium", "year") == lines
    with pytest.raises(Exception, match="unknown actor"):
        explain_lines(f, "nobody")
    from detente.models.explain import explain_lines as generic

    g = generic(f, "belgium")
    assert len(g) == f.rounds[0] and "compromise with france" in g[0]


def test_quad_map(emission):
    rows = quad_map(emission, "year", "belgium", ExpectedUtilityModel(preset="paper"))
    assert {r["actor"] for r in rows} == set(NAMES) - {"belgium"}
    fr = next(r for r in rows if r["actor"] == "france")
    assert fr["quadrant"] == "conflict" and fr["side"] == "i_loses"
    assert fr["eu_ij"] > 0 and fr["eu_ji"] > fr["eu_ij"]
    gr = next(r for r in rows if r["actor"] == "greece")
    assert gr["quadrant"] == "same_position"
    later = quad_map(emission, "year", "belgium", ExpectedUtilityModel(preset="scholz"),
                     round=1)
    fr1 = next(r for r in later if r["actor"] == "france")
    assert fr1["position"] == 10.0 and fr1["quadrant"] in (
        "conflict", "compromise", "capitulation", "stalemate")


# ------------------------------------------------------------------------------ contract


def test_params_and_presets():
    m = get_model("expected_utility", preset="scholz")
    assert m.params.prob == "triples" and m.params.offer_pick == "jmckib"
    assert not m.params.capitulation and m.params.uses_voter_risk
    assert ExpectedUtilityModel(preset="paper").params.prob == "paper"
    d = ExpectedUtilityModel().params
    assert (d.prob, d.risk_view, d.Q, d.T, d.offer_pick, d.capitulation, d.stop.max_rounds,
            d.forecast) == ("paper", "perceiver", 1.0, 1.0, "least_move", True, 10, "median")
    for bad in ({"prob": "nope"}, {"Q": 1.5}, {"offer_pick": "x"}, {"stop": {"tol": "a"}},
                {"risk_view": "mine"}):
        with pytest.raises(ParamsError):
            ExpectedUtilityModel(**bad)
    m2 = pickle.loads(pickle.dumps(m))
    assert m2 == m


def test_risk_over_positions(arrays):
    x, c, s = arrays
    st_ = compute_round(x, c, s, 6.0, {"risk_set": "positions"})
    assert np.all((st_.r >= 0.5 - 1e-12) & (st_.r <= 2 + 1e-12))
    assert not np.allclose(st_.r, compute_round(x, c, s, 6.0).r)


class _Scholz(ExpectedUtilityModel):
    presets = {**ExpectedUtilityModel.presets}

    def __init__(self, params=None, /, **kw):
        if params is None and not kw:
            kw = {"preset": "scholz"}
        super().__init__(params, **kw)


class _TriplesOwn(ExpectedUtilityModel):
    def __init__(self, params=None, /, **kw):
        if params is None and not kw:
            kw = {"prob": "triples", "risk_view": "own", "Q": 0.5, "T": 0.5,
                  "threat": "own", "offer_pick": "max_sender_eu"}
        super().__init__(params, **kw)


@pytest.mark.parametrize("cls", [ExpectedUtilityModel, _Scholz, _TriplesOwn])
def test_conformance(cls):
    results = run_checks(cls, skip=("known_answers",) if cls is not ExpectedUtilityModel
                         else ())
    assert all(v == "passed" for v in results.values()), results
