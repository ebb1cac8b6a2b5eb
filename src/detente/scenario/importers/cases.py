"""Import documented test cases: a ``cases.csv`` of one row per case plus a long
``case_actors.csv`` of one row per actor (``case_id, actor_id, actor_name, position,
salience, capability``). Each case becomes a one-issue :class:`Scenario`.

Positions are on each case's own scale (``scale_min``..``scale_max`` in ``cases.csv``), not
necessarily 0-100. The scenario's issue has the case id as its id and the reference point
as its status quo; ``meta`` keeps the known outcome (or null), where it comes from, the
published forecasts, how the inputs were verified and the reference values
``expected_weighted_mean_cxs`` / ``expected_weighted_median_cxs`` used in unit tests.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Any

from detente.errors import InputFileError
from detente.scenario.schema import Actor, Issue, Scenario, Stance

__all__ = ["looks_like_cases", "read_cases"]

_CASE_COLUMNS = ("case_id", "scale_min", "scale_max")
_ACTOR_COLUMNS = ("case_id", "actor_id", "position", "salience", "capability")
_TEXT_META = ("scale_meaning", "capability_scale", "salience_scale", "outcome_basis",
              "published_forecasts", "verification")
_NUM_META = ("expected_weighted_mean_cxs", "expected_weighted_median_cxs")


def _read(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(str(path), "file not found", fix="check the path") from None
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror})") from None
    if b"\x00" in raw[:4096]:
        raise InputFileError(str(path), "looks binary, not a CSV text file",
                             fix="give the comma-separated cases file")
    text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise InputFileError(str(path), "the file is empty",
                             fix=f"add a header row with {', '.join(required)}")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise InputFileError(str(path), f"missing column(s) {', '.join(missing)}", line=1,
                             field=missing[0], fix=f"the header needs {', '.join(required)}")
    rows = []
    for rec in reader:
        if None in rec:
            raise InputFileError(str(path), "row has more fields than the header",
                                 line=reader.line_num, fix="quote fields that contain commas")
        if not any((v or "").strip() for v in rec.values()):
            continue
        rows.append((reader.line_num, {k: (v or "").strip() for k, v in rec.items()}))
    return rows


def _num(path: Path, line: int, rec: dict[str, str], col: str, *,
         required: bool = False) -> float | None:
    raw = rec.get(col, "")
    if raw == "":
        if required:
            raise InputFileError(str(path), "value is missing", line=line, field=col,
                                 fix=f"give {col} as a number")
        return None
    try:
        v = float(raw)
    except ValueError:
        raise InputFileError(str(path), f"{raw!r} is not a number", line=line, field=col,
                             fix=f"write {col} as a number") from None
    if not math.isfinite(v):
        raise InputFileError(str(path), f"{raw!r} is not finite", line=line, field=col,
                             fix=f"write {col} as a finite number")
    return v


def _ident(path: Path, line: int, col: str, raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}", raw):
        raise InputFileError(str(path), f"{raw!r} is not a valid id", line=line, field=col,
                             fix="ids use letters, digits, '_', '.', '-' and start with a "
                             "letter or digit")
    return raw


def looks_like_cases(path: str | Path) -> bool:
    """True when the first line is a cases.csv header (case_id, scale_min, scale_max...)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return False
    cols = {c.strip() for c in first.split(",")}
    return all(c in cols for c in _CASE_COLUMNS)


