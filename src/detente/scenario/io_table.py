"""The wide actor x issue table used in the literature, as CSV.

One row per actor; per issue the columns ``<issue>.position``, ``<issue>.salience`` and
optionally ``<issue>.capability``. Optional metadata lines before the header carry what a
plain table cannot (scenario name, issue scales and anchors)::

    #scenario,emission,EC emission standards
    #issue,delay,Years of delay,4,10,years,
    #anchor,delay,4,earliest
    actor,name,kind,parent,capability,delay.position,delay.salience
    netherlands,Netherlands,state,,0.08,4,80

Without metadata lines, issues come from the column names and get a 0-100 scale. Empty
cells mean "no stance". Cells are written so spreadsheets never run them as formulas.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from detente.errors import InputFileError
from detente.scenario.schema import Scenario

__all__ = ["dump_table", "looks_like_table", "read_table", "read_table_text",
           "spreadsheet_text", "write_table"]

_BASE = ("actor", "name", "kind", "parent", "capability")
_SUFFIXES = ("position", "salience", "capability")


def looks_like_table(text: str) -> bool:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return first.startswith("#scenario") or (
        first.split(",")[0].strip().lower() == "actor" and ".position" in first)


def _num(value: str, path: str, line: int, field: str) -> float:
    try:
        v = float(value)
    except ValueError:
        raise InputFileError(path, f"{value!r} is not a number", line=line, field=field,
                             fix="write a plain number such as 42 or 0.5") from None
    if not math.isfinite(v):
        raise InputFileError(path, f"{value!r} is not finite", line=line, field=field,
                             fix="NaN and infinity are not allowed; write a finite number")
    return v


def _unsafe(s: str) -> str:
    """Undo :func:`_safe`'s quote prefix."""
    return s[1:] if len(s) > 1 and s[0] == "'" and s[1] in "=+-@\t\r'" else s


def read_table_text(text: str, path: str = "<table>", default_id: str = "table") -> Scenario:
    """Parse the wide table; errors name the line and column."""
    meta_issues: dict[str, dict[str, Any]] = {}
    anchors: dict[str, list[dict[str, Any]]] = {}
    sid, sname, sdesc = default_id, default_id, None
    body: list[tuple[int, list[str]]] = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(c.strip() for c in row):
            continue
        tag = row[0].strip()
        if tag == "#scenario":
            sid = row[1].strip() if len(row) > 1 and row[1].strip() else sid
            sname = _unsafe(row[2].strip()) if len(row) > 2 and row[2].strip() else sid
            sdesc = _unsafe(row[3].strip()) if len(row) > 3 and row[3].strip() else None
        elif tag == "#issue":
            if len(row) < 5:
                raise InputFileError(path, "an #issue line needs id, name, min, max",
                                     line=lineno, fix="#issue,<id>,<name>,<min>,<max>[,units"
                                     "[,status_quo]]")
            iid = row[1].strip()
            entry: dict[str, Any] = {
                "id": iid, "name": _unsafe(row[2].strip()) or iid,
                "scale_min": _num(row[3], path, lineno, "min"),
                "scale_max": _num(row[4], path, lineno, "max"),
            }
            if len(row) > 5 and row[5].strip():
                entry["units"] = _unsafe(row[5].strip())
            if len(row) > 6 and row[6].strip():
                entry["status_quo"] = _num(row[6], path, lineno, "status_quo")
            meta_issues[iid] = entry
        elif tag == "#anchor":
            if len(row) < 4:
                raise InputFileError(path, "an #anchor line needs issue, value, label",
                                     line=lineno, fix="#anchor,<issue>,<value>,<label>")
            anchors.setdefault(row[1].strip(), []).append(
                {"value": _num(row[2], path, lineno, "value"), "label": _unsafe(row[3].strip())})
        elif tag.startswith("#"):
            continue
        else:
            body.append((lineno, row))
    if not body:
        raise InputFileError(path, "no header row found", line=1,
                             fix="add a header: actor,name,kind,parent,capability,"
                                 "<issue>.position,<issue>.salience")
    hline, header = body[0]
    header = [h.strip() for h in header]
    if not header or header[0].lower() != "actor":
        raise InputFileError(path, f"header starts with {header[0]!r}, not 'actor'", line=hline,
                             fix="the first column is the actor id")
    issue_cols: dict[str, dict[str, int]] = {}
    for k, h in enumerate(header):
        if h in _BASE:
            continue
        iid, _, suffix = h.rpartition(".")
        if not iid or suffix not in _SUFFIXES:
            raise InputFileError(path, f"unknown column {h!r}", line=hline, field=h,
                                 fix="use actor,name,kind,parent,capability or "
                                     "<issue>.position / .salience / .capability")
        issue_cols.setdefault(iid, {})[suffix] = k
    for iid, cols in issue_cols.items():
        for need in ("position", "salience"):
            if need not in cols:
                raise InputFileError(path, f"issue {iid!r} has no {need} column", line=hline,
                                     fix=f"add a column {iid}.{need}")
    col = {h: k for k, h in enumerate(header)}
    actors, stances = [], []
    for lineno, row in body[1:]:
        row = row + [""] * (len(header) - len(row))
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            raise InputFileError(path, f"row has {len(row)} cells, the header {len(header)}",
                                 line=lineno, fix="remove the extra cells")

        def cell(name: str, row: list[str] = row) -> str:
            return row[col[name]].strip() if name in col else ""

        aid = cell("actor")
        actor: dict[str, Any] = {"id": aid, "name": _unsafe(cell("name")) or aid,
                                 "kind": cell("kind") or "state"}
        if cell("parent"):
            actor["parent"] = cell("parent")
        actor["capability"] = _num(cell("capability") or "nan", path, lineno, "capability") \
            if cell("capability") else _missing(path, lineno, "capability")
        actors.append(actor)
        for iid, cols in issue_cols.items():
            p, s = row[cols["position"]].strip(), row[cols["salience"]].strip()
            if not p and not s:
                continue
            if not p or not s:
                raise InputFileError(path, f"actor {aid!r} on {iid!r} has only one of position "
                                     "and salience", line=lineno, field=f"{iid}.position",
                                     fix="give both, or leave both empty for 'no stance'")
            st: dict[str, Any] = {"actor": aid, "issue": iid,
                                  "position": _num(p, path, lineno, f"{iid}.position"),
                                  "salience": _num(s, path, lineno, f"{iid}.salience")}
            if "capability" in cols and row[cols["capability"]].strip():
                st["capability"] = _num(row[cols["capability"]], path, lineno,
                                        f"{iid}.capability")
            stances.append(st)
    issues = []
    for iid in issue_cols:
        entry = dict(meta_issues.get(iid, {"id": iid, "name": iid}))
        if iid in anchors:
            entry["anchors"] = anchors[iid]
        issues.append(entry)
    data = {"id": sid, "name": sname, "issues": issues, "actors": actors, "stances": stances}
    if sdesc:
        data["description"] = sdesc
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        msg = e["msg"].removeprefix("Value error, ").split(" | ")[0]
        raise InputFileError(path, msg, field=".".join(map(str, e["loc"])) or None,
                             fix="correct the value in the table") from None


