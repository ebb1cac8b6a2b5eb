"""Import DEU (Decision-making in the European Union) rows as :class:`Scenario` objects.

A DEU file has one row per controversial issue of an EU legislative proposal, with the
position (``p<actor>``, 0-100) and salience (``s<actor>``, 0-100) of the Commission
(``com``), the Parliament (``ep``) and each member state, the reference point ``rp`` (what
happens without a law) and the decision outcome ``out``.

Two levels: :func:`read_deu` makes one single-issue scenario per row by default
(``by="issue"``), or one scenario per proposal (``by="proposal"``) holding all of that
proposal's issues, which is what exchange models need: Stokman's exchange model trades only
across issues of one proposal (Thomson et al. 2006 run it proposal by proposal).

The data set has no capability column. This importer follows the scoring convention of the
shared DEU development set, so numbers are comparable across tools:

* capability of a member state = its Council votes under the regime in force at adoption:
  pre-Nice weights for adoption years up to 2004, Nice weights for 2005-2014, population
  (millions, about 2019) from 2015;
* the Commission and the Parliament get the largest member-state weight present on the issue;
* the year comes from ``finact`` (adoption), else ``intro`` (proposal), else 2007. Dates are
  ``DD-MM-YY``; some were mangled by a spreadsheet into ``YYYY-MM-DD`` where the last two
  digits of ``YYYY`` are the day and the last field the two-digit year (``1930-05-01`` means
  30 May 2001); ``999`` means missing;
* an actor gets a stance only when it has both a position and a salience;
* an issue is scoreable when ``out`` is present and at least 3 actors have a stance.

Each issue scenario's ``meta`` holds ``level`` (``"issue"``), ``prnr``, ``prname``, ``isnr``,
``line``, ``proc`` (COD/CNS), ``counvte`` (QMV/Unan/...), ``type``, ``council``,
``outcome`` (``out`` or null), ``reference_point``, ``year``, ``year_source``,
``capability_regime``, ``scoreable``, ``positions_without_salience`` and the source citation.

A proposal scenario is assembled from its issue scenarios (rows of a proposal need not be
adjacent; issues keep file order; a row with no usable stance is left out, and so is a
proposal with none). Its actors are the union of the issues' actors; an actor's capability
is the one on its first issue, and a stance carries its own ``capability`` wherever the
issue's value differs (the Commission and Parliament follow the largest member state
present, which varies by issue), so every issue's arrays are exactly those of its issue
scenario. Its ``meta`` has ``level`` ``"proposal"``, the proposal fields of the first row
(``prnr``, ``prname``, ``type``, ``council``, ``proc``, ``counvte``, ``intro``, ``finact``,
``year``, ``year_source``, ``capability_regime``; later rows that disagree, e.g. on
``counvte``, are not recorded) and mappings keyed by issue id: ``lines``, ``isnr``,
``reference_point``, ``outcome``, ``scoreable`` and ``positions_without_salience``.

References
----------
Arregui, J. & Perarnaud, C. (2022). A new dataset on legislative decision-making in the
European Union: the DEU III dataset. *Journal of European Public Policy* 29(1).
doi:10.1080/13501763.2021.1991983 (data: doi:10.34810/data53, CC BY 4.0).
Thomson, R., Stokman, F. N., Achen, C. H. & König, T. (eds.) (2006). *The European Union
Decides*. Cambridge University Press.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from detente.errors import InputFileError
from detente.scenario.schema import Actor, Issue, Scenario, Source, Stance

__all__ = [
    "COUNCIL_WEIGHTS",
    "DEU_ACTORS",
    "DEU_ACTOR_NAMES",
    "capability_regime",
    "deu_year",
    "looks_like_deu",
    "parse_deu_date",
    "read_deu",
    "read_deu_issue",
    "read_deu_proposal",
    "read_council_weights",
]

MEMBER_STATES: tuple[str, ...] = (
    "at", "be", "bu", "cr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "el", "hu", "ie",
    "it", "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "si", "sk", "es", "se", "uk",
)
INSTITUTIONS: tuple[str, ...] = ("com", "ep")
DEU_ACTORS: tuple[str, ...] = INSTITUTIONS + MEMBER_STATES

DEU_ACTOR_NAMES: Mapping[str, str] = {
    "com": "European Commission", "ep": "European Parliament", "at": "Austria",
    "be": "Belgium", "bu": "Bulgaria", "cr": "Croatia", "cy": "Cyprus", "cz": "Czechia",
    "dk": "Denmark", "ee": "Estonia", "fi": "Finland", "fr": "France", "de": "Germany",
    "el": "Greece", "hu": "Hungary", "ie": "Ireland", "it": "Italy", "lv": "Latvia",
    "lt": "Lithuania", "lu": "Luxembourg", "mt": "Malta", "nl": "Netherlands", "pl": "Poland",
    "pt": "Portugal", "ro": "Romania", "si": "Slovenia", "sk": "Slovakia", "es": "Spain",
    "se": "Sweden", "uk": "United Kingdom",
}

# Council votes per member state: (pre-Nice, Nice, population in millions about 2019).
# Treaty facts (Amsterdam art. 205; Nice protocol on enlargement) and approximate
# populations, identical to ../shared/data/deu/council_weights.csv; None = not a member.
COUNCIL_WEIGHTS: Mapping[str, tuple[float | None, float | None, float | None]] = {
    "at": (4, 10, 8.93), "be": (5, 12, 11.57), "bu": (None, 10, 6.92), "cr": (None, 7, 4.04),
    "cy": (None, 4, 0.9), "cz": (None, 12, 10.57), "de": (10, 29, 83.12), "dk": (3, 7, 5.83),
    "ee": (None, 4, 1.33), "el": (5, 12, 10.38), "es": (8, 27, 48.95), "fi": (3, 7, 5.53),
    "fr": (10, 29, 67.44), "hu": (None, 12, 9.73), "ie": (3, 7, 5.01), "it": (10, 29, 58.97),
    "lt": (None, 7, 2.8), "lu": (2, 4, 0.63), "lv": (None, 4, 1.86), "mt": (None, 3, 0.52),
    "nl": (5, 13, 17.61), "pl": (None, 27, 37.84), "pt": (5, 12, 10.75), "ro": (None, 14, 19.19),
    "se": (4, 10, 10.37), "si": (None, 4, 2.11), "sk": (None, 7, 5.42), "uk": (10, 29, 67.79),
}
_REGIMES = ("pre_nice", "nice", "population")
_WEIGHT_COLUMNS = ("pre_nice_votes", "nice_votes", "population_millions_approx2019")
DEFAULT_YEAR = 2007

_DEU_SOURCE = Source(
    id="deu3",
    title="Decision-making in the European Union (DEU) III dataset",
    author="Arregui, J. & Perarnaud, C.",
    url="https://doi.org/10.34810/data53",
    note="Arregui & Perarnaud (2022), JEPP 29(1), doi:10.1080/13501763.2021.1991983; merges "
    "DEU I (Thomson, Stokman, Achen & Konig 2006) and DEU II (Thomson et al. 2012); CC BY 4.0. "
    "Capabilities added by detente from Council votes (see meta.capability_regime).",
)

_MISSING = {"", "999", "na", "nan", "."}
_DATE_RE = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})$")


def _missing(value: str | None) -> bool:
    return value is None or value.strip().lower() in _MISSING


def parse_deu_date(value: str | None) -> tuple[int, int, int] | None:
    """``(day, month, year)`` of a DEU date, or None when missing (blank or ``999``).

    Accepts ``DD-MM-YY`` and the spreadsheet-mangled ``YYYY-MM-DD`` form in which the last
    two digits of ``YYYY`` are the day and the last field the two-digit year. Two-digit
    years of 50 and above are 19xx, below 50 are 20xx; four-digit years are taken as given.
    Raises ``ValueError`` for anything else.

    >>> parse_deu_date("26-01-00")
    (26, 1, 2000)
    >>> parse_deu_date("1930-05-01")
    (30, 5, 2001)
    >>> parse_deu_date("999") is None
    True
    """
    if _missing(value):
        return None
    assert value is not None
    m = _DATE_RE.match(value.strip())
    if m is None:
        raise ValueError(f"not a DEU date: {value!r}")
    a, b, c = m.groups()
    if len(a) == 4 and len(c) <= 2:  # mangled: YYYY-MM-DD = (19|20)DD-MM-YY
        day, month, yy = int(a[2:]), int(b), int(c)
    elif len(a) <= 2:
        day, month, yy = int(a), int(b), int(c)
    else:
        raise ValueError(f"not a DEU date: {value!r}")
    year = yy if len(c) == 4 else (1900 + yy if yy >= 50 else 2000 + yy)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ValueError(f"not a DEU date: {value!r} (day {day}, month {month})")
    return day, month, year


def deu_year(finact: str | None, intro: str | None) -> tuple[int, str]:
    """Year of the regime in force: from ``finact``, else ``intro``, else 2007."""
    for name, value in (("finact", finact), ("intro", intro)):
        parsed = parse_deu_date(value)
        if parsed is not None:
            return parsed[2], name
    return DEFAULT_YEAR, "default"


def capability_regime(year: int) -> str:
    """``pre_nice`` up to 2004, ``nice`` for 2005-2014, ``population`` from 2015."""
    if year <= 2004:
        return "pre_nice"
    if year <= 2014:
        return "nice"
    return "population"


def read_council_weights(path: str | Path) -> dict[str, tuple[float | None, ...]]:
    """Read a ``council_weights.csv`` (``deu_code, pre_nice_votes, nice_votes,
    population_millions_approx2019``) into the form of :data:`COUNCIL_WEIGHTS`."""
    path = Path(path)
    text = _read_text(path)
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("deu_code", *_WEIGHT_COLUMNS) if c not in (reader.fieldnames or [])]
    if missing:
        raise InputFileError(str(path), f"missing column(s) {', '.join(missing)}", line=1,
                             fix="the header must be deu_code," + ",".join(_WEIGHT_COLUMNS))
    out: dict[str, tuple[float | None, ...]] = {}
    for row in reader:
        vals: list[float | None] = []
        for col in _WEIGHT_COLUMNS:
            raw = row.get(col)
            if _missing(raw):
                vals.append(None)
                continue
            try:
                v = float(raw)  # type: ignore[arg-type]
            except ValueError:
                raise InputFileError(str(path), f"{raw!r} is not a number",
                                     line=reader.line_num, field=col,
                                     fix="write the weight as a number, or leave it blank "
                                     "for a non-member") from None
            if not math.isfinite(v) or v < 0:
                raise InputFileError(str(path), f"weight {raw!r} must be finite and >= 0",
                                     line=reader.line_num, field=col, fix="fix the weight")
            vals.append(v)
        out[row["deu_code"].strip().lower()] = tuple(vals)
    return out


# ---------------------------------------------------------------------------------------
# reading


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(str(path), "file not found",
                             fix="check the path (DEU files are CSV)") from None
    except IsADirectoryError:
        raise InputFileError(str(path), "is a directory, not a file",
                             fix="give the path of the CSV file") from None
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror})") from None
    if b"\x00" in raw[:4096]:
        raise InputFileError(str(path), "looks binary, not a CSV text file",
                             fix="export the DEU data as comma-separated text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _header(text: str) -> list[str]:
    first = text.splitlines()[0] if text else ""
    return [h.strip().lower() for h in next(csv.reader([first], delimiter=_delimiter(first)))]


def looks_like_deu(path: str | Path) -> bool:
    """True when the file's header has ``isnr`` and at least one ``p<actor>``/``s<actor>``
    pair of DEU actors (cheap: reads only the first line)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return False
    if not first:
        return False
    cols = {h.strip().lower() for h in next(csv.reader([first], delimiter=_delimiter(first)))}
    return "isnr" in cols and any(f"p{a}" in cols and f"s{a}" in cols for a in DEU_ACTORS)


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, str]


