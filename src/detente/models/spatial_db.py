"""Export a spatial-model run to SQLite with KTAB's table and column names (``ktab_smp.md`` §4).

Written tables (KTAB's "info", "positions", "bargains" and "minimum" groups, minus the
O(N^3)-O(N^4) logging tables): ``ScenarioDesc``, ``ActorDescription``,
``DimensionDescription``, ``SpatialCapability``, ``SpatialSalience``, ``Accommodation``,
``PosEquiv``, ``PosProb``, ``VectorPosition``, ``Bargn`` and ``BargnCoords``. Not written:
``PosUtil``, ``PosVote``, ``UtilChlg``, ``ProbVict``, ``TPProbVictLoss``, ``BargnUtil``,
``BargnVote``.

Like KTAB, a database can hold many runs, keyed by a 32-hex ``ScenarioId``; enums are stored as
KTAB's integer indices; coordinates are on the 0-100 scale, saliences on 0-1. Turn numbering
follows KTAB: positions of state t are ``Turn_t = t`` (0 = initial), bargains proposed from
state t (moving it to t+1) have ``Turn_t = t``, and ``VectorPosition.Mover_BargnId`` of state
t names the bargain that moved the actor into it. ``PosProb`` holds, for each estimator h,
the PCE probability of each actor's position from h's view when the run recorded
perspectives (``perspective_probs=True``, as :func:`run_and_export` does), otherwise one row
per actor with ``Est_h = -1`` (everyone's own view, as in KTAB's log).

Also :func:`write_tidy`: one row per turn, actor and issue (CSV, or Parquet when pyarrow is
installed and the path ends in ``.parquet``).
"""

from __future__ import annotations

import csv
import hashlib
import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from detente.errors import DetenteError, ModelError
from detente.models.base import Forecast
from detente.random import SeedLike
from detente.scenario.schema import Scenario

__all__ = ["KTAB_ENUMS", "SCHEMA", "export_ktab_db", "run_and_export", "tidy_rows", "write_tidy"]

KTAB_ENUMS: dict[str, tuple[str, ...]] = {
    "VictoryProbModel": ("Linear", "Square", "Quartic", "Octic", "Binary"),
    "PCEModel": ("Conditional", "MarkovIncentive", "MarkovUniform"),
    "StateTransMode": ("Deterministic", "Stochastic"),
    "VotingRule": ("Binary", "PropBin", "Prop", "PropCbc", "Cubic", "ASymProsp"),
    "BigRAdjust": ("None", "OneThird", "Half", "TwoThirds", "Full"),
    "BigRRange": ("Min", "Mid", "Max"),
    "ThirdPartyCommit": ("NoCommit", "SemiCommit", "FullCommit"),
    "InterVecBrgn": ("S1P1", "S2P2", "S2PMax"),
    "BargnModel": ("InitOnlyInterp", "InitRcvrInterp", "PWCompInterp"),
}
_DB_COLUMN = {"PCEModel": "ProbCondorcetElection", "StateTransMode": "StateTransition"}

