"""The scenario language: a frozen, validated description of a negotiation.

A :class:`Scenario` holds the issues (bounded scales with labelled anchors and an optional
status quo), the actors (states, factions, organisations; factions name a parent), the
stances (where each actor stands on each issue, how much it cares, what it accepts and its
red line), relations (patron -> client, alliances), per-actor conflict dynamics (monthly
war costs, beliefs about battlefield drift), and the sources and evidence every input rests
on. Cross-field rules are checked once, at load time.

This module depends on nothing else in the package.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "Anchor",
    "Actor",
    "Conflict",
    "Dynamics",
    "Event",
    "Evidence",
    "Issue",
    "Ratification",
    "Ratifier",
    "Relation",
    "Scenario",
    "Source",
    "Stance",
    "Uncertainty",
    "SCHEMA_VERSION",
    "cross_field_errors",
]

SCHEMA_VERSION: Final = 1

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"),
]
"""Ids: letters, digits, '_', '.', '-'; start with a letter or digit; at most 64 characters."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Source(_Frozen):
    """A document the inputs rest on."""

    id: Identifier
    title: str = Field(min_length=1)
    author: str | None = None
    date: _dt.date | None = None
    url: str | None = None
    note: str | None = None


class Evidence(_Frozen):
    """Where an input comes from: a source, a locator in it, and a paraphrase (never a quote)."""

    source: Identifier
    locator: str | None = Field(default=None, description="e.g. 'para 4'")
    paraphrase: str = Field(min_length=1)


class _WithEvidence(_Frozen):
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None


class Anchor(_Frozen):
    """A labelled point on an issue scale ("0 = Russia keeps all of Donbas")."""

    value: FiniteFloat
    label: str = Field(min_length=1)


class Issue(_WithEvidence):
    """One bargaining dimension on a bounded numeric scale."""

    id: Identifier
    name: str = Field(min_length=1)
    description: str | None = None
    scale_min: FiniteFloat = 0.0
    scale_max: FiniteFloat = 100.0
    units: str | None = None
    anchors: tuple[Anchor, ...] = ()
    status_quo: FiniteFloat | None = Field(
        default=None, description="what happens with no agreement (the reference point)"
    )

    @model_validator(mode="after")
    def _check_scale(self) -> Issue:
        if not self.scale_max > self.scale_min:
            raise ValueError(
                f"scale_max ({self.scale_max:g}) must be greater than scale_min "
                f"({self.scale_min:g}); swap them or widen the scale"
            )
        for a in self.anchors:
            if not self.scale_min <= a.value <= self.scale_max:
                raise ValueError(
                    f"anchor {a.label!r} at {a.value:g} lies outside the scale "
                    f"[{self.scale_min:g}, {self.scale_max:g}]; move it inside the scale"
                )
        if self.status_quo is not None and not self.scale_min <= self.status_quo <= self.scale_max:
            raise ValueError(
                f"status_quo {self.status_quo:g} lies outside the scale "
                f"[{self.scale_min:g}, {self.scale_max:g}]; use a value inside the scale"
            )
        return self

    @property
    def width(self) -> float:
        return self.scale_max - self.scale_min

    def label_for(self, value: float) -> str:
        """Describe ``value`` in the issue's anchor words: the anchor itself, '~ anchor' when
        within 10% of the scale width of one, else 'between A and B'."""
        if not self.anchors:
            return ""
        ordered = sorted(self.anchors, key=lambda a: a.value)
        nearest = min(ordered, key=lambda a: abs(a.value - value))
        gap = abs(nearest.value - value)
        if gap <= 1e-9 * max(1.0, self.width):
            return nearest.label
        if gap <= 0.1 * self.width:
            return f"~ {nearest.label}"
        below = [a for a in ordered if a.value < value]
        above = [a for a in ordered if a.value > value]
        if below and above:
            return f"between {below[-1].label} and {above[0].label}"
        return f"beyond {nearest.label}"


class Actor(_WithEvidence):
    """A party to the negotiation; factions name their parent actor."""

    id: Identifier
    name: str = Field(min_length=1)
    kind: Literal["state", "faction", "organisation"] = "state"
    capability: FiniteFloat = Field(ge=0, description="clout, on any common scale")
    parent: Identifier | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _check_parent(self) -> Actor:
        if self.kind == "faction" and self.parent is None:
            raise ValueError("a faction needs a parent; add 'parent: <actor id>' or use "
                             "kind: state")
        if self.parent is not None and self.parent == self.id:
            raise ValueError("an actor cannot be its own parent; name another actor")
        return self