def _rows(path: Path) -> tuple[list[str], list[_Row]]:
    text = _read_text(path)
    if not text.strip():
        raise InputFileError(str(path), "the file is empty",
                             fix="give a DEU CSV with a header row (isnr, p<actor>, s<actor>, rp, "
                             "out, ...) and one row per issue")
    first = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first))
    header = [h.strip().lower() for h in next(reader)]
    if "isnr" not in header:
        raise InputFileError(str(path), "no 'isnr' column: this is not a DEU file", line=1,
                             field="isnr", fix="DEU files have one row per issue with an 'isnr' "
                             "issue id, p<actor>/s<actor> columns, 'rp' and 'out'")
    dup = sorted({h for h in header if header.count(h) > 1 and h})
    if dup:
        raise InputFileError(str(path), f"duplicate column(s) {', '.join(dup)}", line=1,
                             fix="each column name must appear once")
    if not any(f"p{a}" in header and f"s{a}" in header for a in DEU_ACTORS):
        raise InputFileError(str(path), "no position/salience column pair of a DEU actor",
                             line=1,
                             fix="add p<actor> and s<actor> columns, e.g. pcom,scom,pde,sde")
    rows = []
    for rec in reader:
        if not any(c.strip() for c in rec):
            continue
        if len(rec) != len(header):
            raise InputFileError(str(path), f"row has {len(rec)} fields, the header has "
                                 f"{len(header)}", line=reader.line_num,
                                 fix="check for a missing or extra separator in this row")
        rows.append(_Row(reader.line_num, dict(zip(header, rec, strict=True))))
    return header, rows


