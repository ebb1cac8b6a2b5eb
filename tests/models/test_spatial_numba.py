"""The compiled spatial kernel (optional numba extra) gives the NumPy kernel's runs.

Compiling the kernel takes a while on a machine whose numba cache is cold, so the module-scoped
fixture compiles it once; the comparisons themselves are fast."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from detente.errors import ModelError, NotConvergedWarning
from detente.models import spatial_kernel as sk
from detente.models.spatial import SpatialModel, round6
from detente.scenario.importers.ktab import read_ktab_csv
from detente.scenario.schema import Actor, Issue, Scenario, Stance
from tests.conftest import SHARED_DATA

KTAB = SHARED_DATA / "ktab"

numba = pytest.importorskip("numba")


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    sk.warm_up()


def _random(n: int, k: int, seed: int) -> Scenario:
    rng = np.random.default_rng(seed)
    issues = tuple(Issue(id=f"d{d}", name=f"D{d}") for d in range(k))
    actors, stances = [], []
    for i in range(n):
        actors.append(Actor(id=f"a{i}", name=f"A{i}", capability=float(rng.uniform(10, 200))))
        w = rng.uniform(0.1, 1.0, size=k)
        sal = rng.uniform(0.75, 0.99) * w / w.sum() * 100
        for d in range(k):
            stances.append(Stance(actor=f"a{i}", issue=f"d{d}",
                                  position=float(rng.uniform(0, 100)), salience=float(sal[d])))
    return Scenario(id=f"r{n}x{k}s{seed}", name="r", issues=issues, actors=tuple(actors),
                    stances=tuple(stances))


def _close(a: object, b: object, path: str = "") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=0, abs=1e-9), path
    else:
        assert a == b, path


def _both(model: SpatialModel, sc: Scenario) -> tuple:
    out = []
    for backend in ("numpy", "numba"):
        with sk.use_backend(backend), warnings.catch_warnings():
            warnings.simplefilter("ignore", NotConvergedWarning)
            out.append(model.forecast(sc))
    return tuple(out)


@pytest.mark.parametrize("name", ["dummyData_3Dim", "rand_a10_d3", "SOE-Pol-Comp"])
@pytest.mark.parametrize("preset", ["ktab", None])
def test_golden_inputs_identical_runs(name: str, preset: str | None) -> None:
    sc = read_ktab_csv(KTAB / "inputs" / f"{name}.csv")
    a, b = _both(SpatialModel(preset=preset), sc)
    assert a.positions.shape == b.positions.shape
    assert np.allclose(a.positions, b.positions, rtol=0, atol=1e-9, equal_nan=True)
    assert np.allclose(a.outcome, b.outcome, rtol=0, atol=1e-9)
    _close(a.details, b.details)


VARIANTS = [
    {"VotingRule": "Binary"}, {"VotingRule": "PropBin"}, {"VotingRule": "PropCbc"},
    {"VotingRule": "Cubic"}, {"VotingRule": "ASymProsp"},
    {"VictoryProbModel": "Square"}, {"VictoryProbModel": "Quartic"},
    {"VictoryProbModel": "Octic"}, {"VictoryProbModel": "Binary"},
    {"BigRAdjust": "None"}, {"BigRAdjust": "Half"}, {"BigRAdjust": "TwoThirds"},
    {"BigRAdjust": "Full"}, {"BigRRange": "Min"}, {"BigRRange": "Max"},
    {"ThirdPartyCommit": "NoCommit"}, {"ThirdPartyCommit": "FullCommit"},
    {"ThirdPartyCommit": "NoCommit", "ktab_quirks": True},
    {"ThirdPartyCommit": "FullCommit", "ktab_quirks": True},
    {"InterVecBrgn": "S1P1"}, {"InterVecBrgn": "S2PMax"},
    {"detect_cycles": False, "max_turns": 7, "min_turns": 5},
    {"accommodation": (("a0", "a1", 0.3), ("a0", "a0", 0.5), ("a2", "a2", 0.8))},
]


def _vid(p: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in p.items())[:40]


@pytest.mark.parametrize("params", VARIANTS, ids=_vid)
def test_parameter_variants_identical(params: dict) -> None:
    sc = _random(9, 3, seed=7)
    a, b = _both(SpatialModel(**params), sc)
    assert a.positions.shape == b.positions.shape
    assert np.allclose(a.positions, b.positions, rtol=0, atol=1e-9, equal_nan=True)
    _close(a.details, b.details)


def test_many_actors_and_missing_stances() -> None:
    sc = _random(40, 2, seed=3)
    # drop some stances: the filled-in positions go through the same kernel
    sc = sc.model_copy(update={"stances": tuple(s for i, s in enumerate(sc.stances)
                                                if i % 11 != 5)})
    a, b = _both(SpatialModel(), sc)
    assert np.allclose(a.positions, b.positions, rtol=0, atol=1e-9, equal_nan=True)
    _close(a.details, b.details)


def test_one_actor_and_flat_risk_quirk() -> None:
    one = _random(1, 2, seed=1)
    a, b = _both(SpatialModel(), one)
    assert np.array_equal(a.positions, b.positions)
    twins = Scenario(id="t", name="t", issues=(Issue(id="x", name="x"),),
                     actors=(Actor(id="a", name="a", capability=1.0),
                             Actor(id="b", name="b", capability=1.0)),
                     stances=(Stance(actor="a", issue="x", position=50, salience=50),
                              Stance(actor="b", issue="x", position=50, salience=50)))
    for backend in ("numpy", "numba"):
        with sk.use_backend(backend), pytest.raises(ModelError, match="equally likely"):
            SpatialModel(preset="ktab").forecast(twins)


def test_uncovered_configurations_fall_back_to_numpy() -> None:
    cfg = sk.Config(bargn="PWCompInterp")
    assert not sk._numba_covers(cfg)
    assert not sk._numba_covers(sk.Config(pce="MarkovUniform"))
    assert not sk._numba_covers(sk.Config(transitions="Stochastic"))
    assert not sk._numba_covers(sk.Config(perspective_probs=True))
    assert sk._numba_covers(sk.Config())
    with sk.use_backend("numba"):  # still runs (on NumPy)
        fc = SpatialModel(BargnModel="PWCompInterp").forecast(_random(5, 2, seed=2))
    assert fc.positions.shape[1:] == (5, 2)


def test_backend_choice_depends_only_on_configuration() -> None:
    cfg = sk.Config()
    with sk.use_backend("numpy"):
        assert sk._choose_numba(cfg, 10) is None
    with sk.use_backend("numba"):
        assert sk._choose_numba(cfg, 10) is not None
    with sk.use_backend("auto"):  # numba is installed in the test environment
        assert sk._choose_numba(cfg, 3) is not None
        assert sk._choose_numba(sk.Config(pce="MarkovUniform"), 3) is None  # not covered


def test_round6_is_python_round() -> None:
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(0, 100, 5000), (np.arange(5000) + 0.5) / 1e6,
                        np.array([0.0, -0.0, -1e-9, 0.1234565, 1e20, 2.5e-6])])
    assert round6(a) == [round(x, 6) for x in a.tolist()]
