"""Import input files of the *Decide* exchange model (Stokman's equal-gain model).

A Decide file is a table whose first cell tags each row:

``#A``  actor: id, full name, comment
``#P``  issue: id, description (extra cells are joined into the description)
``#M``  a labelled point of an issue's scale: issue id, value, meaning
``#D``  actor-issue data: actor id, issue id, position, salience, power, comment
``#O``  the data set's title; ``#/`` a comment row (both optional)

Cells are separated by tabs or semicolons, and may be wrapped in single quotes
(``'#A'\t'USA'``). An issue's scale runs from its lowest to its highest ``#M`` value, or
0-100 when it has none; every ``#M`` row becomes an :class:`~detente.scenario.schema.Anchor`.

Mapping to the scenario language:

* each ``#D`` row is a :class:`Stance`; ``power`` is the stance's issue-specific
  ``capability`` and the actor's own ``capability`` is its largest power;
* saliences are on 0-1 in Decide files and become 0-100 (x100); a file whose saliences
  exceed 1 is read as already on 0-100 (``meta['decide']['salience_scale']`` says which);
* ids that are not valid detente identifiers (``EU (incl Norway)``) are turned into slugs
  (``EU_incl_Norway``); the original ids are kept in ``meta['decide']['actor_ids']`` /
  ``['issue_ids']`` (detente id -> Decide id) and in the names.

Errors name the file, the 1-based line, the field and the fix
(:class:`~detente.errors.InputFileError`).

Decide defect (kept only with ``decide_compat=True``): Decide's reader stores the whole
``#M`` row object instead of its value as an issue's lower bound whenever a scale point is
listed below an earlier one (e.g. ``100`` before ``0``); the corrupted bound then makes its
comparisons fail with a ``TypeError``. detente takes the minimum and maximum of the listed
points in any order; ``decide_compat=True`` refuses such a file at the offending line, as
Decide would.

The format was learnt from the public Decide package's reader (``decide/data/reader.py``
and ``types.py`` in ``foarsitter/decide-exchange-model``); no code is taken from it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detente.errors import InputFileError
from detente.scenario.schema import Actor, Anchor, Issue, Scenario, Stance

__all__ = ["looks_like_decide", "read_decide", "read_decide_text"]

_TAGS = ("#A", "#P", "#M", "#D", "#O", "#/")
_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _first_cell(line: str) -> str:
    cell = re.split(r"[\t;,]", line, maxsplit=1)[0].strip()
    if len(cell) >= 2 and cell[0] == cell[-1] and cell[0] in "'\"":
        cell = cell[1:-1]
    return cell


def looks_like_decide(path: str | Path) -> bool:
    """True when the file's rows are tagged like a Decide input file (``#A``/``#P``/``#D``)."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        head = p.open("rb").read(8192).decode("utf-8", errors="replace")
    except OSError:
        return False
    tags = [_first_cell(line) for line in head.splitlines() if line.strip()]
    if not tags:
        return False
    known = sum(t in _TAGS for t in tags)
    return known >= max(1, int(0.8 * len(tags))) and any(t in ("#A", "#D") for t in tags)