def _number(path: Path, row: _Row, col: str, lo: float | None = 0.0,
            hi: float | None = 100.0) -> float | None:
    raw = row.values.get(col)
    if raw is None or raw.strip() == "":
        return None
    try:
        v = float(raw.strip().replace(",", "."))
    except ValueError:
        raise InputFileError(str(path), f"{raw.strip()!r} is not a number", line=row.line,
                             field=col, fix=f"write {col} as a number from 0 to 100, or leave "
                             "it blank when missing") from None
    if not math.isfinite(v):
        raise InputFileError(str(path), f"{raw.strip()!r} is not a finite number", line=row.line,
                             field=col, fix="write a number from 0 to 100, or leave it blank")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InputFileError(str(path), f"value {v:g} is outside 0-100", line=row.line,
                             field=col, fix="DEU positions, saliences, rp and out lie on 0-100")
    return v


def _safe_id(value: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.\-]", "_", value.strip())
    s = s.lstrip("_.-") or "issue"
    return s[:64]


def _row_scenario(path: Path, header: list[str], row: _Row,
                  weights: Mapping[str, tuple[float | None, ...]]) -> Scenario | None:
    v = row.values
    isnr_raw = v.get("isnr", "").strip()
    if not isnr_raw:
        raise InputFileError(str(path), "empty issue id", line=row.line, field="isnr",
                             fix="give every row its issue id, e.g. d98195i1")
    isnr = _safe_id(isnr_raw)
    prnr = (v.get("prnr") or "").strip() or re.sub(r"i\d+$", "", isnr_raw)
    for date_col in ("finact", "intro"):
        try:
            parse_deu_date(v.get(date_col))
        except ValueError as exc:
            raise InputFileError(str(path), str(exc), line=row.line, field=date_col,
                                 fix="write dates as DD-MM-YY (e.g. 26-01-00), or 999 when "
                                 "missing") from None
    year, year_source = deu_year(v.get("finact"), v.get("intro"))
    regime = capability_regime(year)
    col = _REGIMES.index(regime)

    stance_data: list[tuple[str, float, float]] = []
    no_salience: list[str] = []
    for a in DEU_ACTORS:
        if f"p{a}" not in header or f"s{a}" not in header:
            continue
        pos = _number(path, row, f"p{a}")
        sal = _number(path, row, f"s{a}")
        if pos is None:
            continue
        if sal is None:
            no_salience.append(a)
            continue
        stance_data.append((a, pos, sal))
    if not stance_data:
        return None

    caps: dict[str, float] = {}
    for a, _, _ in stance_data:
        if a in INSTITUTIONS:
            continue
        w = weights.get(a)
        value = None if w is None else w[col]
        if value is None:
            raise InputFileError(
                str(path), f"member state {a!r} has a stance but no {regime} Council weight "
                f"(adoption year {year}, from {year_source})", line=row.line, field=f"p{a}",
                fix="check the adoption date (finact) or blank the position of a non-member",
            )
        caps[a] = float(value)
    top = max(caps.values()) if caps else 1.0
    for a, _, _ in stance_data:
        if a in INSTITUTIONS:
            caps[a] = top

    rp = _number(path, row, "rp") if "rp" in header else None
    out = _number(path, row, "out") if "out" in header else None
    prname = (v.get("prname") or "").strip()
    name = f"{prname or prnr}: issue {isnr_raw}"
    actors = tuple(
        Actor(id=a, name=DEU_ACTOR_NAMES[a],
              kind="organisation" if a in INSTITUTIONS else "state",
              capability=caps[a])
        for a, _, _ in stance_data
    )
    stances = tuple(Stance(actor=a, issue=isnr, position=p, salience=s)
                    for a, p, s in stance_data)
    issue = Issue(id=isnr, name=name, scale_min=0.0, scale_max=100.0, status_quo=rp,
                  description="DEU issue: 0 and 100 are the two most extreme alternatives "
                  "coded by the DEU experts; status_quo is the reference point (rp)")

    def text(col_name: str) -> str | None:
        raw = v.get(col_name)
        return None if _missing(raw) else raw.strip()  # type: ignore[union-attr]

    meta: dict[str, Any] = {
        "format": "deu",
        "level": "issue",
        "source_file": path.name,
        "line": row.line,
        "prnr": prnr,
        "prname": prname or None,
        "isnr": isnr_raw,
        "type": text("type"),
        "council": text("council"),
        "proc": text("proc"),
        "counvte": text("counvte"),
        "intro": text("intro"),
        "finact": text("finact"),
        "year": year,
        "year_source": year_source,
        "capability_regime": regime,
        "reference_point": rp,
        "outcome": out,
        "scoreable": out is not None and len(stance_data) >= 3,
        "positions_without_salience": no_salience,
        "citation": "Arregui & Perarnaud (2022) DEU III, CC BY 4.0",
    }
    return Scenario(
        id=isnr, name=name,
        description=f"DEU issue {isnr_raw} of proposal {prnr} ({meta['proc'] or '?'}, Council "
        f"{meta['counvte'] or '?'}, year {year})",
        sources=(_DEU_SOURCE,), issues=(issue,), actors=actors, stances=stances, meta=meta,
    )


