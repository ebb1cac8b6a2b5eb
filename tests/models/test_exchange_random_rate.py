"""Random-rate exchange (``random_rate = p > 0``): the compiled loop (numba) gives forecasts
bit-identical to the NumPy path for the same seed: voting positions of every round,
outcomes and every realised exchange (docs/models/exchange.md, "Random-rate variant")."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from detente.models import _exchange_engine as eng
from detente.models import _exchange_numba as nb
from detente.models.exchange import ExchangeModel
from detente.scenario.schema import Actor, Issue, Scenario, Stance
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.filterwarnings("ignore::detente.errors.NotConvergedWarning")

RATES = (0.25, 0.5, 1.0)
DEU = SHARED_DATA / "deu" / "deu_dev.csv"


def _need_numba() -> None:
    if not nb.AVAILABLE:
        pytest.skip("numba is not installed (detente[fast]): there is no compiled path")


def _forecast(s: Scenario, p: float, seed: int, *, compiled: bool):
    old = eng.USE_NUMBA
    eng.USE_NUMBA = compiled
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ExchangeModel(random_rate=p).forecast(s, rng=seed)
    finally:
        eng.USE_NUMBA = old


def assert_backends_agree(s: Scenario, p: float, seed: int) -> int:
    """Both backends agree exactly; returns the number of realised exchanges."""
    a = _forecast(s, p, seed, compiled=True)
    b = _forecast(s, p, seed, compiled=False)
    assert np.array_equal(a.positions, b.positions, equal_nan=True)  # every round
    assert np.array_equal(a.outcome, b.outcome, equal_nan=True)
    assert np.array_equal(a.rounds, b.rounds)
    assert np.array_equal(a.converged, b.converged)
    # realised exchanges in order (actors, issues, from/to, gain), expected and voting
    # outcomes, candidate and tie counts of every round: exact equality of the floats
    assert a.details == b.details
    return sum(len(r["exchanges"]) for r in a.details["rounds"])


def _deu_proposals(min_issues: int = 3) -> list[Scenario]:
    if not DEU.exists():
        pytest.skip(f"shared DEU data not found at {DEU}")
    from detente.scenario.importers.deu import read_deu

    return [s for s in read_deu(DEU, by="proposal") if len(s.issues) >= min_issues]


@pytest.mark.parametrize("p", RATES)
def test_random_rate_compiled_matches_numpy_deu_sample(p: float) -> None:
    _need_numba()
    props = _deu_proposals()
    for s in props[:6]:
        for seed in (0, 1):
            assert_backends_agree(s, p, seed)


@pytest.mark.slow
@pytest.mark.parametrize("p", RATES)
def test_random_rate_compiled_matches_numpy_all_deu(p: float) -> None:
    _need_numba()
    props = _deu_proposals()
    assert len(props) >= 30
    traded = 0
    for s in props:
        for seed in (0, 1, 2):
            a = _forecast(s, p, seed, compiled=True)
            b = _forecast(s, p, seed, compiled=False)
            assert np.array_equal(a.positions, b.positions, equal_nan=True), (s.id, seed)
            assert a.details == b.details, (s.id, seed)
            traded += sum(len(r["exchanges"]) for r in a.details["rounds"])
    assert traded > 1000  # the proposals do trade: the random split runs many times


def _random_scenario(seed: int, n: int, m: int, twins: int = 0) -> Scenario:
    """n actors x m issues; ``twins`` actors copy another's stances (exact ties)."""
    rng = np.random.default_rng(seed)
    rows = {}
    for i in range(n):
        for k in range(m):
            if rng.random() < 0.85 or i == 0:
                rows[(i, k)] = (float(np.round(rng.uniform(0, 100), 1)),
                                float(rng.choice([0.0, *np.round(rng.uniform(1, 100, 5), 1)])),
                                float(np.round(rng.uniform(0.1, 5), 2)))
    for t in range(twins):
        src = int(rng.integers(n))
        for k in range(m):
            if (src, k) in rows:
                rows[(n + t, k)] = rows[(src, k)]
    stances = [Stance(actor=f"a{i}", issue=f"i{k}", position=x, salience=sal, capability=c)
               for (i, k), (x, sal, c) in sorted(rows.items())]
    return Scenario(id=f"rand{seed}", name="random",
                    issues=tuple(Issue(id=f"i{k}", name=f"i{k}") for k in range(m)),
                    actors=tuple(Actor(id=f"a{i}", name=f"a{i}", capability=1)
                                 for i in range(n + twins)),
                    stances=tuple(stances))