class Stance(_WithEvidence):
    """Where an actor stands on an issue and how much it cares."""

    actor: Identifier
    issue: Identifier
    position: FiniteFloat
    salience: FiniteFloat = Field(ge=0, le=100)
    capability: FiniteFloat | None = Field(
        default=None, ge=0, description="issue-specific clout; defaults to the actor's capability"
    )
    acceptable: tuple[FiniteFloat, FiniteFloat] | None = Field(
        default=None, description="[low, high] range of outcomes the actor can live with"
    )
    red_line: FiniteFloat | None = Field(
        default=None,
        description="outcomes beyond this value, on the far side from the position, are rejected",
    )

    @model_validator(mode="after")
    def _check(self) -> Stance:
        if self.acceptable is not None:
            lo, hi = self.acceptable
            if lo > hi:
                raise ValueError(f"acceptable range [{lo:g}, {hi:g}] has low > high; swap them")
            if not lo <= self.position <= hi:
                raise ValueError(
                    f"position {self.position:g} lies outside its own acceptable range "
                    f"[{lo:g}, {hi:g}]; widen the range or move the position"
                )
        if self.red_line is not None and self.red_line == self.position:
            raise ValueError("red_line equals the position; put the red line where the actor "
                             "stops accepting outcomes, away from its position")
        return self

    def rejects(self, outcome: float) -> bool:
        """True when ``outcome`` crosses the red line or leaves the acceptable range."""
        if self.acceptable is not None and not self.acceptable[0] <= outcome <= self.acceptable[1]:
            return True
        if self.red_line is not None:
            if self.red_line > self.position and outcome > self.red_line:
                return True
            if self.red_line < self.position and outcome < self.red_line:
                return True
        return False


class Relation(_WithEvidence):
    """Patron -> client influence, or an alliance between actors."""

    kind: Literal["patron_client", "alliance"]
    source: Identifier = Field(description="patron, or first ally")
    target: Identifier = Field(description="client, or second ally")
    weight: FiniteFloat = Field(default=0.5, ge=0, le=1, description="strength of the tie, 0-1")


class Dynamics(_WithEvidence):
    """Per-actor conflict dynamics (models.md §5.2)."""

    actor: Identifier
    monthly_cost: FiniteFloat = Field(
        ge=0,
        description="utility cost of one more month of war, as a share of the contested "
        "issue's scale width (k_i)",
    )
    casualties_per_month: FiniteFloat | None = Field(default=None, ge=0)
    drift: FiniteFloat = Field(
        default=0.0,
        description="the actor's belief about monthly battlefield drift on the contested issue, "
        "in scale units per month (positive = towards scale_max)",
    )
    expected_front_line: FiniteFloat | None = Field(
        default=None, description="the actor's own belief about where the front stands now"
    )


class Conflict(_WithEvidence):
    """The war behind the talks: which issue the fighting decides and where the front is."""

    issue: Identifier
    sides: tuple[Identifier, Identifier] = Field(
        description="(side favoured by low values, side favoured by high values)"
    )
    front_line: FiniteFloat = Field(description="where the battlefield stands now on that scale")
    horizon_months: FiniteFloat = Field(default=12, gt=0, description="expected remaining war")


class Event(_WithEvidence):
    """A timed shock: a military reversal, an aid surge, a change of costs."""

    month: int = Field(ge=0)
    kind: Literal["front_shift", "drift_change", "cost_change", "horizon_change"]
    actor: Identifier | None = None
    value: FiniteFloat
    label: str | None = None


class Ratifier(_WithEvidence):
    """A domestic ratifier of a principal (models.md §6.2)."""

    id: Identifier
    ideal: dict[Identifier, FiniteFloat] = Field(description="ideal point per issue id")
    weight: FiniteFloat = Field(default=1.0, ge=0)
    veto: bool = False
    reversion: dict[Identifier, FiniteFloat] = Field(
        default_factory=dict, description="believed no-deal outcome per issue id"
    )
    cost: FiniteFloat = Field(default=0.0, ge=0, description="cost of no deal, 0-1 utility")
    salience: dict[Identifier, FiniteFloat] = Field(default_factory=dict)


class Ratification(_WithEvidence):
    """How a principal ratifies a deal at home."""

    principal: Identifier
    rule: Literal["veto_players", "quota", "referendum"] = "quota"
    quota: FiniteFloat = Field(default=0.5, gt=0, le=1)
    ratifiers: tuple[Ratifier, ...] = ()
    audience_cost: FiniteFloat = Field(default=0.0, ge=0)
    commitments: dict[Identifier, FiniteFloat] = Field(
        default_factory=dict, description="public 'nothing beyond d' lines per issue id"
    )


class Uncertainty(_Frozen):
    """A distribution on one uncertain input (models.md §7); interpreted by ``simulate``."""

    target: str = Field(
        description="what is uncertain, e.g. 'position', 'salience', 'capability', "
        "'monthly_cost', 'drift', 'param:<model>.<name>'"
    )
    actor: str | None = Field(default=None, description="actor id, or '*' for all")
    issue: str | None = Field(default=None, description="issue id, or '*' for all")
    group: str | None = Field(default=None, description="name to group inputs for sensitivity")
    distribution: Literal["normal", "uniform", "triangular", "discrete", "lognormal"]
    params: dict[str, Any] = Field(default_factory=dict)


