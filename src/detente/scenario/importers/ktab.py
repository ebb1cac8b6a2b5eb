"""Import KTAB Spatial Model of Politics (SMP) inputs: the CSV and the XML scenario formats.

CSV (``ktab_smp.md`` §3.1)::

    <scenario name>,<description>,<#actors>,<#dims>[,...]
    Actor,Description,Power,<Dim1 name>,<Dim1 salience header>,...      (header row)
    <name>,<description>,<capability>,<pos d1>,<sal d1>,<pos d2>,<sal d2>,...

Quotes around fields are trimmed, surrounding spaces tolerated, trailing commas and blank
lines ignored. Checks: 3 to 250 actors, at least one dimension, actor names of 1-25
characters, descriptions of at most 256, scenario name and description of at most 512,
capability in [0, 1e8], positions and saliences in [0, 100], and each actor's saliences
summing to at most 100.

XML (§3.2): ``<Scenario>`` with ``name``, ``desc``, ``prngSeed``, optional
``ModelParameters`` (all nine or none), ``Dimensions/dName``, ``Actors/Actor`` (``name``,
``description``, ``capability``, ``Position/dCoord``, ``Salience/dSal``) and an optional
``IdealAdjustment`` (``iaPair``: ``adjustingIdeal``, ``referencePos``, ``adjust``). Unlike
KTAB's own reader, ``IdealAdjustment`` may be left out (the XSD allows it) and both enum
spellings are accepted (the XSD's ``Proportional``/``No`` and the parser's ``Prop``/``None``).

Each dimension becomes an issue on a 0-100 scale; ids are slugs of the names (made unique).
The model parameters, seed and accommodation matrix go to ``scenario.meta["ktab"]`` as plain
JSON: ``{"format", "name", "desc", "seed", "parameters", "accommodation", "actor_names",
"dimension_names"}``; ``accommodation`` is a list of ``[adjusting_actor_id,
reference_actor_id, value]`` entries of the full matrix (identity unless the XML says
otherwise), ``parameters`` maps the nine KTAB parameter names (``StateTransMode`` for the XML
tag ``StateTransitions``) to their canonical spellings.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from detente.errors import InputFileError
from detente.scenario.schema import Actor, Issue, Scenario, Stance

__all__ = [
    "read_ktab_csv",
    "read_ktab_xml",
    "looks_like_ktab_csv",
    "slugify",
    "KTAB_PARAMETERS",
    "canonical_enum",
]

MIN_ACTORS, MAX_ACTORS = 3, 250
MAX_CAPABILITY = 1e8
MAX_ACTOR_NAME, MAX_ACTOR_DESC, MAX_SCEN_TEXT = 25, 256, 512

# parameter -> (allowed canonical values, aliases)
KTAB_PARAMETERS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "VictoryProbModel": (("Linear", "Square", "Quartic", "Octic", "Binary"), {}),
    "PCEModel": (("Conditional", "MarkovIncentive", "MarkovUniform"), {}),
    "StateTransMode": (("Deterministic", "Stochastic"), {}),
    "VotingRule": (("Binary", "PropBin", "Prop", "PropCbc", "Cubic", "ASymProsp"),
                   {"Proportional": "Prop"}),
    "BigRAdjust": (("None", "OneThird", "Half", "TwoThirds", "Full"), {"No": "None"}),
    "BigRRange": (("Min", "Mid", "Max"), {}),
    "ThirdPartyCommit": (("NoCommit", "SemiCommit", "FullCommit"), {}),
    "InterVecBrgn": (("S1P1", "S2P2", "S2PMax"), {}),
    "BargnModel": (("InitOnlyInterp", "InitRcvrInterp", "PWCompInterp"), {}),
}
_XML_TAG = {"StateTransMode": "StateTransitions"}


def canonical_enum(param: str, value: str) -> str | None:
    """The canonical spelling of ``value`` for KTAB parameter ``param`` (None if unknown)."""
    allowed, aliases = KTAB_PARAMETERS[param]
    v = value.strip()
    if v in allowed:
        return v
    if v in aliases:
        return aliases[v]
    for a in allowed:  # tolerate case differences
        if a.lower() == v.lower():
            return a
    for k, a in aliases.items():
        if k.lower() == v.lower():
            return a
    return None


def slugify(text: str, fallback: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip()).strip("-_.").lower()
    s = re.sub(r"-{2,}", "-", s)
    if not s or not s[0].isalnum():
        s = fallback
    return s[:64].rstrip("-_.") or fallback


def _unique_slugs(names: list[str], prefix: str) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for n, name in enumerate(names):
        base = slugify(name, f"{prefix}{n + 1}")
        cand, k = base, 2
        while cand in seen:
            suffix = f"-{k}"
            cand = base[: 64 - len(suffix)] + suffix
            k += 1
        seen.add(cand)
        out.append(cand)
    return out


def _fields(line: str) -> list[str]:
    try:  # like KTAB's reader, but a quoted field may also hold commas
        parts = [p.strip() for p in next(csv.reader([line.rstrip("\r\n")],
                                                     skipinitialspace=True))]
    except (csv.Error, StopIteration):
        parts = [p.strip() for p in line.rstrip("\r\n").split(",")]
    while parts and parts[-1] == "":
        parts.pop()
    return [p[1:-1].strip() if len(p) >= 2 and p[0] == p[-1] == '"' else p.strip('"').strip()
            for p in parts]


def _num(path: str, value: str, *, line: int, field: str, what: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise InputFileError(path, f"{what} {value!r} is not a number", line=line, field=field,
                             fix=f"write the {what} as a plain number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise InputFileError(path, f"{what} must be finite", line=line, field=field,
                             fix=f"write the {what} as a finite number")
    return x


def _text_lines(path: Path) -> list[tuple[int, str]]:
    from detente.scenario.io_yaml import read_text_checked

    text = read_text_checked(path, what="KTAB CSV file")
    return [(n, ln) for n, ln in enumerate(text.splitlines(), start=1) if ln.strip(" ,\t\r")]


def looks_like_ktab_csv(path: str | Path) -> bool:
    """True when the first line reads ``<name>,<desc>,<#actors>,<#dims>[,...]``."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = ""
            for ln in fh:
                if ln.strip(" ,\t\r\n"):
                    first = ln
                    break
    except OSError:
        return False
    f = _fields(first)
    if len(f) < 4:
        return False
    try:
        na, nd = float(f[2]), float(f[3])
    except ValueError:
        return False
    return na >= 1 and nd >= 1 and na == int(na) and nd == int(nd)