def _weights(weights: str | Path | Mapping[str, tuple[float | None, ...]] | None
             ) -> Mapping[str, tuple[float | None, ...]]:
    if weights is None:
        return COUNCIL_WEIGHTS
    if isinstance(weights, (str, Path)):
        return read_council_weights(weights)
    return weights


def _iter_scenarios(path: Path, weights: Mapping[str, tuple[float | None, ...]]
                    ) -> Iterable[Scenario]:
    header, rows = _rows(path)
    seen: dict[str, int] = {}
    for row in rows:
        isnr = row.values.get("isnr", "").strip()
        if isnr in seen:
            raise InputFileError(str(path), f"issue {isnr!r} appears twice (first on line "
                                 f"{seen[isnr]})", line=row.line, field="isnr",
                                 fix="each issue must have one row")
        seen[isnr] = row.line
        scen = _row_scenario(path, header, row, weights)
        if scen is not None:
            yield scen


_PROPOSAL_FIELDS = ("prnr", "prname", "type", "council", "proc", "counvte", "intro", "finact",
                    "year", "year_source", "capability_regime")
_ISSUE_FIELDS = (("lines", "line"), ("isnr", "isnr"), ("reference_point", "reference_point"),
                 ("outcome", "outcome"), ("scoreable", "scoreable"),
                 ("positions_without_salience", "positions_without_salience"))


