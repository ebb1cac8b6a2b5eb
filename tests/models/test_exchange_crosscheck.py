"""Cross-check of ExchangeModel (``decide`` preset) against the reference Decide package.

Decide runs in its own Python 3.13 virtualenv (``.venv-decide``, made by
``scripts/setup-decide-venv.sh``) through ``tests/crosscheck/decide_driver.py``; it is never
imported here. Decide's tie coin flips are seeded in the driver and replayed by detente (see
``tests/crosscheck/harness.py`` and docs/models/exchange.md, "Cross-check").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.crosscheck.harness import compare, decide_python, python313, run_decide

pytestmark = [pytest.mark.crosscheck, pytest.mark.slow]

DECIDE = SHARED_DATA / "decide"


def _need_decide() -> None:
    if decide_python() is not None:
        return
    if python313() is None:
        pytest.skip("python3.13 is not on this machine, so the Decide reference package "
                    "(which requires Python >= 3.13) cannot be installed")
    pytest.fail("Decide's venv is missing: run scripts/setup-decide-venv.sh first "
                "(python3.13 is available, so the cross-check must not be skipped)")


# Every round of every file agrees for every seed (10 rounds, Decide's draws replayed): the
# ``decide`` preset follows Decide's list and its 28-digit Decimal arithmetic exactly
# (docs/models/exchange.md, "Cross-check"). ``p`` is the random-rate split (Decide's
# equal-gain model with ``randomized_value=p``).
FILES = ("sample_data.txt", "copenhagen.csv", "cop21.csv")
CASES = [(name, seed, None) for name in FILES for seed in (0, 1, 2)]
CASES += [("sample_data.txt", 0, 0.5), ("copenhagen.csv", 1, 0.5), ("cop21.csv", 2, 0.5),
          ("sample_data.txt", 1, 1.0)]


@pytest.mark.parametrize(("name", "seed", "p"), CASES)
def test_files_match_decide(name: str, seed: int, p: float | None) -> None:
    _need_decide()
    path = DECIDE / name
    rounds = 10
    d = run_decide(path, rounds=rounds, seed=seed, p=p)
    c = compare(path, d, rounds=rounds, tol=1e-6, p=p)
    assert c.ok, c.problems[:5]
    assert c.rounds_equal == rounds
    assert c.max_outcome_diff < 1e-6 and c.max_exchange_diff < 1e-6


def _write_decide(path: Path, pos, sal, cap, scale) -> None:
    n, m = len(pos), len(pos[0])
    rows = [f"'#A'\t'a{i}'\t'a{i}'\t''" for i in range(n)]
    for k in range(m):
        rows.append(f"'#P'\t'i{k}'\t'i{k}'\t''")
        rows.append(f"'#M'\t'i{k}'\t{scale[k][0]!r}")
        rows.append(f"'#M'\t'i{k}'\t{scale[k][1]!r}")
    for i in range(n):
        for k in range(m):
            if pos[i][k] is None:
                continue
            rows.append(f"'#D'\t'a{i}'\t'i{k}'\t{pos[i][k]!r}\t{sal[i][k]!r}\t{cap[i][k]!r}")
    path.write_text("\n".join(rows) + "\n")


def test_random_scenarios_match_decide(tmp_path: Path) -> None:
    _need_decide()
    hyp = pytest.importorskip("hypothesis")
    st = hyp.strategies

    @st.composite
    def scenarios(draw):
        n = draw(st.integers(3, 7))
        m = draw(st.integers(2, 4))
        fl = st.floats
        scale = [draw(st.sampled_from([(0.0, 100.0), (0.0, 10.0), (-5.0, 5.0)]))
                 for _ in range(m)]
        pos = [[round(draw(fl(scale[k][0], scale[k][1])), 3) for k in range(m)]
               for _ in range(n)]
        sal = [[round(draw(fl(0.05, 1.0)), 3) for _ in range(m)] for _ in range(n)]
        cap = [[round(draw(fl(0.05, 1.0)), 3) for _ in range(m)] for _ in range(n)]
        return pos, sal, cap, scale

    counter = {"k": 0}

    @hyp.settings(max_examples=12, deadline=None, derandomize=True)
    @hyp.given(scenarios())
    def check(sc) -> None:
        counter["k"] += 1
        f = tmp_path / f"rand{counter['k']}.csv"
        _write_decide(f, *sc)
        for p in (None, 0.7):
            d = run_decide(f, rounds=5, seed=0, p=p)
            c = compare(f, d, rounds=5, tol=1e-6, p=p)
            assert c.ok, c.problems[:5]
            assert c.rounds_equal == 5

    check()
