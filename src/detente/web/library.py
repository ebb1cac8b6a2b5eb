"""The scenario library behind the dashboard: bundled scenarios (read-only) and the user's
own, stored as canonical YAML under ``<data dir>/scenarios``.

Also: uploads (any format :func:`detente.scenario.formats.read_any` reads, parsed from a
temporary file inside the data directory), validation of edited scenarios with every error
mapped back to the editor cell it belongs to, and the size limits.
"""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from pydantic import ValidationError

from detente.errors import DetenteError, InputFileError
from detente.scenario.schema import Scenario
from detente.web.security import check_id, safe_path
from detente.web.settings import Settings

__all__ = ["UPLOAD_SUFFIXES", "Library", "ScenarioInvalid", "scenario_errors"]

UPLOAD_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".txt", ".tsv", ".xml")


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# model-level rules of one issue or actor name no field in their location; their message
# does, so the editor can still put it beside the right box
_FIELD_HINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "issues": (("scale_max", "scale_max"), ("status_quo", "status_quo"),
               ("anchor", "anchors")),
    "actors": (("a faction needs a parent", "parent"), ("an actor cannot be its own parent",
                                                        "parent")),
}

_CROSS = re.compile(r"^([A-Za-z_]+(?:\[\d+\])?(?:\.[A-Za-z_]+(?:\[\d+\])?)*): (.*)$", re.S)
_PART = re.compile(r"^([A-Za-z_]+)(?:\[(\d+)\])?$")


