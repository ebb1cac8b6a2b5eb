"""Cross-check harness: run the reference Decide package and detente's exchange model on the
same input and compare them round by round.

Decide (``decide-exchange-model``, GPL-3.0, Python >= 3.13) lives in its own virtualenv,
``.venv-decide`` at the repository root (create it with ``scripts/setup-decide-venv.sh``, or
point ``DETENTE_DECIDE_PYTHON`` at another interpreter that has the package). detente never
imports it: :func:`run_decide` starts ``decide_driver.py`` in that interpreter and reads its
JSON (per round: expected outcomes, voting outcomes, realised exchanges, and every random
draw Decide made). :func:`run_detente` runs ``ExchangeModel`` with the ``decide`` preset,
replaying Decide's own draws for its tie-breaking coin flips, and :func:`compare` lists the
differences above a tolerance.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("decide_driver.py")


def decide_python() -> Path | None:
    """The interpreter with Decide installed, or None."""
    env = os.environ.get("DETENTE_DECIDE_PYTHON")
    cands = [Path(env)] if env else []
    cands.append(ROOT / ".venv-decide" / "bin" / "python")
    for c in cands:
        if c.is_file():
            return c
    return None


def python313() -> Path | None:
    """A Python 3.13 interpreter (to build the Decide venv), or None."""
    import shutil

    for c in ("/root/.pyenv/versions/3.13.0/bin/python3.13", shutil.which("python3.13")):
        if c and Path(c).is_file():
            return Path(c)
    return None


def run_decide(path: Path, *, rounds: int = 10, seed: int = 0, timeout: float = 1800,
               python: Path | None = None, p: float | None = None) -> dict[str, Any]:
    """Run Decide's equal-gain model (with the random-rate split when ``p`` is given)."""
    py = python or decide_python()
    if py is None:
        raise RuntimeError("no Decide interpreter; run scripts/setup-decide-venv.sh")
    extra = [] if p is None else ["--p", str(p)]
    out = subprocess.run([str(py), str(DRIVER), str(path), "--rounds", str(rounds),
                          "--seed", str(seed), *extra], capture_output=True, text=True,
                         timeout=timeout, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"Decide driver failed on {path}:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout)
    if "error" in data:
        raise RuntimeError(f"Decide refused {path}: {data['error']}")
    return data


@dataclass
class Comparison:
    rounds_compared: int = 0
    rounds_equal: int = 0
    max_outcome_diff: float = 0.0
    max_exchange_diff: float = 0.0
    problems: list[str] = field(default_factory=list)
    first_bad_round: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def run_detente(path: Path, decide: dict[str, Any], *, rounds: int, p: float | None = None):
    """Run the ``decide`` preset on ``path``, feeding it Decide's own random draws in order
    (tie coins and the random-rate u, v, z). At each tie the two exchanges Decide had on top
    must be the two detente has on top, or the replay stops with LookupError."""
    from detente.models.exchange import ExchangeModel, run_exchange, stance_order
    from detente.scenario.arrays import scenario_arrays
    from detente.scenario.importers.decide import read_decide

    s = read_decide(path)
    meta = s.meta["decide"]
    a_of = [meta["actor_ids"][a.id] for a in s.actors]
    i_of = [meta["issue_ids"][i.id] for i in s.issues]
    draws = iter(decide["draws"])

    def draw(kind: str, what):
        entry = next(draws, None)
        if entry is None:
            raise LookupError(f"detente asked for a {kind} draw Decide never made")
        want = "random" if kind == "coin" else "uniform"
        if entry[0] != want:
            raise LookupError(f"detente asked for a {kind} draw, Decide made a {entry[0]} draw")
        if kind == "coin" and len(entry) > 2:
            mine = [[a_of[k[0]], i_of[k[1]], a_of[k[2]], i_of[k[3]]] for k in what]
            if mine != entry[2]:
                raise LookupError(f"tie between {mine}, Decide's was between {entry[2]}")
        return entry[1]

    m = ExchangeModel(preset="decide", random_rate=p or 0.0,
                      stop={"max_rounds": rounds, "tol": 0.0, "patience": 1,
                            "detect_cycles": False})
    res = run_exchange(scenario_arrays(s), m.params, draw=draw, sum_order=stance_order(s))
    return s, res


def compare(path: Path, decide: dict[str, Any], *, rounds: int, tol: float = 1e-6,
            p: float | None = None) -> Comparison:
    """Compare every round's expected and voting outcome (normalised 0-100, as Decide
    reports them) and the realised exchanges, in order."""
    cmp = Comparison()
    try:
        s, res = run_detente(path, decide, rounds=rounds, p=p)
    except LookupError as exc:
        cmp.problems.append(f"replay failed: {exc}")
        return cmp
    meta = s.meta["decide"]
    a_of = meta["actor_ids"]  # detente id -> Decide id
    i_of = meta["issue_ids"]
    issue_ids = [i.id for i in s.issues]
    lo = np.array([i.scale_min for i in s.issues])
    w = np.array([i.width for i in s.issues])
    for t, (dr, mine) in enumerate(zip(decide["rounds"], res.details["rounds"], strict=False)):
        cmp.rounds_compared += 1
        bad: list[str] = []
        for k, iid in enumerate(issue_ids):
            name = i_of[iid]
            for key in ("expected", "outcome"):
                mv = (mine[key][iid] - lo[k]) * 100.0 / w[k]
                dv = dr[key][name]
                diff = abs(mv - dv)
                cmp.max_outcome_diff = max(cmp.max_outcome_diff, diff)
                if diff > tol:
                    bad.append(f"round {t + 1} {key} {name}: detente {mv:.9f} Decide {dv:.9f}")
        mex = mine["exchanges"]
        dex = dr["realized"]
        if len(mex) != len(dex):
            bad.append(f"round {t + 1}: {len(mex)} exchanges, Decide {len(dex)}")
        for n, (me, de) in enumerate(zip(mex, dex, strict=False)):
            mi, mj = me["moves"]
            same = (a_of[mi["actor"]] == de["i"] and a_of[mj["actor"]] == de["j"]
                    and i_of[mi["issue"]] == de["i_supply"] and i_of[mj["issue"]] == de["j_supply"])
            if not same:
                bad.append(f"round {t + 1} exchange {n + 1}: detente {mi['actor']}/{mi['issue']}"
                           f" + {mj['actor']}/{mj['issue']}, Decide {de['i']}/{de['i_supply']} "
                           f"+ {de['j']}/{de['j_supply']}")
                break
            ki = issue_ids.index(mi["issue"])
            kj = issue_ids.index(mj["issue"])
            yi = (mi["to"] - lo[ki]) * 100.0 / w[ki]
            yj = (mj["to"] - lo[kj]) * 100.0 / w[kj]
            d = max(abs(yi - de["i_y"]), abs(yj - de["j_y"]), abs(me["gain"] - de["gain"]))
            cmp.max_exchange_diff = max(cmp.max_exchange_diff, d)
            if d > tol:
                bad.append(f"round {t + 1} exchange {n + 1}: voting positions/gain differ by "
                           f"{d:.3g}")
                break
        if bad:
            cmp.problems.extend(bad)
            if cmp.first_bad_round is None:
                cmp.first_bad_round = t + 1
            break  # later rounds start from different positions
        cmp.rounds_equal += 1
    return cmp