class Scenario(_Frozen):
    """A validated, immutable negotiation scenario."""

    schema_version: Literal[1] = SCHEMA_VERSION
    id: Identifier
    name: str = Field(min_length=1)
    description: str | None = None
    view: str | None = Field(default=None, description="whose reading of events this encodes")
    sources: tuple[Source, ...] = ()
    issues: tuple[Issue, ...] = Field(min_length=1)
    actors: tuple[Actor, ...] = Field(min_length=1)
    stances: tuple[Stance, ...] = Field(min_length=1)
    relations: tuple[Relation, ...] = ()
    dynamics: tuple[Dynamics, ...] = ()
    conflict: Conflict | None = None
    events: tuple[Event, ...] = ()
    ratification: tuple[Ratification, ...] = ()
    uncertainty: tuple[Uncertainty, ...] = ()
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("meta")
    @classmethod
    def _meta_json(cls, v: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(v, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"meta must hold plain JSON values only ({exc})") from None
        return v

    @model_validator(mode="after")
    def _cross_field(self) -> Scenario:
        errors = cross_field_errors(self)
        if errors:
            raise ValueError(" | ".join(f"{path}: {msg}" for path, msg in errors))
        return self

    # -- convenience lookups -------------------------------------------------------------
    def issue(self, issue_id: str) -> Issue:
        for i in self.issues:
            if i.id == issue_id:
                return i
        raise KeyError(f"unknown issue {issue_id!r}; known: {', '.join(self.issue_ids)}")

    def actor(self, actor_id: str) -> Actor:
        for a in self.actors:
            if a.id == actor_id:
                return a
        raise KeyError(f"unknown actor {actor_id!r}; known: {', '.join(self.actor_ids)}")

    def stance(self, actor_id: str, issue_id: str) -> Stance | None:
        for s in self.stances:
            if s.actor == actor_id and s.issue == issue_id:
                return s
        return None

    @property
    def issue_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.issues)

    @property
    def actor_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.actors)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON form: the scenario's identity in provenance."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()


