"""SQLite run store: every run's scenario, parameters, results and provenance.

One file (default ``<user data dir>/detente/runs.sqlite``; ``DETENTE_STORE`` or an explicit
path overrides it). The database runs in WAL mode and every run is written in **one**
transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``): a process killed half-way leaves no trace of
the unfinished run and every earlier run intact (SQLite rolls the open transaction back the
next time the file is opened).

Tables: ``scenarios`` (canonical JSON, keyed by content hash, shared between runs),
``runs`` (one row per run: when, command, seed, versions, provenance, extras),
``model_runs`` (per model: params, provenance, details such as moves), ``forecasts``
(per model and issue: outcome, rounds, converged) and ``positions`` (the tidy per-round table).
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detente.errors import DetenteError

if TYPE_CHECKING:  # pragma: no cover
    from detente.models.base import Forecast
    from detente.scenario.schema import Scenario

__all__ = [
    "ENV_VAR",
    "SCHEMA_VERSION",
    "ModelRecord",
    "RunRecord",
    "RunStore",
    "RunSummary",
    "StoreError",
    "StoredRun",
    "default_store_path",
    "record_from_forecasts",
]

ENV_VAR = "DETENTE_STORE"
SCHEMA_VERSION = 1


class StoreError(DetenteError):
    """The run store cannot be opened or a run cannot be found."""


def default_store_path() -> Path:
    """``$DETENTE_STORE`` if set, else ``runs.sqlite`` in the user's data directory."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("detente", appauthor=False)) / "runs.sqlite"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    hash        TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    name        TEXT,
    body        TEXT NOT NULL          -- canonical JSON of the Scenario
);
CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    created       TEXT NOT NULL,
    command       TEXT,
    kind          TEXT NOT NULL DEFAULT 'run',
    scenario_hash TEXT NOT NULL REFERENCES scenarios(hash),
    scenario_id   TEXT NOT NULL,
    scenario_name TEXT,
    source        TEXT,                -- where the scenario came from (file or bundled name)
    version       TEXT,
    seed          INTEGER,
    models        TEXT NOT NULL,       -- JSON list of model names, in run order
    skipped       TEXT NOT NULL DEFAULT '[]',
    provenance    TEXT NOT NULL DEFAULT '{}',
    extras        TEXT NOT NULL DEFAULT '{}',
    note          TEXT
);
CREATE INDEX IF NOT EXISTS runs_scenario ON runs(scenario_id);
CREATE TABLE IF NOT EXISTS model_runs (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    params     TEXT NOT NULL,
    provenance TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '{}',
    issue_ids  TEXT NOT NULL,
    actor_ids  TEXT NOT NULL,
    PRIMARY KEY (run_id, model)
);
CREATE TABLE IF NOT EXISTS forecasts (
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model     TEXT NOT NULL,
    issue     TEXT NOT NULL,
    outcome   REAL,
    rounds    INTEGER NOT NULL,
    converged INTEGER NOT NULL,
    PRIMARY KEY (run_id, model, issue)
);
CREATE TABLE IF NOT EXISTS positions (
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    model    TEXT NOT NULL,
    round    INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    issue    TEXT NOT NULL,
    position REAL NOT NULL,
    PRIMARY KEY (run_id, model, round, actor, issue)
) WITHOUT ROWID;
"""


def _json_default(o: Any) -> Any:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None  # type: ignore[assignment]
    if np is not None:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    return str(o)


def _dumps(v: Any) -> str:
    return json.dumps(v, default=_json_default, sort_keys=True)


# ---------------------------------------------------------------------------------------
# records


@dataclass
class ModelRecord:
    """One model's part of a run, as plain data."""

    model: str
    params: dict[str, Any]
    provenance: dict[str, Any]
    issue_ids: list[str]
    actor_ids: list[str]
    forecast_rows: list[dict[str, Any]]  # model, issue, outcome, rounds, converged
    positions: Iterable[dict[str, Any]]  # model, round, actor, issue, position
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunRecord:
    """Everything written for one run."""

    scenario: Scenario
    models: list[ModelRecord]
    seed: int | None = None
    command: str | None = None
    source: str | None = None
    kind: str = "run"
    skipped: list[tuple[str, str]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    created: str | None = None


def record_from_forecasts(scenario: Scenario, forecasts: Sequence[Forecast], *,
                          seed: int | None = None, command: str | None = None,
                          source: str | None = None, kind: str = "run",
                          skipped: Sequence[tuple[str, str]] = (),
                          extras: Mapping[str, Any] | None = None) -> RunRecord:
    """A :class:`RunRecord` from model forecasts (what ``detente run`` produces)."""
    models = [ModelRecord(model=f.model, params=dict(f.provenance.params),
                          provenance=f.provenance.to_dict(), issue_ids=list(f.issue_ids),
                          actor_ids=list(f.actor_ids), forecast_rows=f.forecast_rows(),
                          positions=f.tidy(), details=dict(f.details)) for f in forecasts]
    return RunRecord(scenario=scenario, models=models, seed=seed, command=command,
                     source=source, kind=kind, skipped=list(skipped), extras=dict(extras or {}))


@dataclass(frozen=True)
class RunSummary:
    id: int
    created: str
    kind: str
    scenario_id: str
    scenario_name: str | None
    scenario_hash: str
    models: list[str]
    seed: int | None
    command: str | None
    note: str | None


@dataclass
class StoredRun:
    """A run read back from the store."""

    summary: RunSummary
    scenario_json: dict[str, Any]
    source: str | None
    version: str | None
    skipped: list[tuple[str, str]]
    provenance: dict[str, Any]
    extras: dict[str, Any]
    models: dict[str, dict[str, Any]]  # model -> {params, provenance, details, issue_ids, ...}
    forecasts: list[dict[str, Any]]  # rows: model, issue, outcome, rounds, converged
    _positions: list[dict[str, Any]] | None = None
    _store: RunStore | None = None

    @property
    def id(self) -> int:
        return self.summary.id

    def scenario(self) -> Scenario:
        """The scenario exactly as it was run."""
        from detente.scenario.schema import Scenario

        return Scenario.model_validate(self.scenario_json)

    def positions(self) -> list[dict[str, Any]]:
        """The tidy per-round table: model, round, actor, issue, position."""
        if self._positions is None:
            assert self._store is not None
            self._positions = self._store._positions(self.id)
        return self._positions

    def outcome(self, model: str, issue: str) -> float | None:
        for r in self.forecasts:
            if r["model"] == model and r["issue"] == issue:
                return r["outcome"]
        return None

    def to_forecasts(self) -> list[Forecast]:
        """Rebuild :class:`~detente.models.base.Forecast` objects (outcomes, position
        history, details and provenance) without re-running any model."""
        import numpy as np

        from detente.models.base import Forecast, Provenance

        by_model: dict[str, list[dict[str, Any]]] = {}
        for row in self.positions():
            by_model.setdefault(row["model"], []).append(row)
        out = []
        for name, m in self.models.items():
            issues, actors = m["issue_ids"], m["actor_ids"]
            rows = {r["issue"]: r for r in self.forecasts if r["model"] == name}
            pos_rows = by_model.get(name, [])
            n_rounds = max((r["round"] for r in pos_rows), default=0) + 1
            pos = np.full((n_rounds, len(actors), len(issues)), np.nan)
            a_ix = {a: k for k, a in enumerate(actors)}
            i_ix = {i: k for k, i in enumerate(issues)}
            for r in pos_rows:
                pos[r["round"], a_ix[r["actor"]], i_ix[r["issue"]]] = r["position"]
            prov = m["provenance"]
            out.append(Forecast(
                model=name, issue_ids=tuple(issues), actor_ids=tuple(actors),
                outcome=np.array([_nan(rows[i]["outcome"]) for i in issues]),
                positions=pos,
                rounds=np.array([rows[i]["rounds"] for i in issues]),
                converged=np.array([rows[i]["converged"] for i in issues]),
                provenance=Provenance(model=prov.get("model", name),
                                      params=prov.get("params", m["params"]),
                                      scenario_id=prov.get("scenario_id", ""),
                                      scenario_hash=prov.get("scenario_hash", ""),
                                      seed=prov.get("seed"), version=prov.get("version", ""),
                                      created=prov.get("created", "")),
                details=m["details"]))
        return out


def _nan(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _finite(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


# ---------------------------------------------------------------------------------------
# the store


class RunStore:
    """A SQLite run store. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=30.0,
                                         isolation_level=None)  # explicit transactions
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the run store {self.path}: {exc}. Fix: pass "
                             f"--store PATH or set {ENV_VAR} to a writable file") from None
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=30000")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"the run store {self.path} was written by a newer detente "
                                 f"(schema {version} > {SCHEMA_VERSION}); upgrade detente or "
                                 f"use another --store")
            if version < SCHEMA_VERSION:
                with self._transaction() as c:
                    for stmt in _SCHEMA.split(";"):
                        if stmt.strip():
                            c.execute(stmt)
                    c.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{self.path} is not a usable run store ({exc}). Fix: point "
                             f"--store or {ENV_VAR} at another file") from None

    # -- plumbing --------------------------------------------------------------------------
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- writing ---------------------------------------------------------------------------
    def save(self, record: RunRecord) -> int:
        """Write one run in a single transaction; returns its id."""
        from detente import __version__

        sc = record.scenario
        body = json.dumps(sc.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        h = sc.content_hash()
        created = record.created or datetime.now(UTC).isoformat(timespec="seconds")
        provenance = {
            "version": __version__, "seed": record.seed, "scenario_id": sc.id,
            "scenario_hash": h, "models": [m.provenance for m in record.models],
        }
        with self._transaction() as c:
            c.execute("INSERT OR IGNORE INTO scenarios(hash, scenario_id, name, body) "
                      "VALUES (?, ?, ?, ?)", (h, sc.id, sc.name, body))
            cur = c.execute(
                "INSERT INTO runs(created, command, kind, scenario_hash, scenario_id, "
                "scenario_name, source, version, seed, models, skipped, provenance, extras, "
                "note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (created, record.command, record.kind, h, sc.id, sc.name, record.source,
                 __version__, record.seed, _dumps([m.model for m in record.models]),
                 _dumps([list(s) for s in record.skipped]), _dumps(provenance),
                 _dumps(record.extras), record.note))
            run_id = int(cur.lastrowid)  # type: ignore[arg-type]
            for m in record.models:
                c.execute("INSERT INTO model_runs(run_id, model, params, provenance, details, "
                          "issue_ids, actor_ids) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (run_id, m.model, _dumps(m.params), _dumps(m.provenance),
                           _dumps(m.details), _dumps(m.issue_ids), _dumps(m.actor_ids)))
                c.executemany(
                    "INSERT INTO forecasts(run_id, model, issue, outcome, rounds, converged) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    ((run_id, m.model, r["issue"], _finite(r["outcome"]), int(r["rounds"]),
                      int(bool(r["converged"]))) for r in m.forecast_rows))
                c.executemany(
                    "INSERT INTO positions(run_id, model, round, actor, issue, position) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    ((run_id, m.model, int(r["round"]), r["actor"], r["issue"],
                      float(r["position"])) for r in m.positions))
        return run_id

    def save_forecasts(self, scenario: Scenario, forecasts: Sequence[Forecast],
                       **kwargs: Any) -> int:
        """Shortcut: :func:`record_from_forecasts` then :meth:`save`."""
        return self.save(record_from_forecasts(scenario, forecasts, **kwargs))

    def delete(self, run_ids: Iterable[int]) -> int:
        """Delete runs (and scenarios no run uses any more); returns how many were removed."""
        ids = [int(i) for i in run_ids]
        with self._transaction() as c:
            n = 0
            for i in ids:
                n += c.execute("DELETE FROM runs WHERE id = ?", (i,)).rowcount
            c.execute("DELETE FROM scenarios WHERE hash NOT IN "
                      "(SELECT DISTINCT scenario_hash FROM runs)")
        return n

    # -- reading ---------------------------------------------------------------------------
    def _summary(self, row: sqlite3.Row) -> RunSummary:
        return RunSummary(id=row["id"], created=row["created"], kind=row["kind"],
                          scenario_id=row["scenario_id"], scenario_name=row["scenario_name"],
                          scenario_hash=row["scenario_hash"], models=json.loads(row["models"]),
                          seed=row["seed"], command=row["command"], note=row["note"])

    def list_runs(self, *, limit: int | None = None, scenario: str | None = None,
                  ) -> list[RunSummary]:
        """Runs, newest first (optionally only those of scenario id ``scenario``)."""
        sql = "SELECT * FROM runs"
        args: list[Any] = []
        if scenario:
            sql += " WHERE scenario_id = ?"
            args.append(scenario)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [self._summary(r) for r in self._conn.execute(sql, args)]

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def resolve(self, ref: str | int) -> int:
        """A run id from ``12``, ``run:12``, ``#12``, ``latest`` or ``-1`` (newest), ``-2``..."""
        s = str(ref).strip()
        for prefix in ("run:", "#"):
            if s.startswith(prefix):
                s = s[len(prefix):]
        if s in ("latest", "last"):
            s = "-1"
        try:
            n = int(s)
        except ValueError:
            raise StoreError(f"run {ref!r}: expected a run id such as 12, run:12 or latest; "
                             f"see `detente runs list`") from None
        if n < 0:
            row = self._conn.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?",
                                     (-n - 1,)).fetchone()
            if row is None:
                raise StoreError(f"run {ref!r}: the store {self.path} holds only "
                                 f"{self.count()} run(s)")
            return int(row[0])
        if self._conn.execute("SELECT 1 FROM runs WHERE id = ?", (n,)).fetchone() is None:
            raise StoreError(f"no run {n} in {self.path}; see `detente runs list`")
        return n

    def get(self, ref: str | int) -> StoredRun:
        """Read one run back (positions are loaded on first use)."""
        run_id = self.resolve(ref)
        row = self._conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        body = self._conn.execute("SELECT body FROM scenarios WHERE hash = ?",
                                  (row["scenario_hash"],)).fetchone()
        models = {}
        for m in self._conn.execute("SELECT * FROM model_runs WHERE run_id = ? ORDER BY rowid",
                                    (run_id,)):
            models[m["model"]] = {"params": json.loads(m["params"]),
                                  "provenance": json.loads(m["provenance"]),
                                  "details": json.loads(m["details"]),
                                  "issue_ids": json.loads(m["issue_ids"]),
                                  "actor_ids": json.loads(m["actor_ids"])}
        order = {name: k for k, name in enumerate(json.loads(row["models"]))}
        forecasts = [{"model": r["model"], "issue": r["issue"], "outcome": r["outcome"],
                      "rounds": r["rounds"], "converged": bool(r["converged"])}
                     for r in self._conn.execute(
                         "SELECT * FROM forecasts WHERE run_id = ?", (run_id,))]
        def _key(r: dict[str, Any]) -> tuple[int, int]:
            issues = models.get(r["model"], {}).get("issue_ids", [])
            return (order.get(r["model"], 1 << 30),
                    issues.index(r["issue"]) if r["issue"] in issues else 1 << 30)

        forecasts.sort(key=_key)
        return StoredRun(summary=self._summary(row), scenario_json=json.loads(body["body"]),
                         source=row["source"], version=row["version"],
                         skipped=[tuple(s) for s in json.loads(row["skipped"])],
                         provenance=json.loads(row["provenance"]),
                         extras=json.loads(row["extras"]), models=models,
                         forecasts=forecasts, _store=self)

    def _positions(self, run_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self._conn.execute(
            "SELECT model, round, actor, issue, position FROM positions WHERE run_id = ? "
            "ORDER BY model, round, actor, issue", (run_id,))]

    def integrity_ok(self) -> bool:
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