def _build(path: str, *, name: str, desc: str, dims: list[str], actors: list[dict[str, Any]],
           meta: dict[str, Any], accommodation: dict[tuple[int, int], float] | None) -> Scenario:
    issue_ids = _unique_slugs(dims, "dim")
    actor_ids = _unique_slugs([a["name"] for a in actors], "actor")
    issues = tuple(Issue(id=iid, name=dn or iid, scale_min=0.0, scale_max=100.0,
                         description=f"KTAB dimension {k} ({dn})")
                   for k, (iid, dn) in enumerate(zip(issue_ids, dims, strict=True)))
    acts = tuple(Actor(id=aid, name=a["name"], capability=a["cap"],
                       description=a["desc"] or None)
                 for aid, a in zip(actor_ids, actors, strict=True))
    stances = tuple(Stance(actor=aid, issue=iid, position=a["pos"][d], salience=a["sal"][d])
                    for aid, a in zip(actor_ids, actors, strict=True)
                    for d, iid in enumerate(issue_ids))
    n = len(actors)
    acc = {(i, i): 1.0 for i in range(n)}
    if accommodation:
        acc.update(accommodation)
    meta = dict(meta)
    meta["accommodation"] = [[actor_ids[i], actor_ids[j], float(v)]
                             for (i, j), v in sorted(acc.items()) if v != 0.0]
    meta["actor_names"] = {aid: a["name"] for aid, a in zip(actor_ids, actors, strict=True)}
    meta["dimension_names"] = {iid: dn for iid, dn in zip(issue_ids, dims, strict=True)}
    sid = slugify(name, "ktab-scenario")
    try:
        return Scenario(id=sid, name=name or sid, description=desc or None, issues=issues,
                        actors=acts, stances=stances, meta={"ktab": meta})
    except ValueError as exc:  # pydantic ValidationError is a ValueError
        raise InputFileError(path, f"does not make a valid scenario: {exc}",
                             fix="check actor and dimension names and values") from None