def _proposal_scenario(path: Path, parts: list[Scenario]) -> Scenario:
    """One scenario holding the issues of ``parts`` (issue scenarios of one proposal, in
    file order), with per-stance capabilities wherever an issue's differs from the actor's."""
    first = parts[0].meta
    prnr = str(first["prnr"])
    pid = _safe_id(prnr)
    issues: list[Issue] = []
    seen_issue: dict[str, int] = {}
    actor_of: dict[str, Actor] = {}
    for part in parts:
        (issue,) = part.issues
        if issue.id in seen_issue:  # distinct raw ids that sanitise to the same id
            raise InputFileError(str(path), f"issue id {part.meta['isnr']!r} becomes "
                                 f"{issue.id!r}, like the issue on line {seen_issue[issue.id]} "
                                 f"of proposal {prnr!r}", line=part.meta["line"], field="isnr",
                                 fix="give each issue an id of letters, digits, '_', '.' or "
                                 "'-' that no other issue uses")
        seen_issue[issue.id] = part.meta["line"]
        issues.append(issue)
        for actor in part.actors:
            actor_of.setdefault(actor.id, actor)
    actors = tuple(actor_of[a] for a in DEU_ACTORS if a in actor_of)
    stances: list[Stance] = []
    for part in parts:
        caps = {a.id: a.capability for a in part.actors}
        for st in part.stances:
            cap = caps[st.actor]
            if cap != actor_of[st.actor].capability:
                st = st.model_copy(update={"capability": cap})
            stances.append(st)
    meta: dict[str, Any] = {"format": "deu", "level": "proposal",
                            "source_file": first["source_file"]}
    meta.update({k: first[k] for k in _PROPOSAL_FIELDS})
    for key, src in _ISSUE_FIELDS:
        meta[key] = {p.issues[0].id: p.meta[src] for p in parts}
    meta["citation"] = first["citation"]
    n = len(issues)
    return Scenario(
        id=pid, name=str(first["prname"] or prnr),
        description=f"DEU proposal {prnr}: {n} issue{'s' if n != 1 else ''} "
        f"({first['proc'] or '?'}, Council {first['counvte'] or '?'}, year {first['year']})",
        sources=(_DEU_SOURCE,), issues=tuple(issues), actors=actors, stances=tuple(stances),
        meta=meta,
    )


