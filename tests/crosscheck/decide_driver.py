"""Run the reference Decide exchange model on one input file and dump what it did as JSON.

This script runs ONLY inside the separate Python 3.13 virtualenv that holds the
`decide-exchange-model` package (GPL-3.0; made by scripts/setup-decide-venv.sh). detente
never imports Decide: the cross-check test and the benchmark call this script through a
subprocess (tests/crosscheck/harness.py) and compare its JSON output with detente's `ExchangeModel`.

Determinism: Decide breaks exact ties between the two best exchanges with a coin flip from
the global `random` module (`random.random() >= 0.5`), and the random-rate variant draws u, v
and z with `random.uniform`. The driver replaces the `random` module seen by
`decide.model.equalgain` with a seeded `random.Random(seed)` that also records every draw in
order, so a run is reproducible and detente can replay the very same draws.

Usage: python driver.py INPUT [--rounds 10] [--seed 0] [--p P] [--repeat 1]
Prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import random as _random
import sys
import time
from pathlib import Path


class RecordingRandom:
    """A seeded stand-in for the `random` module that logs each draw."""

    def __init__(self, seed: int) -> None:
        self._rng = _random.Random(seed)
        self.draws: list[list] = []

    def random(self) -> float:
        v = self._rng.random()
        entry: list = ["random", v]
        # a tie between the two best exchanges (EqualGainModel.highest_gain): note which two
        # Decide saw, in its order, so the comparison can replay the same decision
        frame = sys._getframe(1)
        if frame.f_code.co_name == "highest_gain":
            loc = frame.f_locals
            entry.append([_key(loc["realize"]), _key(loc["next_exchange"])])
        self.draws.append(entry)
        return v

    def uniform(self, a: float, b: float) -> float:
        v = self._rng.uniform(a, b)
        self.draws.append(["uniform", v])
        return v


def _key(ex) -> list[str]:
    return [str(ex.i.actor.actor_id), ex.i.supply.issue.name, str(ex.j.actor.actor_id),
            ex.j.supply.issue.name]


class Silent:
    """An event handler that ignores every event (no files, no database)."""

    def __getattr__(self, name):  # noqa: D105
        return lambda *a, **k: None


def _f(x) -> float | None:
    return None if x is None else float(x)


def run(path: Path, rounds: int, seed: int, p: str | None) -> dict:
    from decide.data.modelfactory import ModelFactory
    from decide.data.reader import InputDataFile
    from decide.model import equalgain
    from decide.model.utils import ModelLoop

    rec = RecordingRandom(seed)
    equalgain.random = rec  # the module-level name `random` used for ties and u, v, z
    t0 = time.perf_counter()
    data = InputDataFile.open(path)
    if not data.is_valid:
        return {"error": {str(k): str(v) for k, v in data.errors.items()}}
    t1 = time.perf_counter()
    model = ModelFactory(data)(model_klass=equalgain.EqualGainModel, randomized_value=p)
    loop = ModelLoop(model, Silent(), 0)
    issues = list(model.issues)
    out_rounds = []
    model_time = 0.0
    for _ in range(rounds):
        captured = {}

        def after_loop(realized, iteration, repetition, _c=captured):
            _c["realized"] = list(realized)
            _c["expected"] = {i.name: float(model.nbs[i]) for i in model.nbs}

        def end_loop(iteration, repetition, _c=captured):
            _c["outcome"] = {i.name: float(model.nbs[i]) for i in model.nbs}

        handler = Silent()
        handler.after_loop = after_loop
        handler.end_loop = end_loop
        loop.event_handler = handler
        ties0 = model.tie_count
        draws0 = len(rec.draws)
        ts = time.process_time()  # CPU time of the model round (robust to machine load)
        loop.loop()
        model_time += time.process_time() - ts
        realized = []
        for ex in captured["realized"]:
            realized.append({
                "i": str(ex.i.actor.actor_id), "i_supply": str(ex.i.supply.issue.name),
                "i_x": _f(ex.i.supply.position), "i_y": _f(ex.i.y),
                "j": str(ex.j.actor.actor_id), "j_supply": str(ex.j.supply.issue.name),
                "j_x": _f(ex.j.supply.position), "j_y": _f(ex.j.y),
                "gain": _f(ex.gain),
            })
        # voting outcome (after the round, on the voting positions); Decide recomputes it in
        # ModelLoop.loop before the next round's start positions are set
        positions = {i.name: {str(a.actor_id): float(ai.position)
                                   for a, ai in model.actor_issues[i].items()} for i in issues}
        out_rounds.append({
            "expected": captured["expected"],
            "outcome": captured["outcome"],
            "realized": realized,
            "ties": model.tie_count - ties0,
            "draws": len(rec.draws) - draws0,
            "start_positions_next": positions,
        })
    return {
        "file": str(path),
        "issues": [str(i.name) for i in issues],
        "lower": {i.name: float(i.lower) for i in issues},
        "upper": {i.name: float(i.upper) for i in issues},
        "actors": [str(a.actor_id) for a in model.actors],
        "rounds": out_rounds,
        "draws": rec.draws,
        "parse_time": t1 - t0,
        "model_time": model_time,
        "setup_time": time.perf_counter() - t1 - model_time,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input", type=Path)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--p", default=None, help="random-rate parameter (Decide's REX p)")
    args = ap.parse_args()
    json.dump(run(args.input, args.rounds, args.seed, args.p), sys.stdout)


if __name__ == "__main__":
    main()