def _check_actor(path: str, a: dict[str, Any], *, line: int) -> None:
    if not 1 <= len(a["name"]) <= MAX_ACTOR_NAME:
        raise InputFileError(path, f"actor name {a['name']!r} must have 1 to {MAX_ACTOR_NAME} "
                             "characters", line=line, field="Actor",
                             fix="shorten the name (or give one)")
    if len(a["desc"]) > MAX_ACTOR_DESC:
        raise InputFileError(path, f"actor description has more than {MAX_ACTOR_DESC} "
                             "characters", line=line, field="Description",
                             fix="shorten the description")
    if not 0.0 <= a["cap"] <= MAX_CAPABILITY:
        raise InputFileError(path, f"capability {a['cap']:g} of {a['name']!r} lies outside "
                             f"[0, {MAX_CAPABILITY:g}]", line=line, field="Power",
                             fix="give a non-negative capability of at most 1e8")
    total = 0.0
    for d, (p, s) in enumerate(zip(a["pos"], a["sal"], strict=True)):
        if not 0.0 <= p <= 100.0:
            raise InputFileError(path, f"position {p:g} of {a['name']!r} on dimension {d + 1} "
                                 "lies outside [0, 100]", line=line,
                                 field=f"position {d + 1}", fix="use the 0-100 scale")
        if not 0.0 <= s <= 100.0:
            raise InputFileError(path, f"salience {s:g} of {a['name']!r} on dimension {d + 1} "
                                 "lies outside [0, 100]", line=line,
                                 field=f"salience {d + 1}", fix="use the 0-100 scale")
        total += s
        if total > 100.0:
            raise InputFileError(path, f"saliences of {a['name']!r} sum to more than 100 "
                                 f"(reached {total:g} at dimension {d + 1})", line=line,
                                 field=f"salience {d + 1}",
                                 fix="scale the actor's saliences so they add up to 100 or less")


def _check_counts(path: str, na: int, nd: int, *, line: int | None) -> None:
    if nd < 1:
        raise InputFileError(path, f"number of dimensions is {nd}; at least 1 is needed",
                             line=line, field="#dims", fix="give at least one dimension")
    if not MIN_ACTORS <= na <= MAX_ACTORS:
        raise InputFileError(path, f"number of actors is {na}; KTAB accepts {MIN_ACTORS} to "
                             f"{MAX_ACTORS}", line=line, field="#actors",
                             fix=f"give between {MIN_ACTORS} and {MAX_ACTORS} actors")


def read_ktab_csv(path: str | Path) -> Scenario:
    """Read a KTAB SMP CSV file into a :class:`Scenario` (see the module docstring)."""
    p = Path(path)
    sp = str(p)
    lines = _text_lines(p)
    if not lines:
        raise InputFileError(sp, "file is empty", fix="write a KTAB SMP CSV file")
    ln0, first = lines[0]
    f = _fields(first)
    if len(f) < 4:
        raise InputFileError(sp, "first line must read '<name>,<description>,<#actors>,"
                             "<#dims>'", line=ln0, fix="add the scenario header line")
    name, desc = f[0], f[1]
    try:
        na_f, nd_f = float(f[2]), float(f[3])
        if na_f != int(na_f) or nd_f != int(nd_f):
            raise ValueError
        na, nd = int(na_f), int(nd_f)
    except ValueError:
        raise InputFileError(sp, f"#actors {f[2]!r} and #dims {f[3]!r} must be whole numbers",
                             line=ln0, field="#actors/#dims",
                             fix="write counts such as '7,3'") from None
    if len(name) > MAX_SCEN_TEXT or len(desc) > MAX_SCEN_TEXT:
        raise InputFileError(sp, f"scenario name or description is longer than {MAX_SCEN_TEXT} "
                             "characters", line=ln0, fix="shorten it")
    _check_counts(sp, na, nd, line=ln0)
    if len(lines) < 2:
        raise InputFileError(sp, "header row is missing", line=ln0 + 1,
                             fix="add 'Actor,Description,Power,<Dim1>,<Sal1>,...'")
    ln1, head = lines[1]
    h = _fields(head)
    if len(h) < 3 + 2 * nd:
        raise InputFileError(sp, f"header row has {len(h)} columns; {3 + 2 * nd} are needed for "
                             f"{nd} dimensions", line=ln1,
                             fix="list a position and a salience column per dimension")
    dims = [h[3 + 2 * d] or f"Dim{d}" for d in range(nd)]
    rows = lines[2:]
    if len(rows) < na:
        last = rows[-1][0] if rows else ln1
        raise InputFileError(sp, f"the first line announces {na} actors but only {len(rows)} "
                             "actor rows follow", line=last + 1,
                             fix="add the missing rows or correct #actors")
    actors: list[dict[str, Any]] = []
    for ln, text in rows[:na]:
        r = _fields(text)
        if len(r) < 3 + 2 * nd:
            raise InputFileError(sp, f"actor row has {len(r)} fields; {3 + 2 * nd} are needed",
                                 line=ln, fix="give name, description, capability and a "
                                 "position and salience per dimension")
        a = {"name": r[0], "desc": r[1],
             "cap": _num(sp, r[2], line=ln, field="Power", what="capability"),
             "pos": [_num(sp, r[3 + 2 * d], line=ln, field=f"position {d + 1}",
                          what="position") for d in range(nd)],
             "sal": [_num(sp, r[4 + 2 * d], line=ln, field=f"salience {d + 1}",
                          what="salience") for d in range(nd)]}
        _check_actor(sp, a, line=ln)
        actors.append(a)
    names = [a["name"] for a in actors]
    dup = next((x for x in names if names.count(x) > 1), None)
    if dup is not None:
        ln = rows[names.index(dup, names.index(dup) + 1)][0]
        raise InputFileError(sp, f"actor name {dup!r} appears twice", line=ln, field="Actor",
                             fix="give each actor a distinct name")
    meta = {"format": "csv", "name": name, "desc": desc, "seed": None, "parameters": None}
    return _build(sp, name=name, desc=desc, dims=dims, actors=actors, meta=meta,
                  accommodation=None)


