"""Structural edits of a user scenario: add an issue or an actor, remove one (with what
belongs to it), set or remove one stance.

Each function changes the canonical data of a scenario (``scenario_to_data``) in place; the
library then validates the result through the scenario schema and saves it
(:meth:`detente.web.library.Library.edit`), so every rule of the scenario language (ids,
scales, factions' capabilities, references) is checked in one place and each problem comes
back with the editor cell it belongs to.

Removing an actor also removes its stances, relations, dynamics, events, ratification block
and uncertainty entries; removing an issue removes its stances, uncertainty entries and the
ratifiers' and commitments' values for it. References that define other inputs (a faction's
parent, a side of the conflict, the issue the fighting decides) are not removed silently:
the schema reports them, beside their cells, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

__all__ = ["add_actor", "add_issue", "remove_actor", "remove_issue", "remove_stance",
           "set_stance"]


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """Fields the client left out or empty are left out (the schema's defaults apply)."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


def _ids(rows: Any) -> list[str]:
    return [str(r.get("id")) for r in rows or [] if isinstance(r, dict)]


def add_issue(data: dict[str, Any], issue: dict[str, Any]) -> int:
    """Append ``issue``; returns its index (for errors beside the add form)."""
    data.setdefault("issues", []).append(_clean(issue))
    return len(data["issues"]) - 1


def add_actor(data: dict[str, Any], actor: dict[str, Any]) -> int:
    """Append ``actor``; returns its index."""
    data.setdefault("actors", []).append(_clean(actor))
    return len(data["actors"]) - 1


def _need(kind: str, ident: str, known: list[str]) -> None:
    if ident not in known:
        raise HTTPException(404, f"unknown {kind} {ident!r}; this scenario has: "
                            f"{', '.join(known) or '(none)'}")


def remove_actor(data: dict[str, Any], actor: str) -> dict[str, int]:
    """Remove ``actor`` and the inputs that belong to it; returns what was removed, by kind."""
    _need("actor", actor, _ids(data.get("actors")))
    removed: dict[str, int] = {}

    def drop(section: str, belongs: Any) -> None:
        rows = data.get(section) or []
        keep = [r for r in rows if not belongs(r)]
        if len(keep) != len(rows):
            removed[section] = len(rows) - len(keep)
        if keep or section in ("actors", "stances"):
            data[section] = keep
        else:
            data.pop(section, None)

    drop("actors", lambda r: r.get("id") == actor)
    drop("stances", lambda r: r.get("actor") == actor)
    drop("relations", lambda r: actor in (r.get("source"), r.get("target")))
    drop("dynamics", lambda r: r.get("actor") == actor)
    drop("events", lambda r: r.get("actor") == actor)
    drop("ratification", lambda r: r.get("principal") == actor)
    drop("uncertainty", lambda r: r.get("actor") == actor)
    return removed


def remove_issue(data: dict[str, Any], issue: str) -> dict[str, int]:
    """Remove ``issue`` and the inputs that belong to it; returns what was removed, by kind."""
    _need("issue", issue, _ids(data.get("issues")))
    removed: dict[str, int] = {}
    data["issues"] = [r for r in data["issues"] if r.get("id") != issue]
    removed["issues"] = 1
    n = len(data.get("stances") or [])
    data["stances"] = [r for r in data.get("stances") or [] if r.get("issue") != issue]
    if n != len(data["stances"]):
        removed["stances"] = n - len(data["stances"])
    unc = data.get("uncertainty") or []
    keep = [u for u in unc if u.get("issue") != issue]
    if len(keep) != len(unc):
        removed["uncertainty"] = len(unc) - len(keep)
        if keep:
            data["uncertainty"] = keep
        else:
            data.pop("uncertainty", None)
    values = 0
    for block in data.get("ratification") or []:
        if issue in (block.get("commitments") or {}):
            del block["commitments"][issue]
            values += 1
        for rat in block.get("ratifiers") or []:
            for key in ("ideal", "reversion", "salience"):
                if issue in (rat.get(key) or {}):
                    del rat[key][issue]
                    values += 1
    if values:
        removed["ratification_values"] = values
    return removed


def _stance_index(data: dict[str, Any], actor: str, issue: str) -> int | None:
    for k, s in enumerate(data.get("stances") or []):
        if s.get("actor") == actor and s.get("issue") == issue:
            return k
    return None


def set_stance(data: dict[str, Any], actor: str, issue: str, values: dict[str, Any]
               ) -> tuple[int, bool]:
    """Set the stance of ``actor`` on ``issue`` (added when there is none; position, salience
    and capability replaced, other fields such as evidence kept). Returns its index and
    whether it is new."""
    _need("actor", actor, _ids(data.get("actors")))
    _need("issue", issue, _ids(data.get("issues")))
    k = _stance_index(data, actor, issue)
    stances = data.setdefault("stances", [])
    stance = {"actor": actor, "issue": issue} if k is None else dict(stances[k])
    for key in ("position", "salience", "capability"):
        stance.pop(key, None)
    stance.update(_clean(values))
    if k is None:
        stances.append(stance)
        return len(stances) - 1, True
    stances[k] = stance
    return k, False


def remove_stance(data: dict[str, Any], actor: str, issue: str) -> None:
    """Remove the stance of ``actor`` on ``issue`` (a 404 when there is none)."""
    k = _stance_index(data, actor, issue)
    if k is None:
        raise HTTPException(404, f"{actor!r} has no stance on {issue!r}")
    del data["stances"][k]