_SID = "ScenarioId VARCHAR(32) NOT NULL DEFAULT 'None'"
SCHEMA: dict[str, str] = {
    "ScenarioDesc": (
        "Scenario VARCHAR(512) NOT NULL DEFAULT 'NoName', \"Desc\" VARCHAR(512) NOT NULL "
        "DEFAULT 'No Description', ScenarioId VARCHAR(32) NOT NULL DEFAULT 'None' UNIQUE, "
        "RNGSeed VARCHAR(20) NOT NULL DEFAULT '0', VictoryProbModel INTEGER NULL DEFAULT NULL, "
        "ProbCondorcetElection INTEGER NULL DEFAULT NULL, StateTransition INTEGER NULL DEFAULT "
        "NULL, VotingRule INTEGER NULL DEFAULT NULL, BigRAdjust INTEGER NULL DEFAULT NULL, "
        "BigRRange INTEGER NULL DEFAULT NULL, ThirdPartyCommit INTEGER NULL DEFAULT NULL, "
        "InterVecBrgn INTEGER NULL DEFAULT NULL, BargnModel INTEGER NULL DEFAULT NULL"),
    "ActorDescription": (
        f"{_SID}, Act_i INTEGER NOT NULL DEFAULT 0, Name VARCHAR(25) NOT NULL DEFAULT 'NoName', "
        "\"Desc\" VARCHAR(256) NOT NULL DEFAULT 'NoDesc'"),
    "DimensionDescription": (
        f"{_SID}, Dim_k INTEGER NOT NULL DEFAULT 0, \"Desc\" VARCHAR(256) NOT NULL "
        "DEFAULT 'NoDesc'"),
    "SpatialCapability": (
        f"{_SID}, Turn_t INTEGER NOT NULL DEFAULT 0, Act_i INTEGER NOT NULL DEFAULT 0, "
        "Cap FLOAT NOT NULL DEFAULT 0.0"),
    "SpatialSalience": (
        f"{_SID}, Turn_t INTEGER NOT NULL DEFAULT 0, Act_i INTEGER NOT NULL DEFAULT 0, "
        "Dim_k INTEGER NOT NULL DEFAULT 0, Sal FLOAT NOT NULL DEFAULT 0.0"),
    "Accommodation": (
        f"{_SID}, Act_i INTEGER NOT NULL DEFAULT 0, Act_j INTEGER NOT NULL DEFAULT 0, "
        "Affinity FLOAT NOT NULL DEFAULT 0.0"),
    "PosEquiv": (
        f"{_SID}, Turn_t INTEGER NOT NULL DEFAULT 0, Pos_i INTEGER NOT NULL DEFAULT 0, "
        "Eqv_j INTEGER NOT NULL DEFAULT 0"),
    "PosProb": (
        f"{_SID}, Turn_t INTEGER NOT NULL DEFAULT 0, Est_h INTEGER NOT NULL DEFAULT 0, "
        "Pos_i INTEGER NOT NULL DEFAULT 0, Prob FLOAT NOT NULL DEFAULT 0.0"),
    "VectorPosition": (
        f"{_SID}, Turn_t INTEGER NOT NULL DEFAULT 0, Act_i INTEGER NOT NULL DEFAULT 0, "
        "Dim_k INTEGER NOT NULL DEFAULT 0, Pos_Coord FLOAT NOT NULL DEFAULT 0.0, "
        "Idl_Coord FLOAT NOT NULL DEFAULT 0.0, Mover_BargnId INTEGER NULL DEFAULT NULL"),
    "Bargn": (
        f"{_SID}, Turn_t INTEGER NOT NULL DEFAULT 0, BargnId INTEGER NOT NULL DEFAULT 0, "
        "Init_Act_i INTEGER NOT NULL DEFAULT 0, Recd_Act_j INTEGER NOT NULL DEFAULT 0, "
        "Value FLOAT NOT NULL DEFAULT 0.0, Init_Prob FLOAT NULL DEFAULT NULL, "
        "Init_Seld INTEGER NULL DEFAULT NULL CHECK (Init_Seld IN (0, 1)), "
        "Recd_Prob FLOAT NULL DEFAULT NULL, "
        "Recd_Seld INTEGER NULL DEFAULT NULL CHECK (Recd_Seld IN (0, 1))"),
    "BargnCoords": (
        f"{_SID}, Turn_t INTEGER NOT NULL DEFAULT 0, BargnId INTEGER NOT NULL DEFAULT 0, "
        "Dim_k INTEGER NOT NULL DEFAULT 0, Init_Coord FLOAT NULL DEFAULT NULL, "
        "Recd_Coord FLOAT NOT NULL DEFAULT 0.0"),
}


def _check(forecast: Forecast) -> dict[str, Any]:
    d = forecast.details
    if forecast.model != "spatial" or not isinstance(d.get("rounds"), list):
        raise ModelError(f"the KTAB database export needs a forecast of the 'spatial' model, "
                         f"not {forecast.model!r}")
    return dict(d)


def _to100(v: float, lo: float, width: float) -> float:
    return (v - lo) / width * 100.0


def _scenario_id(forecast: Forecast) -> str:
    p = forecast.provenance
    key = f"{p.scenario_hash}|{p.created}|{p.seed}|{sorted(p.params.items())}"
    return hashlib.sha256(key.encode()).hexdigest()[:32].upper()