# ---------------------------------------------------------------------------------------
# XML


def _line_of(text: str, needle: str, start: int = 0) -> int | None:
    k = text.find(needle, start)
    return None if k < 0 else text.count("\n", 0, k) + 1


def read_ktab_xml(path: str | Path) -> Scenario:
    """Read a KTAB SMP XML scenario into a :class:`Scenario` (see the module docstring)."""
    from detente.scenario.io_yaml import read_text_checked

    p = Path(path)
    sp = str(p)
    text = read_text_checked(p, what="KTAB XML file")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputFileError(sp, f"is not well-formed XML ({exc})", line=line,
                             fix="fix the XML syntax") from None
    if root.tag != "Scenario":
        raise InputFileError(sp, f"root element is <{root.tag}>, not <Scenario>", line=1,
                             fix="use KTAB's SMP XML format (smpSchema.xsd)")

    def req_text(el: ET.Element | None, tag: str, where: str, *, line_hint: int | None = None,
                 allow_empty: bool = False) -> str:
        child = el.find(tag) if el is not None else None
        if child is None:
            raise InputFileError(sp, f"<{tag}> is missing in {where}", line=line_hint, field=tag,
                                 fix=f"add a <{tag}> element")
        val = (child.text or "").strip()
        if not val and not allow_empty:
            raise InputFileError(sp, f"<{tag}> in {where} is empty", line=line_hint, field=tag,
                                 fix=f"write a value inside <{tag}>")
        return val

    name = req_text(root, "name", "<Scenario>", line_hint=_line_of(text, "<name"))
    desc = req_text(root, "desc", "<Scenario>", line_hint=_line_of(text, "<desc"),
                    allow_empty=True)
    seed: int | None = None
    seed_el = root.find("prngSeed")
    if seed_el is not None and (seed_el.text or "").strip():
        try:
            seed = int((seed_el.text or "").strip())
            if not 0 <= seed < 2**64:
                raise ValueError
        except ValueError:
            raise InputFileError(sp, f"prngSeed {seed_el.text!r} is not a 64-bit unsigned "
                                 "integer", line=_line_of(text, "<prngSeed"), field="prngSeed",
                                 fix="write the seed as digits, e.g. 0 for random") from None

    params: dict[str, str] | None = None
    mp = root.find("ModelParameters")
    if mp is not None:
        params = {}
        for param, (allowed, aliases) in KTAB_PARAMETERS.items():
            tag = _XML_TAG.get(param, param)
            ln = _line_of(text, f"<{tag}")
            raw = req_text(mp, tag, "<ModelParameters>", line_hint=ln or
                           _line_of(text, "<ModelParameters"))
            val = canonical_enum(param, raw)
            if val is None:
                spellings = ", ".join((*allowed, *aliases))
                raise InputFileError(sp, f"unknown {tag} value {raw!r}", line=ln, field=tag,
                                     fix=f"use one of: {spellings}")
            params[param] = val

    dims_el = root.find("Dimensions")
    dims = [(d.text or "").strip() for d in dims_el.findall("dName")] if dims_el is not None \
        else []
    if not dims:
        raise InputFileError(sp, "no dimensions: <Dimensions> needs at least one <dName>",
                             line=_line_of(text, "<Dimensions"), field="Dimensions",
                             fix="list them as <Dimensions><dName>..</dName></Dimensions>")
    nd = len(dims)
    actors_el = root.find("Actors")
    actor_els = actors_el.findall("Actor") if actors_el is not None else []
    na = len(actor_els)
    _check_counts(sp, na, nd, line=_line_of(text, "<Actors"))
    actors: list[dict[str, Any]] = []
    cursor = 0
    for n, ael in enumerate(actor_els):
        ln = _line_of(text, "<Actor>", cursor) or _line_of(text, "<Actor", cursor)
        if ln is not None:
            cursor = text.find("<Actor", cursor) + 1
        where = f"actor #{n + 1}"
        aname = req_text(ael, "name", where, line_hint=ln)
        where = f"actor {aname!r}"
        adesc = req_text(ael, "description", where, line_hint=ln, allow_empty=True)
        cap = _num(sp, req_text(ael, "capability", where, line_hint=ln), line=ln or 0,
                   field="capability", what="capability")
        vals: dict[str, list[float]] = {}
        for block, tag in (("Position", "dCoord"), ("Salience", "dSal")):
            bel = ael.find(block)
            if bel is None:
                raise InputFileError(sp, f"<{block}> is missing in {where}", line=ln, field=block,
                                     fix=f"add <{block}> with one <{tag}> per dimension")
            items = bel.findall(tag)
            if len(items) != nd:
                raise InputFileError(sp, f"{where} has {len(items)} <{tag}> values in "
                                     f"<{block}>; there are {nd} dimensions", line=ln, field=tag,
                                     fix=f"give exactly one <{tag}> per dimension")
            out = []
            for d, it in enumerate(items):
                raw = (it.text or "").strip()
                if not raw:
                    raise InputFileError(sp, f"{where}: <{tag}> number {d + 1} in <{block}> is "
                                         "empty (KTAB rejects this file too)", line=ln, field=tag,
                                         fix=f"write a number between 0 and 100 inside the "
                                         f"<{tag}>")
                out.append(_num(sp, raw, line=ln or 0, field=tag, what=block.lower()))
            vals[block] = out
        a = {"name": aname, "desc": adesc, "cap": cap, "pos": vals["Position"],
             "sal": vals["Salience"]}
        _check_actor(sp, a, line=ln or 0)
        actors.append(a)
    names = [a["name"] for a in actors]
    dup = next((x for x in names if names.count(x) > 1), None)
    if dup is not None:
        raise InputFileError(sp, f"actor name {dup!r} appears twice", field="name",
                             fix="give each actor a distinct name")
    index = {nm: i for i, nm in enumerate(names)}
    accommodation: dict[tuple[int, int], float] | None = None
    ia = root.find("IdealAdjustment")
    if ia is not None:
        accommodation = {}
        cursor = 0
        for pair in ia.findall("iaPair"):
            ln = _line_of(text, "<iaPair", cursor)
            if ln is not None:
                cursor = text.find("<iaPair", cursor) + 1
            adj = req_text(pair, "adjustingIdeal", "<iaPair>", line_hint=ln)
            ref = req_text(pair, "referencePos", "<iaPair>", line_hint=ln)
            for who in (adj, ref):
                if who not in index:
                    raise InputFileError(sp, f"<iaPair> names unknown actor {who!r}", line=ln,
                                         field="iaPair", fix=f"use one of: {', '.join(names)}")
            v = _num(sp, req_text(pair, "adjust", "<iaPair>", line_hint=ln), line=ln or 0,
                     field="adjust", what="adjustment")
            if not 0.0 <= v <= 1.0:
                raise InputFileError(sp, f"adjust {v:g} for {adj!r} -> {ref!r} lies outside "
                                     "[0, 1]", line=ln, field="adjust",
                                     fix="give a share between 0 and 1")
            accommodation[(index[adj], index[ref])] = v
        full = {(i, i): 1.0 for i in range(na)}
        full.update(accommodation)
        for i, nm in enumerate(names):
            row = sum(v for (a_, _), v in full.items() if a_ == i)
            if row > 1.0 + 1e-10:
                raise InputFileError(sp, f"ideal adjustments of {nm!r} sum to {row:g} (> 1); the "
                                     "diagonal defaults to 1 when no iaPair sets it",
                                     field="IdealAdjustment",
                                     fix=f"add an iaPair {nm!r} -> {nm!r} with a smaller adjust "
                                     "so the row sums to at most 1")
    meta = {"format": "xml", "name": name, "desc": desc, "seed": seed, "parameters": params}
    return _build(sp, name=name, desc=desc, dims=dims, actors=actors, meta=meta,
                  accommodation=accommodation)