def _missing(path: str, line: int, field: str) -> float:
    raise InputFileError(path, "capability is empty", line=line, field=field,
                         fix="give every actor a capability (clout) >= 0")


def read_table(path: str | Path) -> Scenario:
    from detente.scenario.io_yaml import read_text_checked

    p = Path(path)
    return read_table_text(read_text_checked(p), str(p), default_id=_slug(p.stem))


def _slug(name: str) -> str:
    import re

    s = re.sub(r"[^A-Za-z0-9_.\-]+", "-", name).strip("-._") or "scenario"
    return s[:64]


def _safe(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text (see :func:`spreadsheet_text`)."""
    return spreadsheet_text("" if value is None else (
        repr(value) if isinstance(value, float) else str(value)))


def spreadsheet_text(s: str) -> str:
    """``s`` as a CSV cell a spreadsheet shows as text: a cell starting with ``= + - @``,
    tab or carriage return gets a leading quote unless it is a plain number; a cell already
    starting with a quote gets another, so the prefix stays reversible."""
    if s.startswith("'"):
        return "'" + s
    if s and s[0] in "=+-@\t\r":
        try:
            float(s)
        except ValueError:
            return "'" + s
    return s


def dump_table(scenario: Scenario) -> str:
    """The wide table of ``scenario`` with metadata lines (issue scales, anchors)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["#scenario", scenario.id, _safe(scenario.name),
                _safe(scenario.description or "")])
    for i in scenario.issues:
        w.writerow(["#issue", i.id, _safe(i.name), repr(i.scale_min), repr(i.scale_max),
                    _safe(i.units or ""), "" if i.status_quo is None else repr(i.status_quo)])
        for anc in i.anchors:
            w.writerow(["#anchor", i.id, repr(anc.value), _safe(anc.label)])
    has_cap = {i.id for i in scenario.issues
               if any(s.capability is not None for s in scenario.stances if s.issue == i.id)}
    header = list(_BASE)
    for i in scenario.issues:
        header += [f"{i.id}.position", f"{i.id}.salience"]
        if i.id in has_cap:
            header.append(f"{i.id}.capability")
    w.writerow(header)
    by = {(s.actor, s.issue): s for s in scenario.stances}
    for a in scenario.actors:
        row = [a.id, _safe(a.name), a.kind, a.parent or "", repr(a.capability)]
        for i in scenario.issues:
            s = by.get((a.id, i.id))
            row += ["", ""] if s is None else [repr(s.position), repr(s.salience)]
            if i.id in has_cap:
                row.append("" if s is None or s.capability is None else repr(s.capability))
        w.writerow(row)
    return out.getvalue()


def write_table(scenario: Scenario, path: str | Path) -> None:
    from detente.atomic import atomic_write_text

    atomic_write_text(path, dump_table(scenario))
