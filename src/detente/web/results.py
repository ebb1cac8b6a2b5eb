"""Stored runs as the dashboard shows them: a JSON payload (for the API and the interactive
charts), a :class:`~detente.report.model.Report` (for the report's figures and templates), CSV
exports and run comparisons. Nothing here computes a forecast; it only reshapes stored data.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

from fastapi import HTTPException

__all__ = ["RunViews"]


def _f(v: Any) -> float | None:
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


class RunViews:
    """Reads runs from the job manager's store and caches what it builds (runs never
    change once written)."""

    def __init__(self, jobs: Any, cache_size: int = 64) -> None:
        self.jobs = jobs
        self._payloads: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._reports: OrderedDict[int, Any] = OrderedDict()
        self._pngs: OrderedDict[tuple[int, str], bytes] = OrderedDict()
        self._json: OrderedDict[int, bytes] = OrderedDict()
        self._lists: dict[tuple[int, str | None], tuple[int, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._plot_lock = threading.Lock()
        self.cache_size = cache_size

    # -- reading ----------------------------------------------------------------------
    def stored(self, run_id: int) -> Any:
        from detente.store import StoreError

        store = self.jobs.store()
        try:
            return store.get(int(run_id))
        except StoreError:
            raise HTTPException(404, f"unknown run {run_id}; see GET /api/runs for the runs "
                                "this server has stored") from None

    def cached_list(self, limit: int = 200, scenario: str | None = None
                    ) -> list[dict[str, Any]] | None:
        with self._lock:
            hit = self._lists.get((limit, scenario))
        if hit is not None and hit[0] == self.jobs.runs_version:
            return hit[1]
        return None

    def list_runs(self, limit: int = 200, scenario: str | None = None) -> list[dict[str, Any]]:
        """Stored runs, newest first (cached until the next run is stored here)."""
        hit = self.cached_list(limit, scenario)
        if hit is not None:
            return hit
        version = self.jobs.runs_version
        rows = self.jobs.store().list_runs(limit=limit, scenario=scenario)
        out = [{"id": r.id, "created": r.created, "kind": r.kind, "scenario": r.scenario_id,
                 "scenario_name": r.scenario_name, "scenario_hash": r.scenario_hash,
                 "models": r.models, "seed": r.seed, "note": r.note} for r in rows]
        with self._lock:
            if len(self._lists) > 32:
                self._lists.clear()
            self._lists[(limit, scenario)] = (version, out)
        return out

    def _remember(self, cache: OrderedDict, key: Any, value: Any) -> Any:
        with self._lock:
            cache[key] = value
            cache.move_to_end(key)
            while len(cache) > self.cache_size:
                cache.popitem(last=False)
        return value

    def cached_json(self, run_id: int) -> bytes | None:
        with self._lock:
            return self._json.get(run_id)

    def payload_json(self, run_id: int) -> bytes:
        """:meth:`payload` serialised once (runs never change), for fast reads."""
        with self._lock:
            hit = self._json.get(run_id)
        if hit is not None:
            return hit
        import json

        data = json.dumps(self.payload(run_id), separators=(",", ":"),
                          allow_nan=False).encode()
        return self._remember(self._json, run_id, data)

    def payload(self, run_id: int) -> dict[str, Any]:
        """Everything about a run as JSON-friendly data."""
        with self._lock:
            hit = self._payloads.get(run_id)
        if hit is not None:
            return hit
        run = self.stored(run_id)
        sc = run.scenario_json
        issues = [{"id": i["id"], "name": i["name"], "scale_min": i.get("scale_min", 0.0),
                   "scale_max": i.get("scale_max", 100.0), "units": i.get("units"),
                   "status_quo": i.get("status_quo"),
                   "anchors": [{"value": a["value"], "label": a["label"]}
                               for a in i.get("anchors", [])]} for i in sc["issues"]]
        actors = [{"id": a["id"], "name": a["name"], "kind": a.get("kind", "state"),
                   "parent": a.get("parent"), "capability": a.get("capability")}
                  for a in sc["actors"]]
        from detente.scenario.schema import Issue

        issue_obj = {i["id"]: Issue.model_validate(i) for i in sc["issues"]}
        by_model: dict[str, dict[str, Any]] = {}
        for name, m in run.models.items():
            by_model[name] = {"model": name, "params": m["params"], "outcome": {},
                              "label": {}, "rounds": {}, "converged": {},
                              "actor_ids": m["actor_ids"], "issue_ids": m["issue_ids"],
                              "positions": {}}
        for r in run.forecasts:
            d = by_model.get(r["model"])
            if d is None:
                continue
            v = _f(r["outcome"])
            d["outcome"][r["issue"]] = v
            d["label"][r["issue"]] = (issue_obj[r["issue"]].label_for(v)
                                      if v is not None and r["issue"] in issue_obj else "")
            d["rounds"][r["issue"]] = r["rounds"]
            d["converged"][r["issue"]] = r["converged"]
        for row in run.positions():
            d = by_model.get(row["model"])
            if d is None:
                continue
            a_ix = d.setdefault("_a", {a: k for k, a in enumerate(d["actor_ids"])})
            grid = d["positions"].setdefault(row["issue"], [])
            while len(grid) <= row["round"]:
                grid.append([None] * len(d["actor_ids"]))
            grid[row["round"]][a_ix[row["actor"]]] = _f(row["position"])
        forecasts = []
        for d in by_model.values():
            d.pop("_a", None)
            forecasts.append(d)
        s = run.summary
        out = {
            "id": s.id, "created": s.created, "kind": s.kind, "seed": s.seed, "note": s.note,
            "scenario": {"id": s.scenario_id, "name": s.scenario_name, "hash": s.scenario_hash,
                         "view": sc.get("view"), "description": sc.get("description"),
                         "source": run.source},
            "models": s.models, "issues": issues, "actors": actors,
            "forecasts": forecasts,
            "skipped": [{"model": m, "reason": r} for m, r in run.skipped],
            "montecarlo": run.extras.get("montecarlo"),
            "version": run.version,
        }
        return self._remember(self._payloads, run_id, out)

    # -- report -----------------------------------------------------------------------
    def report(self, run_id: int) -> Any:
        """The run as the stand-alone report sees it (:func:`detente.report.build.
        report_from_run`: forecasts as stored, no model re-run; quad map, bargain network,
        sensitivity, bargaining range, agreement set and proposal computed as in
        ``detente report run:N``; the stored Monte Carlo summary and fans), so the dashboard
        shows the same figures. Sections a scenario cannot support become notes."""
        with self._lock:
            hit = self._reports.get(run_id)
        if hit is not None:
            return hit
        from detente.report.build import report_from_run

        run = self.stored(run_id)
        s = run.summary
        report = report_from_run(run, montecarlo=0, executor="serial", strict=False,
                                 title=f"Run {s.id}: {s.scenario_name or s.scenario_id}")
        return self._remember(self._reports, run_id, report)

    def figure_index(self, run_id: int) -> list[Any]:
        """The report's figures of this run (not drawn yet); empty without matplotlib."""
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return []
        from detente.report.plots import report_figures

        return report_figures(self.report(run_id))

    def figure_png(self, run_id: int, key: str) -> bytes:
        with self._lock:
            hit = self._pngs.get((run_id, key))
        if hit is not None:
            return hit
        items = {f.key: f for f in self.figure_index(run_id)}
        if key not in items:
            raise HTTPException(404, f"run {run_id} has no figure {key!r}; it has: "
                                f"{', '.join(items) or '(none: matplotlib is not installed)'}")
        from detente.report.plots import png_bytes

        with self._plot_lock:
            fig = items[key].draw()
            png = png_bytes(fig)
        return self._remember(self._pngs, (run_id, key), png)

    # -- exports ----------------------------------------------------------------------
    def forecasts_csv(self, run_id: int) -> str:
        from detente.web.security import csv_text

        p = self.payload(run_id)
        rows = []
        for f in p["forecasts"]:
            for iss in f["issue_ids"]:
                rows.append([p["id"], p["scenario"]["id"], f["model"], iss,
                             f["outcome"].get(iss), f["label"].get(iss, ""),
                             f["rounds"].get(iss), f["converged"].get(iss)])
        return csv_text(["run", "scenario", "model", "issue", "outcome", "anchor_label",
                         "rounds", "converged"], rows)

    def positions_csv(self, run_id: int) -> str:
        from detente.web.security import csv_text

        run = self.stored(run_id)
        return csv_text(["model", "round", "actor", "issue", "position"],
                        ([r["model"], r["round"], r["actor"], r["issue"], r["position"]]
                         for r in run.positions()))

    def draws_csv(self, run_id: int) -> str:
        import numpy as np

        from detente.web.security import csv_text

        self.stored(run_id)  # 404 for unknown runs
        path = self.jobs.draws_path(run_id)
        if not path.is_file():
            raise HTTPException(404, f"run {run_id} has no Monte Carlo draws; start a "
                                "Monte Carlo job to get them")
        with np.load(path, allow_pickle=False) as z:
            out, conv, draws = z["outcome"], z["converged"], z["draws"]
            models, issues = [str(x) for x in z["models"]], [str(x) for x in z["issues"]]

        def rows() -> Any:
            for j, m in enumerate(models):
                for b, d in enumerate(draws):
                    for k, iss in enumerate(issues):
                        yield [int(d), m, iss, float(out[j, b, k]), bool(conv[j, b, k])]

        return csv_text(["draw", "model", "issue", "outcome", "converged"], rows())

    # -- comparison -------------------------------------------------------------------
    def compare(self, a: int, b: int) -> dict[str, Any]:
        from detente.store import diff_runs

        ra, rb = self.stored(a), self.stored(b)
        d = diff_runs(ra, rb).to_dict()
        pa, pb = self.payload(a), self.payload(b)
        names = {i["id"]: i["name"] for i in pa["issues"] + pb["issues"]}
        d["issue_names"] = names
        d["runs"] = {"a": {k: pa[k] for k in ("id", "created", "kind", "scenario", "models",
                                               "seed")},
                     "b": {k: pb[k] for k in ("id", "created", "kind", "scenario", "models",
                                               "seed")}}
        for row in d["forecasts"]:
            for k in ("old", "new", "delta"):
                row[k] = _f(row[k])
        return d