def export_ktab_db(forecast: Forecast, scenario: Scenario, path: str | Path, *,
                   scenario_id: str | None = None) -> str:
    """Append ``forecast`` (a spatial-model run on ``scenario``) to the SQLite file ``path``.

    Returns the run's ``ScenarioId``."""
    d = _check(forecast)
    if tuple(scenario.actor_ids) != forecast.actor_ids or \
            tuple(scenario.issue_ids) != forecast.issue_ids:
        raise ModelError("the forecast was not made on this scenario (actors or issues differ)")
    sid = scenario_id or _scenario_id(forecast)
    aid, iid = forecast.actor_ids, forecast.issue_ids
    issues = {i.id: i for i in scenario.issues}
    lo = [issues[i].scale_min for i in iid]
    wd = [issues[i].width for i in iid]
    n, m = len(aid), len(iid)
    kmeta = scenario.meta.get("ktab") if isinstance(scenario.meta.get("ktab"), dict) else {}
    names = kmeta.get("actor_names", {}) if isinstance(kmeta, dict) else {}
    dnames = kmeta.get("dimension_names", {}) if isinstance(kmeta, dict) else {}
    kp = d["ktab_parameters"]
    rounds = d["rounds"]
    t_n = len(rounds)
    seed = forecast.provenance.seed
    path = Path(path)
    try:
        con = sqlite3.connect(path)
    except sqlite3.Error as exc:
        raise DetenteError(f"{path}: cannot open the SQLite database ({exc})") from None
    try:
        with con:
            for table, cols in SCHEMA.items():
                con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
            if con.execute("SELECT 1 FROM ScenarioDesc WHERE ScenarioId = ?", (sid,)).fetchone():
                raise DetenteError(f"{path}: ScenarioId {sid} is already in the database; "
                                   "give another id or another file")
            enum_cols = [_DB_COLUMN.get(k, k) for k in KTAB_ENUMS]
            con.execute(
                f"INSERT INTO ScenarioDesc (Scenario, \"Desc\", ScenarioId, RNGSeed, "
                f"{', '.join(enum_cols)}) VALUES ({', '.join('?' * (4 + len(enum_cols)))})",
                (scenario.name[:512], (scenario.description or "")[:512], sid,
                 str(seed if seed is not None else 0),
                 *[KTAB_ENUMS[k].index(kp[k]) for k in KTAB_ENUMS]))
            con.executemany(
                "INSERT INTO ActorDescription (ScenarioId, Act_i, Name, \"Desc\") VALUES "
                "(?, ?, ?, ?)",
                [(sid, i, str(names.get(a, scenario.actor(a).name))[:25],
                  (scenario.actor(a).description or "")[:256]) for i, a in enumerate(aid)])
            con.executemany(
                "INSERT INTO DimensionDescription (ScenarioId, Dim_k, \"Desc\") VALUES (?, ?, ?)",
                [(sid, k, str(dnames.get(i, issues[i].name))[:256]) for k, i in enumerate(iid)])
            cap, sal = d["capability"], d["salience"]
            con.executemany(
                "INSERT INTO SpatialCapability (ScenarioId, Turn_t, Act_i, Cap) VALUES "
                "(?, ?, ?, ?)",
                [(sid, t, i, cap[a]) for t in range(t_n + 1) for i, a in enumerate(aid)])
            con.executemany(
                "INSERT INTO SpatialSalience (ScenarioId, Turn_t, Act_i, Dim_k, Sal) VALUES "
                "(?, ?, ?, ?, ?)",
                [(sid, t, i, k, sal[a][iss]) for t in range(t_n + 1) for i, a in enumerate(aid)
                 for k, iss in enumerate(iid)])
            acc = np.eye(n)
            for a, b, x in d.get("accommodation") or []:
                acc[aid.index(a), aid.index(b)] = x
            con.executemany(
                "INSERT INTO Accommodation (ScenarioId, Act_i, Act_j, Affinity) VALUES "
                "(?, ?, ?, ?)",
                [(sid, i, j, float(acc[i, j])) for i in range(n) for j in range(n)])
            # positions, ideals, movers
            ideals = [d["initial"]["ideals"]] + [r["ideals"] for r in rounds]
            movers = [{}] + [r.get("movers", {}) for r in rounds]
            rows = []
            equiv = []
            for t in range(t_n + 1):
                pts = np.empty((n, m))
                for i, a in enumerate(aid):
                    for k, iss in enumerate(iid):
                        v = float(forecast.positions[t, i, k])
                        if math.isnan(v):
                            v = ideals[t][a][iss]
                        pts[i, k] = _to100(v, lo[k], wd[k])
                        rows.append((sid, t, i, k, pts[i, k],
                                     _to100(ideals[t][a][iss], lo[k], wd[k]),
                                     movers[t].get(a)))
                # PosEquiv: first actor whose position coincides (0.001 on [0, 1])
                for i in range(n):
                    dist = np.sqrt(((pts[: i + 1] - pts[i]) ** 2).sum(axis=1)) / 100.0
                    equiv.append((sid, t, i, int(np.flatnonzero(dist < 1e-3)[0])))
            con.executemany(
                "INSERT INTO VectorPosition (ScenarioId, Turn_t, Act_i, Dim_k, Pos_Coord, "
                "Idl_Coord, Mover_BargnId) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            con.executemany(
                "INSERT INTO PosEquiv (ScenarioId, Turn_t, Pos_i, Eqv_j) VALUES (?, ?, ?, ?)",
                equiv)
            probs: list[tuple[object, ...]] = []
            persp = [d["initial"].get("perspective_probs")] + \
                [r.get("perspective_probs") for r in rounds]
            own = [d["initial"]["probabilities"]] + [r["probabilities"] for r in rounds]
            for t in range(t_n + 1):
                if persp[t] is not None:
                    probs.extend((sid, t, h, i, float(persp[t][h][i]))
                                 for h in range(n) for i in range(n))
                else:
                    probs.extend((sid, t, -1, i, float(own[t][a])) for i, a in enumerate(aid))
            con.executemany(
                "INSERT INTO PosProb (ScenarioId, Turn_t, Est_h, Pos_i, Prob) VALUES "
                "(?, ?, ?, ?, ?)", probs)
            brows: list[tuple[object, ...]] = []
            crows: list[tuple[object, ...]] = []
            for r in rounds:
                t = r["turn"] - 1  # bargains are numbered by the state they start from
                for sq in r.get("status_quo", []):
                    i = aid.index(sq["actor"])
                    brows.append((sid, t, sq["id"], i, i, 0.0, sq["prob"],
                                  int(bool(sq["selected"])), None, None))
                for b in r["bargains"]:
                    brows.append((sid, t, b["id"], aid.index(b["initiator"]),
                                  aid.index(b["receiver"]), float(b["value"]),
                                  b["initiator_prob"],
                                  None if b["initiator_selected"] is None
                                  else int(b["initiator_selected"]),
                                  b["receiver_prob"],
                                  None if b["receiver_selected"] is None
                                  else int(b["receiver_selected"])))
                    crows.extend((sid, t, b["id"], k,
                                  _to100(b["initiator_coords"][iss], lo[k], wd[k]),
                                  _to100(b["receiver_coords"][iss], lo[k], wd[k]))
                                 for k, iss in enumerate(iid))
            con.executemany(
                "INSERT INTO Bargn (ScenarioId, Turn_t, BargnId, Init_Act_i, Recd_Act_j, Value, "
                "Init_Prob, Init_Seld, Recd_Prob, Recd_Seld) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                brows)
            con.executemany(
                "INSERT INTO BargnCoords (ScenarioId, Turn_t, BargnId, Dim_k, Init_Coord, "
                "Recd_Coord) VALUES (?, ?, ?, ?, ?, ?)", crows)
            con.execute("CREATE INDEX IF NOT EXISTS idx_actor ON ActorDescription(ScenarioId)")
    except sqlite3.Error as exc:
        raise DetenteError(f"{path}: writing the KTAB database failed ({exc})") from None
    finally:
        con.close()
    return sid


def tidy_rows(forecast: Forecast) -> list[dict[str, Any]]:
    """One row per turn, actor and issue: position, ideal, probability, mover bargain."""
    d = _check(forecast)
    rounds = d["rounds"]
    ideals = [d["initial"]["ideals"]] + [r["ideals"] for r in rounds]
    probs = [d["initial"]["probabilities"]] + [r["probabilities"] for r in rounds]
    movers = [{}] + [r.get("movers", {}) for r in rounds]
    rows = []
    for t in range(len(rounds) + 1):
        for i, a in enumerate(forecast.actor_ids):
            for k, iss in enumerate(forecast.issue_ids):
                v = float(forecast.positions[t, i, k])
                if math.isnan(v):
                    continue
                rows.append({"model": forecast.model, "turn": t, "actor": a, "issue": iss,
                             "position": v, "ideal": ideals[t][a][iss],
                             "probability": probs[t][a], "mover_bargain": movers[t].get(a)})
    return rows


def write_tidy(forecast: Forecast, path: str | Path) -> Path:
    """Write :func:`tidy_rows` as CSV (or Parquet for a ``.parquet`` path, needs pyarrow)."""
    path = Path(path)
    rows = tidy_rows(forecast)
    cols = ["model", "turn", "actor", "issue", "position", "ideal", "probability",
            "mover_bargain"]
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise DetenteError(f"{path}: writing Parquet needs pyarrow, which is not installed; "
                               "install it or write a .csv file") from None
        pq.write_table(pa.table({c: [r[c] for r in rows] for c in cols}), path)
        return path
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return path


def run_and_export(scenario: Scenario, db_path: str | Path, *, params: dict[str, Any] | None
                   = None, rng: SeedLike = 0, tidy_path: str | Path | None = None,
                   ) -> tuple[Forecast, str]:
    """Run the spatial model on ``scenario`` (recording every estimator's probabilities) and
    append it to ``db_path``; optionally write the tidy table too."""
    from detente.models.spatial import SpatialModel

    model = SpatialModel({**(params or {}), "perspective_probs": True})
    fc = model.forecast(scenario, rng=rng)
    sid = export_ktab_db(fc, scenario, db_path)
    if tidy_path is not None:
        write_tidy(fc, tidy_path)
    return fc, sid
