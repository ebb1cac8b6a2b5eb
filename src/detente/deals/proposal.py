"""Proposals: a point on every issue of a scenario, read from YAML or given on the command line.

Proposal file format (YAML, one mapping)
----------------------------------------

.. code-block:: yaml

    id: us-draft-2025                 # required; letters, digits, '_', '.', '-'
    name: US 28-point draft (Nov 2025) # required; free text
    scenario: ukraine-2025            # optional; a bundled scenario name (or a path) the terms
                                      # refer to, used when no --scenario is given
    description: ...                  # optional free text
    terms:                            # required; issue id -> value on that issue's own scale
      territory: 20
      nato: 0
      guarantees: 55
    guarantee: 0.5                    # optional, 0-1: strength of third-party guarantees and
                                      # monitoring of implementation (§5.4's G); default 0
    sources:                          # optional, same shape as a scenario's sources
      - {id: axios-2025-11, title: "Draft text as reported", url: "https://...", date: 2025-11-20}
    evidence:                         # optional, same shape as a scenario's evidence
      - {source: axios-2025-11, locator: "point 21",
         paraphrase: "Donetsk becomes a demilitarised zone"}
    note: ...                         # optional free text

Rules
-----
* ``terms`` values are numbers on the issue's scale (``scale_min`` .. ``scale_max``).
* An issue of the scenario that ``terms`` leaves out keeps the issue's ``status_quo`` (reported
  as "unchanged"); if that issue has no status quo the proposal is incomplete and evaluating it
  raises an error naming the issue.
* A term naming an issue the scenario does not have is an error (with the list of known ids).
* ``evidence`` entries must cite a source listed under the proposal's ``sources`` or the
  scenario's ``sources``.
* On the command line, ``--set issue=value`` overrides or adds single terms.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detente.errors import InputFileError
from detente.scenario.schema import Evidence, Identifier, Scenario, Source

__all__ = ["Proposal", "load_proposal", "parse_set_options", "proposal_from_terms"]


class Proposal(BaseModel):
    """A deal on the table: a value for (some or all) issues plus implementation guarantees."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: Identifier
    name: str = Field(min_length=1)
    scenario: str | None = None
    description: str | None = None
    terms: dict[Identifier, float] = Field(min_length=1)
    guarantee: float = Field(default=0.0, ge=0, le=1)
    sources: tuple[Source, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None
    date: _dt.date | None = None

    def with_terms(self, overrides: Mapping[str, float]) -> Proposal:
        """A copy with some terms replaced or added (``--set issue=value``)."""
        return self.model_copy(update={"terms": {**self.terms, **dict(overrides)}})

    def resolve(self, scenario: Scenario, *, where: str | None = None) -> dict[str, float]:
        """The full point ``{issue_id: value}`` on ``scenario``'s issues.

        Issues left out take their status quo. Raises :class:`InputFileError` naming the field
        and the fix when a term is unknown, off the scale, or an issue cannot be filled.
        """
        known = {i.id: i for i in scenario.issues}
        for iss, v in self.terms.items():
            if iss not in known:
                raise InputFileError(where, f"unknown issue {iss!r} in proposal {self.id!r}",
                                     field=f"terms.{iss}",
                                     fix=f"use one of the scenario's issues: {', '.join(known)}")
            i = known[iss]
            if not math.isfinite(v) or not i.scale_min <= v <= i.scale_max:
                raise InputFileError(where, f"value {v} lies outside the scale of {iss!r} "
                                     f"[{i.scale_min:g}, {i.scale_max:g}]",
                                     field=f"terms.{iss}",
                                     fix=f"give a number between {i.scale_min:g} and "
                                         f"{i.scale_max:g}")
        point: dict[str, float] = {}
        for i in scenario.issues:
            if i.id in self.terms:
                point[i.id] = float(self.terms[i.id])
            elif i.status_quo is not None:
                point[i.id] = float(i.status_quo)
            else:
                raise InputFileError(where, f"proposal {self.id!r} says nothing about issue "
                                     f"{i.id!r}, which has no status quo to fall back on",
                                     field=f"terms.{i.id}",
                                     fix=f"add 'terms: {{{i.id}: <value>}}' or "
                                         f"--set {i.id}=<value>")
        known_sources = {s.id for s in scenario.sources} | {s.id for s in self.sources}
        for n, e in enumerate(self.evidence):
            if e.source not in known_sources:
                raise InputFileError(where, f"evidence #{n + 1} cites unknown source "
                                     f"{e.source!r}", field=f"evidence[{n}].source",
                                     fix="list the source under the proposal's 'sources'")
        return point

    def unchanged(self, scenario: Scenario) -> list[str]:
        """Issues the proposal leaves at their status quo (not named in ``terms``)."""
        return [i.id for i in scenario.issues if i.id not in self.terms]


def _validation_message(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    return loc, f"{msg} (got {err.get('input')!r})" if err["type"] != "missing" else msg


_FIXES = {
    "terms": "give 'terms:' as a mapping issue_id: number, e.g. 'terms: {territory: 20}'",
    "guarantee": "give 'guarantee' as a number between 0 and 1",
    "id": "give an 'id' of letters, digits, '_', '.', '-'",
    "name": "give a non-empty 'name'",
}


def proposal_from_mapping(data: Any, *, where: str | None = None) -> Proposal:
    """Validate a parsed mapping as a :class:`Proposal` (errors name file, field and fix)."""
    if not isinstance(data, Mapping):
        raise InputFileError(where, "a proposal file must hold one mapping (id, name, terms, ...)",
                             fix="see the format in docs/conflict_and_deals.md")
    try:
        return Proposal(**dict(data))
    except ValidationError as exc:
        loc, msg = _validation_message(exc)
        top = loc.split(".")[0]
        fix = _FIXES.get(top, "allowed fields: id, name, scenario, description, terms, "
                              "guarantee, sources, evidence, note, date")
        raise InputFileError(where, msg, field=loc, fix=fix) from None
    except TypeError as exc:
        raise InputFileError(where, str(exc), fix="check the proposal's fields") from None


def load_proposal(path: str | Path) -> Proposal:
    """Read a proposal YAML file (format in this module's docstring)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputFileError(str(p), "no such proposal file",
                             fix="give the path of a proposal YAML file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = None
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = mark.line + 1
        raise InputFileError(str(p), f"not valid YAML ({getattr(exc, 'problem', exc)})",
                             line=line, fix="check indentation and quoting") from None
    return proposal_from_mapping(data, where=str(p))


def parse_set_options(values: list[str] | tuple[str, ...] | None) -> dict[str, float]:
    """Parse ``["territory=20", "nato=0"]`` into ``{"territory": 20.0, "nato": 0.0}``."""
    out: dict[str, float] = {}
    for raw in values or ():
        key, sep, val = raw.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputFileError(None, f"cannot read --set {raw!r}", field="--set",
                                 fix="write --set issue=value, e.g. --set territory=20")
        try:
            num = float(val)
        except ValueError:
            raise InputFileError(None, f"--set {raw!r}: {val!r} is not a number",
                                 field=f"--set {key}",
                                 fix="give a number on the issue's scale") from None
        if not math.isfinite(num):
            raise InputFileError(None, f"--set {raw!r} is not finite", field=f"--set {key}",
                                 fix="give a finite number")
        out[key] = num
    return out


def proposal_from_terms(terms: Mapping[str, float], *, id: str = "cli",
                        name: str = "proposal from the command line",
                        guarantee: float = 0.0) -> Proposal:
    """A proposal built from terms alone (``detente evaluate --set ...`` without a file)."""
    return proposal_from_mapping({"id": id, "name": name, "terms": dict(terms),
                                  "guarantee": guarantee})