def cross_field_errors(sc: Scenario) -> list[tuple[str, str]]:
    """Rules that span fields, as ``(path, message)`` pairs; paths look like
    ``stances[3].actor`` (0-based) so file readers can point at the line."""
    errors: list[tuple[str, str]] = []
    err = errors.append

    def dupes(field: str, ids: list[str], key: str = "id") -> None:
        seen: set[str] = set()
        for n, i in enumerate(ids):
            if i in seen:
                err((f"{field}[{n}].{key}",
                     f"duplicate id {i!r}; rename one of them (ids are unique)"))
            seen.add(i)

    dupes("issues", [i.id for i in sc.issues])
    dupes("actors", [a.id for a in sc.actors])
    dupes("sources", [s.id for s in sc.sources])
    issues = {i.id: i for i in sc.issues}
    actors = {a.id: a for a in sc.actors}
    sources = {s.id for s in sc.sources}

    def check_evidence(path: str, ev: tuple[Evidence, ...]) -> None:
        for n, e in enumerate(ev):
            if e.source not in sources:
                err((f"{path}.evidence[{n}].source",
                     f"unknown source {e.source!r}; declare it under 'sources' or fix the id"))

    def known_actor(path: str, actor_id: str | None, what: str = "actor") -> None:
        if actor_id is not None and actor_id not in actors:
            err((path, f"unknown {what} {actor_id!r}; use one of the declared actors: "
                       f"{', '.join(sorted(actors)) or '(none)'}"))

    def known_issue(path: str, issue_id: str) -> bool:
        if issue_id not in issues:
            err((path, f"unknown issue {issue_id!r}; use one of the declared issues: "
                       f"{', '.join(sorted(issues)) or '(none)'}"))
            return False
        return True

    for n, a in enumerate(sc.actors):
        check_evidence(f"actors[{n}]", a.evidence)
        known_actor(f"actors[{n}].parent", a.parent, "parent")
        seen = {a.id}
        p = a.parent
        while p is not None and p in actors:
            if p in seen:
                err((f"actors[{n}].parent",
                     f"parent chain of {a.id!r} loops back through {p!r}; break the loop"))
                break
            seen.add(p)
            p = actors[p].parent
    for n, i in enumerate(sc.issues):
        check_evidence(f"issues[{n}]", i.evidence)

    pairs: set[tuple[str, str]] = set()
    stance_of: dict[tuple[str, str], Stance] = {}
    for n, s in enumerate(sc.stances):
        path = f"stances[{n}]"
        check_evidence(path, s.evidence)
        known_actor(f"{path}.actor", s.actor)
        if not known_issue(f"{path}.issue", s.issue):
            continue
        if (s.actor, s.issue) in pairs:
            err((f"{path}.issue", f"second stance of {s.actor!r} on {s.issue!r}; keep one"))
        pairs.add((s.actor, s.issue))
        stance_of[(s.actor, s.issue)] = s
        iss = issues[s.issue]
        lo, hi = iss.scale_min, iss.scale_max
        if not lo <= s.position <= hi:
            err((f"{path}.position", f"{s.position:g} lies outside the scale of {s.issue!r} "
                                     f"[{lo:g}, {hi:g}]; use a value inside it"))
        if s.red_line is not None and not lo <= s.red_line <= hi:
            err((f"{path}.red_line", f"{s.red_line:g} lies outside the scale [{lo:g}, {hi:g}]; "
                                     f"use a value inside it"))
        if s.acceptable is not None and not (lo <= s.acceptable[0] and s.acceptable[1] <= hi):
            err((f"{path}.acceptable", f"range lies outside the scale [{lo:g}, {hi:g}]; "
                                       f"narrow it"))

    children: dict[str, list[Actor]] = {}
    for a in sc.actors:
        if a.parent is not None and a.parent in actors:
            children.setdefault(a.parent, []).append(a)
    index = {a.id: n for n, a in enumerate(sc.actors)}
    for parent_id, kids in children.items():
        total = sum(k.capability for k in kids)
        cap = actors[parent_id].capability
        if total > cap * (1 + 1e-9):
            err((f"actors[{index[parent_id]}].capability",
                 f"the factions of {parent_id!r} have capabilities summing to {total:g}, more "
                 f"than its own {cap:g}; factions share their parent's clout, so raise the "
                 f"parent's capability or lower the factions'"))
        for k in kids:
            for iss_id in issues:
                ps, ks = stance_of.get((parent_id, iss_id)), stance_of.get((k.id, iss_id))
                if ps is not None and ks is not None and ps.salience == 0 and ks.salience > 0:
                    n = sc.stances.index(ks)
                    err((f"stances[{n}].salience",
                         f"faction {k.id!r} gives {iss_id!r} salience {ks.salience:g} while its "
                         f"parent {parent_id!r} gives it 0; a faction cannot care about an issue "
                         f"its parent has declared irrelevant"))

    for n, r in enumerate(sc.relations):
        check_evidence(f"relations[{n}]", r.evidence)
        known_actor(f"relations[{n}].source", r.source)
        known_actor(f"relations[{n}].target", r.target)
        if r.source == r.target:
            err((f"relations[{n}].target", "an actor cannot relate to itself; name two actors"))
    seen_dyn: set[str] = set()
    for n, d in enumerate(sc.dynamics):
        check_evidence(f"dynamics[{n}]", d.evidence)
        known_actor(f"dynamics[{n}].actor", d.actor)
        if d.actor in seen_dyn:
            err((f"dynamics[{n}].actor", f"second dynamics entry for {d.actor!r}; keep one"))
        seen_dyn.add(d.actor)
    if sc.conflict is not None:
        c = sc.conflict
        check_evidence("conflict", c.evidence)
        if known_issue("conflict.issue", c.issue):
            iss = issues[c.issue]
            if not iss.scale_min <= c.front_line <= iss.scale_max:
                err(("conflict.front_line", f"{c.front_line:g} lies outside the scale of "
                     f"{c.issue!r} [{iss.scale_min:g}, {iss.scale_max:g}]; use a value inside it"))
        for j, side in enumerate(c.sides):
            known_actor(f"conflict.sides[{j}]", side, "side")
    for n, e in enumerate(sc.events):
        check_evidence(f"events[{n}]", e.evidence)
        known_actor(f"events[{n}].actor", e.actor)
    seen_p: set[str] = set()
    for n, rat in enumerate(sc.ratification):
        known_actor(f"ratification[{n}].principal", rat.principal, "principal")
        if rat.principal in seen_p:
            err((f"ratification[{n}].principal", f"second block for {rat.principal!r}; keep one"))
        seen_p.add(rat.principal)
        for m, ratifier in enumerate(rat.ratifiers):
            for field in ("ideal", "reversion", "salience"):
                for iss_id in getattr(ratifier, field):
                    known_issue(f"ratification[{n}].ratifiers[{m}].{field}", iss_id)
        for iss_id in rat.commitments:
            known_issue(f"ratification[{n}].commitments", iss_id)
    for n, u in enumerate(sc.uncertainty):
        if u.actor not in (None, "*"):
            known_actor(f"uncertainty[{n}].actor", u.actor)
        if u.issue not in (None, "*"):
            known_issue(f"uncertainty[{n}].issue", u.issue)
    return errors