def read_cases(cases_csv: str | Path, actors_csv: str | Path | None = None) -> list[Scenario]:
    """One single-issue scenario per case of ``cases_csv``.

    ``actors_csv`` defaults to ``case_actors.csv`` next to ``cases_csv``. Cases without
    actor rows are an error (so a typo in a case id is caught), as are actor rows naming
    an unknown case and an ``n_actors`` column that disagrees with the actor rows.
    """
    cpath = Path(cases_csv)
    apath = Path(actors_csv) if actors_csv is not None else cpath.with_name("case_actors.csv")
    cases = _read(cpath, _CASE_COLUMNS)
    actor_rows = _read(apath, _ACTOR_COLUMNS)
    by_case: dict[str, list[tuple[int, dict[str, str]]]] = {}
    case_ids = [rec["case_id"] for _, rec in cases]
    for line, rec in actor_rows:
        cid = rec["case_id"]
        if cid not in case_ids:
            raise InputFileError(str(apath), f"unknown case {cid!r}", line=line, field="case_id",
                                 fix=f"use one of {', '.join(case_ids)} or add the case to "
                                 f"{cpath.name}")
        by_case.setdefault(cid, []).append((line, rec))

    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for line, rec in cases:
        cid = _ident(cpath, line, "case_id", rec["case_id"])
        if cid in seen:
            raise InputFileError(str(cpath), f"case {cid!r} appears twice", line=line,
                                 field="case_id", fix="each case must have one row")
        seen.add(cid)
        lo = _num(cpath, line, rec, "scale_min", required=True)
        hi = _num(cpath, line, rec, "scale_max", required=True)
        assert lo is not None and hi is not None
        if not hi > lo:
            raise InputFileError(str(cpath), f"scale_max {hi:g} is not above scale_min {lo:g}",
                                 line=line, field="scale_max", fix="swap or fix the bounds")
        rp = _num(cpath, line, rec, "reference_point")
        out = _num(cpath, line, rec, "outcome")
        for col, val in (("reference_point", rp), ("outcome", out)):
            if val is not None and not lo <= val <= hi:
                raise InputFileError(str(cpath), f"{val:g} lies outside the scale [{lo:g}, "
                                     f"{hi:g}]", line=line, field=col,
                                     fix="use the case's own scale units")
        rows = by_case.get(cid, [])
        if not rows:
            raise InputFileError(str(apath), f"no actor rows for case {cid!r}", field="case_id",
                                 fix=f"add rows '{cid},<actor_id>,<name>,<position>,<salience>,"
                                 "<capability>'")
        n_declared = _num(cpath, line, rec, "n_actors")
        if n_declared is not None and int(n_declared) != len(rows):
            raise InputFileError(str(cpath), f"n_actors says {int(n_declared)} but "
                                 f"{apath.name} has {len(rows)} rows for {cid!r}", line=line,
                                 field="n_actors", fix="fix the count or the actor rows")
        actors: list[Actor] = []
        stances: list[Stance] = []
        ids: set[str] = set()
        for aline, arec in rows:
            aid = _ident(apath, aline, "actor_id", arec["actor_id"])
            if aid in ids:
                raise InputFileError(str(apath), f"actor {aid!r} appears twice in case {cid!r}",
                                     line=aline, field="actor_id",
                                     fix="each actor has one row per case")
            ids.add(aid)
            pos = _num(apath, aline, arec, "position", required=True)
            sal = _num(apath, aline, arec, "salience", required=True)
            cap = _num(apath, aline, arec, "capability", required=True)
            assert pos is not None and sal is not None and cap is not None
            if not lo <= pos <= hi:
                raise InputFileError(str(apath), f"position {pos:g} lies outside the case's "
                                     f"scale [{lo:g}, {hi:g}]", line=aline, field="position",
                                     fix="positions use the scale given in cases.csv")
            if not 0 <= sal <= 100:
                raise InputFileError(str(apath), f"salience {sal:g} outside 0-100", line=aline,
                                     field="salience", fix="saliences lie on 0-100")
            if cap < 0:
                raise InputFileError(str(apath), f"capability {cap:g} is negative", line=aline,
                                     field="capability", fix="capabilities are >= 0")
            actors.append(Actor(id=aid, name=arec.get("actor_name") or aid, capability=cap))
            stances.append(Stance(actor=aid, issue=cid, position=pos, salience=sal))
        meta: dict[str, Any] = {"format": "cases", "case_id": cid, "outcome": out,
                                "reference_point": rp,
                                "scoreable": out is not None and len(rows) >= 3}
        for col in _TEXT_META:
            meta[col] = rec.get(col) or None
        for col in _NUM_META:
            meta[col] = _num(cpath, line, rec, col)
        issue = Issue(id=cid, name=rec.get("scale_meaning") or cid, scale_min=lo, scale_max=hi,
                      status_quo=rp)
        scenarios.append(Scenario(id=cid, name=cid, description=rec.get("scale_meaning") or None,
                                  issues=(issue,), actors=tuple(actors), stances=tuple(stances),
                                  meta=meta))
    return scenarios