@pytest.mark.parametrize("p", RATES)
@pytest.mark.parametrize("case", [(0, 12, 4, 0), (1, 20, 5, 3), (2, 8, 3, 4), (3, 25, 6, 0)])
def test_random_rate_compiled_matches_numpy_generated(p: float, case) -> None:
    _need_numba()
    seed, n, m, twins = case
    s = _random_scenario(seed, n, m, twins)
    for rng_seed in (0, 7):
        assert_backends_agree(s, p, rng_seed)


def test_random_rate_compiled_matches_numpy_hypothesis() -> None:
    _need_numba()
    hyp = pytest.importorskip("hypothesis")
    from tests.scenario.strategies import scenarios

    st = hyp.strategies

    @hyp.settings(max_examples=60, deadline=None, derandomize=True,
                  suppress_health_check=list(hyp.HealthCheck))
    @hyp.given(scenarios(max_actors=8, max_issues=4), st.sampled_from(RATES),
               st.integers(0, 2**32 - 1))
    def check(s: Scenario, p: float, seed: int) -> None:
        traded.append(assert_backends_agree(s, p, seed))

    traded: list[int] = []
    check()
    # these general scenarios (zero saliences and capabilities, one-actor issues, extreme
    # scales) seldom trade; the dense test below covers trading scenarios
    assert any(n > 0 for n in traded)


def test_random_rate_compiled_matches_numpy_hypothesis_dense() -> None:
    """Denser random scenarios (every actor on most issues, positive saliences, some exact
    twins): most examples trade, and many have ties."""
    _need_numba()
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies

    @st.composite
    def dense(draw) -> Scenario:
        n = draw(st.integers(3, 12))
        m = draw(st.integers(2, 5))
        twins = draw(st.integers(0, 2))
        return _random_scenario(draw(st.integers(0, 2**31)), n, m, twins)

    @hyp.settings(max_examples=30, deadline=None, derandomize=True,
                  suppress_health_check=list(hyp.HealthCheck))
    @hyp.given(dense(), st.sampled_from(RATES), st.integers(0, 2**32 - 1))
    def check(s: Scenario, p: float, seed: int) -> None:
        traded.append(assert_backends_agree(s, p, seed))

    traded: list[int] = []
    check()
    assert sum(n > 0 for n in traded) >= 20


def test_random_rate_refills_resume_the_compiled_loop(monkeypatch) -> None:
    """With tiny pre-drawn blocks the compiled loop stops for a refill after almost every
    realisation and resumes from its saved state: still the NumPy path's forecast."""
    _need_numba()
    s = _random_scenario(1, 20, 5, 3)
    ref = _forecast(s, 0.5, 3, compiled=False)
    calls = {"n": 0}
    real = nb.queue_loop

    def counting(*args):
        calls["n"] += 1
        return real(*args)

    monkeypatch.setattr(nb, "queue_loop", counting)
    monkeypatch.setattr(eng, "REFILL", 0)
    monkeypatch.setattr(eng, "UNI_BLOCK", 1)
    got = _forecast(s, 0.5, 3, compiled=True)
    realised = sum(len(r["exchanges"]) for r in got.details["rounds"])
    assert realised > 50
    assert calls["n"] > realised // 2  # the loop stopped and resumed many times
    assert np.array_equal(got.positions, ref.positions, equal_nan=True)
    assert got.details == ref.details


def test_uniform_stream_reads_the_generator_in_order() -> None:
    g = np.random.default_rng(11)
    u = eng.UniformStream(np.random.default_rng(11), block=5)
    parts = [u.take(3), u.take(7)]
    u.reserve(40)
    parts.append(u.buf[u.pos:u.pos + 2].copy())
    u.pos += 2
    parts.append(u.take(4))
    assert np.array_equal(np.concatenate(parts), g.random(16))


def test_random_rate_still_spreads_and_p_zero_unchanged() -> None:
    s = _random_scenario(0, 12, 4)
    outs = np.array([ExchangeModel(random_rate=0.5).forecast(s, rng=k).outcome
                     for k in range(6)])
    assert outs.std(axis=0).max() > 0.01
    eq = ExchangeModel().forecast(s, rng=4)
    tiny = ExchangeModel(random_rate=1e-12).forecast(s, rng=4)
    assert np.allclose(eq.positions, tiny.positions, atol=1e-8, equal_nan=True)