def _delimiter(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            if "\t" in line:
                return "\t"
            if ";" in line:
                return ";"
            return ","
    return "\t"


def _rows(text: str) -> list[tuple[int, list[str]]]:
    delim = _delimiter(text)
    out: list[tuple[int, list[str]]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = next(csv.reader(io.StringIO(line), delimiter=delim, quotechar="'"))
        cells = [c.strip() for c in cells]
        out.append((n, cells))
    return out


def _slug(raw: str, taken: set[str]) -> str:
    base = raw.strip()
    if not _ID_OK.match(base):
        base = re.sub(r"[^A-Za-z0-9_.\-]+", "_", base).strip("_.-") or "x"
        if not base[0].isalnum():
            base = "x" + base
        base = base[:64]
    cand, k = base, 2
    while cand in taken:
        suffix = f"_{k}"
        cand = base[: 64 - len(suffix)] + suffix
        k += 1
    taken.add(cand)
    return cand


@dataclass
class _IssueRec:
    raw_id: str
    line: int
    description: str
    points: list[tuple[int, float, str]] = field(default_factory=list)


def _num(path: str, line: int, fld: str, text: str, fix: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise InputFileError(path, f"{text!r} is not a number", line=line, field=fld,
                             fix=fix) from None
    if v != v or v in (float("inf"), float("-inf")):
        raise InputFileError(path, f"{text!r} is not a finite number", line=line, field=fld,
                             fix=fix)
    return v


def read_decide(path: str | Path, *, decide_compat: bool = False) -> Scenario:
    """Read a Decide input file (tab or semicolon separated) into a :class:`Scenario`."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(str(p), "file not found", fix="check the path")
    return read_decide_text(_read_text(p), source=str(p), decide_compat=decide_compat,
                            scenario_id=p.stem)


def read_decide_text(text: str, *, source: str = "<decide>", decide_compat: bool = False,
                     scenario_id: str = "decide") -> Scenario:
    """Parse the text of a Decide file (see :func:`read_decide`)."""
    path = source
    title: str | None = None
    actors: dict[str, tuple[int, str, str]] = {}  # raw id -> (line, full name, comment)
    issues: dict[str, _IssueRec] = {}
    data: dict[tuple[str, str], tuple[int, float, float, float, str]] = {}
    pending_points: list[tuple[int, str, float, str]] = []
    rows = _rows(text)
    if not rows:
        raise InputFileError(path, "the file is empty", fix="export the Decide data again")
    for line, cells in rows:
        tag = cells[0]
        rest = cells[1:]
        if tag in ("#/", ""):
            continue
        if tag == "#O":
            title = " ".join(c for c in rest if c) or title
            continue
        if tag == "#A":
            if not rest or not rest[0]:
                raise InputFileError(path, "actor row without an id", line=line, field="id",
                                     fix="write '#A<TAB>id<TAB>full name'")
            aid = rest[0]
            if aid in actors:
                raise InputFileError(path, f"actor {aid!r} is declared twice (first on line "
                                     f"{actors[aid][0]})", line=line, field="id",
                                     fix="remove the duplicate #A row")
            full = rest[1] if len(rest) > 1 and rest[1] else aid
            comment = " ".join(c for c in rest[2:] if c)
            actors[aid] = (line, full, comment)
            continue
        if tag == "#P":
            if not rest or not rest[0]:
                raise InputFileError(path, "issue row without an id", line=line, field="id",
                                     fix="write '#P<TAB>id<TAB>description'")
            iid = rest[0]
            if iid in issues:
                raise InputFileError(path, f"issue {iid!r} is declared twice (first on line "
                                     f"{issues[iid].line})", line=line, field="id",
                                     fix="remove the duplicate #P row")
            desc = " ".join(c for c in rest[1:] if c).strip()
            issues[iid] = _IssueRec(iid, line, desc)
            continue
        if tag == "#M":
            if len(rest) < 2:
                raise InputFileError(path, "scale point row needs an issue id and a value",
                                     line=line, fix="write '#M<TAB>issue<TAB>value<TAB>meaning'")
            val = _num(path, line, "position", rest[1], "give the scale point as a number")
            label = " ".join(c for c in rest[2:] if c).strip()
            pending_points.append((line, rest[0], val, label))
            continue
        if tag == "#D":
            if len(rest) < 5:
                raise InputFileError(path, f"actor-issue row has {len(rest)} of the 5 cells "
                                     "actor, issue, position, salience, power", line=line,
                                     fix="write '#D<TAB>actor<TAB>issue<TAB>position<TAB>"
                                         "salience<TAB>power'")
            aid, iid = rest[0], rest[1]
            pos = _num(path, line, "position", rest[2], "give the position as a number")
            sal = _num(path, line, "salience", rest[3], "give the salience as a number, 0-1")
            power = _num(path, line, "power", rest[4], "give the power as a number >= 0")
            comment = " ".join(c for c in rest[5:] if c)
            if (aid, iid) in data:
                raise InputFileError(path, f"a second row for actor {aid!r} on issue {iid!r} "
                                     f"(first on line {data[(aid, iid)][0]})", line=line,
                                     fix="keep one #D row per actor and issue")
            data[(aid, iid)] = (line, pos, sal, power, comment)
            continue
        raise InputFileError(path, f"unknown row tag {tag!r}", line=line, field="tag",
                             fix="start each row with #A, #P, #M, #D, #O or #/")

    if not actors:
        raise InputFileError(path, "no actors (#A rows)", fix="declare each actor on an #A row")
    if not issues:
        raise InputFileError(path, "no issues (#P rows)", fix="declare each issue on a #P row")

    for line, iid, val, label in pending_points:
        if iid not in issues:
            raise InputFileError(path, f"scale point for unknown issue {iid!r}", line=line,
                                 field="issue", fix=f"declare {iid!r} on a #P row first")
        rec = issues[iid]
        if decide_compat and rec.points and val < rec.points[0][1]:
            raise InputFileError(
                path, f"scale point {val:g} of issue {iid!r} is listed after the larger point "
                f"{rec.points[0][1]:g}; Decide's reader corrupts the issue's lower bound here "
                "and fails (decide_compat=True keeps that behaviour)", line=line,
                field="position", fix="list the scale points of each issue in increasing "
                "order, or read without decide_compat")
        rec.points.append((line, val, label))

    # scales
    scale: dict[str, tuple[float, float]] = {}
    for iid, rec in issues.items():
        if not rec.points:
            scale[iid] = (0.0, 100.0)
            continue
        vals = [v for _, v, _ in rec.points]
        lo, hi = min(vals), max(vals)
        if not hi > lo:
            raise InputFileError(path, f"issue {iid!r} has scale points only at {lo:g}; an "
                                 "issue's scale needs a lowest and a highest point",
                                 line=rec.points[-1][0], field="position",
                                 fix="add a second #M row with the other end of the scale, or "
                                     "remove the #M rows to use 0-100")
        scale[iid] = (lo, hi)

    # data rows: check references and ranges, collect all problems and report the first
    problems: list[tuple[int, str, str, str]] = []
    sal_scale = 1.0 if all(v[2] <= 1.0 for v in data.values()) else 100.0
    for (aid, iid), (line, pos, sal, power, _c) in data.items():
        if aid not in actors:
            problems.append((line, "actor", f"unknown actor {aid!r}",
                             f"declare {aid!r} on an #A row or fix the spelling"))
            continue
        if iid not in issues:
            problems.append((line, "issue", f"unknown issue {iid!r}",
                             f"declare {iid!r} on a #P row or fix the spelling"))
            continue
        lo, hi = scale[iid]
        if not lo <= pos <= hi:
            problems.append((line, "position", f"position {pos:g} of {aid!r} on {iid!r} lies "
                             f"outside the issue's scale [{lo:g}, {hi:g}]",
                             "correct the position, or add #M rows that widen the scale"))
        if not 0 <= sal <= sal_scale:
            problems.append((line, "salience", f"salience {sal:g} of {aid!r} on {iid!r} is "
                             f"outside 0-{sal_scale:g}", "give the salience on 0-1"))
        if power < 0:
            problems.append((line, "power", f"power {power:g} of {aid!r} on {iid!r} is "
                             "negative", "give a power >= 0"))
    if problems:
        problems.sort()
        line, fld, msg, fix = problems[0]
        if len(problems) > 1:
            more = ", ".join(f"line {ln} ({f})" for ln, f, _, _ in problems[1:6])
            msg += f" (also: {more}{', ...' if len(problems) > 6 else ''})"
        raise InputFileError(path, msg, line=line, field=fld, fix=fix)

    taken_a: set[str] = set()
    aid_map = {raw: _slug(raw, taken_a) for raw in actors}
    taken_i: set[str] = set()
    iid_map = {raw: _slug(raw, taken_i) for raw in issues}

    issue_objs = []
    for iid, rec in issues.items():
        lo, hi = scale[iid]
        anchors = tuple(Anchor(value=v, label=lab or f"{v:g}")
                        for _, v, lab in sorted(rec.points, key=lambda t: t[1]))
        issue_desc = rec.description or None
        name = issue_desc if issue_desc and issue_desc != iid else iid
        issue_objs.append(Issue(id=iid_map[iid], name=name,
                                description=issue_desc if issue_desc and issue_desc != name
                                else None,
                                scale_min=lo, scale_max=hi, anchors=anchors))
    max_power: dict[str, float] = {}
    for (aid, _iid), (_l, _p, _s, power, _c) in data.items():
        max_power[aid] = max(max_power.get(aid, 0.0), power)
    actor_objs = [
        Actor(id=aid_map[aid], name=full or aid, capability=max_power.get(aid, 0.0),
              description=comment or None)
        for aid, (_line, full, comment) in actors.items()
    ]
    factor = 100.0 if sal_scale == 1.0 else 1.0
    stance_objs = [
        Stance(actor=aid_map[aid], issue=iid_map[iid], position=pos,
               salience=min(100.0, sal * factor), capability=power, note=comment or None)
        for (aid, iid), (_l, pos, sal, power, comment) in data.items()
    ]
    if not stance_objs:
        raise InputFileError(path, "no actor-issue data (#D rows)",
                             fix="add one #D row per actor and issue")
    meta: dict[str, Any] = {
        "decide": {
            "source": path,
            "actor_ids": {v: k for k, v in aid_map.items()},
            "issue_ids": {v: k for k, v in iid_map.items()},
            "salience_scale": "0-1" if sal_scale == 1.0 else "0-100",
        }
    }
    sid = _slug(scenario_id, set())
    try:
        return Scenario(id=sid, name=title or scenario_id, issues=tuple(issue_objs),
                        actors=tuple(actor_objs), stances=tuple(stance_objs), meta=meta)
    except ValueError as exc:  # pydantic ValidationError is a ValueError
        raise InputFileError(path, f"the data do not form a valid scenario: {exc}",
                             fix="correct the rows named above") from None