def _iter_proposals(path: Path, weights: Mapping[str, tuple[float | None, ...]]
                    ) -> Iterable[Scenario]:
    groups: dict[str, list[Scenario]] = {}
    for scen in _iter_scenarios(path, weights):
        groups.setdefault(str(scen.meta["prnr"]), []).append(scen)
    ids: dict[str, str] = {}
    for prnr, parts in groups.items():
        pid = _safe_id(prnr)
        if pid in ids:
            raise InputFileError(str(path), f"proposal ids {ids[pid]!r} and {prnr!r} both "
                                 f"become {pid!r}", line=parts[0].meta["line"], field="prnr",
                                 fix="give each proposal an id of letters, digits, '_', '.' or "
                                 "'-' that no other proposal uses")
        ids[pid] = prnr
        yield _proposal_scenario(path, parts)


def read_deu(path: str | Path, *, weights: str | Path | Mapping[str, Any] | None = None,
             by: Literal["issue", "proposal"] = "issue") -> list[Scenario]:
    """The scenarios of a DEU file: one per issue (``by="issue"``, rows in file order) or
    one per proposal (``by="proposal"``, in order of first appearance, issues in file order).

    Issues on which no actor has both a position and a salience cannot form a scenario and
    are left out (a proposal left with no issue is left out too). ``weights`` overrides the
    bundled Council weights (a path to a ``council_weights.csv`` or a mapping like
    :data:`COUNCIL_WEIGHTS`). Malformed rows raise :class:`~detente.errors.InputFileError`
    naming the line and column.
    """
    p, w = Path(path), _weights(weights)
    if by == "issue":
        return list(_iter_scenarios(p, w))
    if by == "proposal":
        return list(_iter_proposals(p, w))
    raise ValueError(f"by must be 'issue' or 'proposal', not {by!r}")


def read_deu_issue(path: str | Path, isnr: str, *,
                   weights: str | Path | Mapping[str, Any] | None = None) -> Scenario:
    """The scenario of one DEU issue, by its ``isnr``."""
    p = Path(path)
    w = _weights(weights)
    header, rows = _rows(p)
    for row in rows:
        if row.values.get("isnr", "").strip() == isnr:
            scen = _row_scenario(p, header, row, w)
            if scen is None:
                raise InputFileError(str(p), f"issue {isnr!r} has no actor with both a "
                                     "position and a salience", line=row.line,
                                     fix="pick another issue")
            return scen
    raise InputFileError(str(p), f"no issue {isnr!r} in the file", field="isnr",
                         fix="list the issues with 'detente backtest' or check the id")


def read_deu_proposal(path: str | Path, prnr: str, *,
                      weights: str | Path | Mapping[str, Any] | None = None) -> Scenario:
    """The proposal-level scenario of one DEU proposal (all its issues), by its ``prnr``
    (or its id, which is ``prnr`` made safe)."""
    p = Path(path)
    proposals = read_deu(p, weights=weights, by="proposal")
    key = prnr.strip()
    for scen in proposals:
        if scen.meta["prnr"] == key or scen.id == key:
            return scen
    some = ", ".join(s.id for s in proposals[:8]) or "(none)"
    raise InputFileError(str(p), f"no proposal {prnr!r} with a usable issue in the file",
                         field="prnr", fix=f"use one of: {some}"
                         f"{' ...' if len(proposals) > 8 else ''}")