def _cell(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """Where ``path`` (``stances[3].salience``) sits in the editor: section, row and field,
    plus the actor and issue of a stance."""
    parts = path.split(".") if path else []
    info: dict[str, Any] = {"section": None, "index": None, "field": None}
    if not parts:
        return info
    m = _PART.match(parts[0])
    if not m:
        return info
    info["section"] = m.group(1)
    if m.group(2) is not None:
        info["index"] = int(m.group(2))
    rest = parts[1:]
    if rest:
        fm = _PART.match(rest[0])
        info["field"] = fm.group(1) if fm else rest[0]
    rows = data.get(info["section"]) if isinstance(data, dict) else None
    idx = info["index"]
    if isinstance(rows, list) and idx is not None and 0 <= idx < len(rows) \
            and isinstance(rows[idx], dict):
        row = rows[idx]
        if info["section"] == "stances":
            info["actor"], info["issue"] = row.get("actor"), row.get("issue")
        elif info["section"] in ("actors", "issues"):
            info["id"] = row.get("id")
    return info


def scenario_errors(exc: ValidationError, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem of ``exc`` as ``{path, message, section, index, field, actor?, issue?}``
    so the editor can show each message beside its cell."""
    out: list[dict[str, Any]] = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        msg = str(e["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        pieces = msg.split(" | ") if e["type"] == "value_error" else [msg]
        for piece in pieces:
            m = _CROSS.match(piece) if e["type"] == "value_error" else None
            if m:
                sub = m.group(1)
                base = _loc_path(loc)
                path = f"{base}.{sub}" if base else sub
                text = m.group(2)
            else:
                path, text = _loc_path(loc), piece
            if e["type"] == "extra_forbidden":
                text = f"unknown field {loc[-1]!r}"
            elif e["type"] not in ("missing", "value_error") and not isinstance(
                    e.get("input"), (dict, list)):
                text = f"{text} (got {e.get('input')!r})"
            cell = _cell(path, data)
            if cell["field"] is None and cell["index"] is not None:
                for start, name in _FIELD_HINTS.get(cell["section"] or "", ()):
                    if text.startswith(start):
                        cell["field"] = name
                        break
            out.append({"path": path or "(scenario)", "message": text, **cell})
    return out


class ScenarioInvalid(Exception):
    """Edited data breaks the scenario schema: ``errors`` as :func:`scenario_errors` gives
    them; ``target`` names the row an add form created (``{"section", "index"}``)."""

    def __init__(self, errors: list[dict[str, Any]], what: str = "the scenario",
                 target: dict[str, Any] | None = None) -> None:
        self.errors = errors
        self.target = target
        first = errors[0] if errors else {"path": "(scenario)", "message": "invalid"}
        super().__init__(f"{what} has {len(errors)} problem(s); the first: {first['path']}: "
                         f"{first['message']}")


class Library:
    """Bundled and user scenarios. Thread-safe; parsed scenarios are cached by file time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_dir / "scenarios"
        self.tmp = settings.data_dir / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, tuple[float, Scenario]] = {}
        self._lock = threading.Lock()
        self._edit_lock = threading.Lock()  # one read-change-save of a user file at a time

    # -- lookup -----------------------------------------------------------------------
    @staticmethod
    def bundled() -> dict[str, Path]:
        from detente.scenario.formats import bundled_scenarios

        return bundled_scenarios()

    def user_path(self, sid: str) -> Path:
        check_id(sid)
        return safe_path(self.root, f"{sid}.yaml")

    def is_bundled(self, sid: str) -> bool:
        return sid in self.bundled()

    def exists(self, sid: str) -> bool:
        return self.is_bundled(sid) or self.user_path(sid).is_file()

    def get(self, sid: str) -> Scenario:
        """The scenario ``sid`` (bundled first), or a 404 listing what exists."""
        check_id(sid)
        bundled = self.bundled()
        path = bundled.get(sid) or self.user_path(sid)
        if not path.is_file():
            known = ", ".join(self.ids()) or "(none)"
            raise HTTPException(404, f"unknown scenario {sid!r}; known: {known}")
        key = str(path)
        mtime = path.stat().st_mtime
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == mtime:
                return hit[1]
        from detente.scenario.io_yaml import read_yaml

        try:
            sc = read_yaml(path)
        except InputFileError as exc:  # a user file edited by hand outside the dashboard
            raise HTTPException(422, _strip_path(str(exc), path, f"{sid}.yaml")) from None
        with self._lock:
            self._cache[key] = (mtime, sc)
        return sc

    def ids(self) -> list[str]:
        return [*self.bundled(), *self._user_ids()]

    def _user_ids(self) -> list[str]:
        from detente.web.security import ID_PATTERN

        return sorted(p.stem for p in self.root.glob("*.yaml") if ID_PATTERN.fullmatch(p.stem))

    def entries(self) -> list[dict[str, Any]]:
        """Summary rows of every scenario (bundled first)."""
        rows = []
        for sid in self.bundled():
            rows.append(self._entry(sid, "bundled"))
        for sid in self._user_ids():
            rows.append(self._entry(sid, "user"))
        return rows

    def _entry(self, sid: str, origin: str) -> dict[str, Any]:
        try:
            sc = self.get(sid)
        except HTTPException as exc:
            return {"id": sid, "origin": origin, "name": sid, "view": None,
                    "description": None, "actors": 0, "issues": 0, "stances": 0,
                    "editable": origin == "user", "hash": None, "error": exc.detail}
        return {"id": sid, "origin": origin, "name": sc.name, "view": sc.view,
                "description": sc.description, "actors": len(sc.actors),
                "issues": len(sc.issues), "stances": len(sc.stances),
                "editable": origin == "user", "hash": sc.content_hash(), "error": None}

    # -- limits -----------------------------------------------------------------------
    def check_size(self, sc: Scenario) -> None:
        s = self.settings
        for what, n, cap in (("actors", len(sc.actors), s.max_actors),
                             ("issues", len(sc.issues), s.max_issues),
                             ("stances", len(sc.stances), s.max_stances)):
            if n > cap:
                raise HTTPException(413, f"scenario {sc.id!r} has {n} {what}; this server "
                                    f"accepts at most {cap} (limit set by the server's "
                                    "settings); split the scenario or ask the administrator")

    def check_data_size(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        s = self.settings
        for what, cap in (("actors", s.max_actors), ("issues", s.max_issues),
                          ("stances", s.max_stances)):
            v = data.get(what)
            if isinstance(v, list) and len(v) > cap:
                raise HTTPException(413, f"scenario has {len(v)} {what}; this server accepts "
                                    f"at most {cap}")

    # -- writing ----------------------------------------------------------------------
    def save(self, sc: Scenario, *, overwrite: bool = True) -> Path:
        check_id(sc.id)
        if self.is_bundled(sc.id):
            raise HTTPException(409, f"{sc.id!r} is a bundled scenario and cannot be "
                                "overwritten; save it under a new id (e.g. "
                                f"'{sc.id}-edit')")
        self.check_size(sc)
        path = self.user_path(sc.id)
        if path.exists() and not overwrite:
            raise HTTPException(409, f"a scenario {sc.id!r} already exists; choose another "
                                "id or allow overwriting")
        from detente.scenario.io_yaml import write_yaml

        write_yaml(sc, path)
        with self._lock:
            self._cache.pop(str(path), None)
        return path

    def delete(self, sid: str) -> None:
        check_id(sid)
        if self.is_bundled(sid):
            raise HTTPException(409, f"{sid!r} is a bundled scenario and cannot be deleted")
        path = self.user_path(sid)
        if not path.is_file():
            raise HTTPException(404, f"unknown user scenario {sid!r}")
        path.unlink()
        with self._lock:
            self._cache.pop(str(path), None)

    def edit(self, sid: str, change: Any, what: str = "the edited scenario"
             ) -> tuple[Scenario, Any]:
        """Apply ``change(data)`` to the canonical data of the user scenario ``sid``, check
        the result against the scenario schema and save it. ``change`` returns what the
        caller wants back (e.g. the index of an added row, passed on as the error target).
        Bundled scenarios are read-only (409); invalid results raise :class:`ScenarioInvalid`
        and nothing is saved."""
        from detente.scenario.io_yaml import scenario_to_data

        check_id(sid)
        if self.is_bundled(sid):
            raise HTTPException(409, f"{sid!r} is a bundled scenario and cannot be changed; "
                                f"save a copy first (e.g. PUT /api/scenarios/{sid}-edit, or "
                                "Save in the editor) and change that")
        with self._edit_lock:
            data = scenario_to_data(self.get(sid))
            info = change(data)
            sc, errors = self.validate(data)
            if sc is None:
                target = info if isinstance(info, dict) and "section" in info else None
                raise ScenarioInvalid(errors, what, target)
            self.save(sc, overwrite=True)
        return sc, info

    def validate(self, data: Any) -> tuple[Scenario | None, list[dict[str, Any]]]:
        """Validate edited scenario data; errors carry the editor cell they belong to."""
        if not isinstance(data, dict):
            return None, [{"path": "(scenario)", "message": "the scenario must be a JSON "
                           "object with id, name, issues, actors and stances",
                           "section": None, "index": None, "field": None}]
        self.check_data_size(data)
        try:
            sc = Scenario.model_validate(data)
        except ValidationError as exc:
            return None, scenario_errors(exc, data)
        except (TypeError, ValueError, DetenteError) as exc:
            return None, [{"path": "(scenario)", "message": str(exc), "section": None,
                           "index": None, "field": None}]
        return sc, []

    def parse_upload(self, content: bytes, filename: str) -> Scenario:
        """Parse uploaded bytes as a scenario of any supported format; a 400 carries the
        reader's message (file name, line, field and fix)."""
        name = Path(filename or "upload.yaml").name[:100] or "upload.yaml"
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise HTTPException(415, f"{name!r}: unsupported file type {suffix or '(none)'}; "
                                f"upload one of {', '.join(UPLOAD_SUFFIXES)}")
        if len(content) > self.settings.max_upload_bytes:
            raise HTTPException(413, _too_big(len(content), self.settings.max_upload_bytes))
        tmp = safe_path(self.tmp, f"{uuid.uuid4().hex}{suffix}")
        try:
            tmp.write_bytes(content)
            from detente.scenario.formats import read_any

            sc = read_any(tmp)
        except InputFileError as exc:
            raise HTTPException(400, _strip_path(str(exc), tmp, name)) from None
        except DetenteError as exc:
            raise HTTPException(400, _strip_path(str(exc), tmp, name)) from None
        except (ValueError, TypeError, KeyError, IndexError, UnicodeError, RecursionError) as exc:
            # an importer met input it does not guard against: still the file's fault
            raise HTTPException(400, f"{name}: cannot read the file as a scenario "
                                f"({type(exc).__name__}: {_strip_path(str(exc), tmp, name)[:300]})"
                                ". Fix: check the file against the format's documentation "
                                "or `detente validate`") from None
        finally:
            tmp.unlink(missing_ok=True)
        self.check_size(sc)
        return sc


def _too_big(n: int, cap: int) -> str:
    return (f"upload is {n / 1e6:.2f} MB; this server accepts files up to {cap / 1e6:.2f} MB; "
            "remove unused content or split the scenario")


def _strip_path(message: str, path: Path, shown: str) -> str:
    """Replace the server-side path in a reader's message by the name the user knows."""
    return message.replace(str(path), shown).replace(path.name, shown)
