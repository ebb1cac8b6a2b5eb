"""Canonical YAML for scenarios: safe loading with line numbers in every error, and a
writer whose output reads back to the same scenario and the same text.

Only YAML's safe subset is accepted: tags that would build Python objects are rejected with
the line they sit on. Duplicate keys, which plain PyYAML silently overwrites, are errors.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from detente.errors import InputFileError
from detente.scenario.schema import Scenario

__all__ = [
    "MAX_FILE_BYTES",
    "dump_yaml",
    "load_yaml_text",
    "read_text_checked",
    "read_yaml",
    "scenario_from_data",
    "scenario_to_data",
    "write_yaml",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Scenario files above this size are refused before parsing (10 MB)."""

_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove it or check its spelling against `detente schema`",
    "float_parsing": "write a plain number such as 42 or 0.5",
    "float_type": "write a plain number such as 42 or 0.5",
    "finite_number": "NaN and infinity are not allowed; write a finite number",
    "string_type": "write text; quote values YAML would read as numbers or booleans",
    "greater_than_equal": "use a value at or above the minimum",
    "less_than_equal": "use a value at or below the maximum",
    "greater_than": "use a larger value",
    "less_than": "use a smaller value",
    "string_pattern_mismatch": "ids use letters, digits, '_', '.', '-' and start with a "
    "letter or digit",
    "literal_error": "use one of the allowed values",
    "too_short": "add at least one entry",
    "tuple_type": "write a list",
    "dict_type": "write a mapping of key: value",
    "model_type": "write a mapping of key: value",
}


def read_text_checked(path: Path, *, what: str = "scenario file") -> str:
    """Read ``path`` as UTF-8 text, refusing missing, empty, huge or binary files."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(str(p), "file not found", fix="check the path")
    if p.is_dir():
        raise InputFileError(str(p), "is a directory, not a file", fix="give a file path")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputFileError(
            str(p), f"file is {size / 1e6:.1f} MB; a {what} may be at most "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB", fix="split the file or remove unused content")
    raw = p.read_bytes()
    if not raw.strip():
        raise InputFileError(str(p), "file is empty", line=1, fix=f"write a {what} into it "
                             "(see `detente schema` and the bundled examples)")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise InputFileError(str(p), "file is binary, not text", line=line,
                             fix=f"give a text {what} (YAML, CSV or XML)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(str(p), "file is not valid UTF-8 text", line=line,
                             fix="save the file as UTF-8") from None


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first on line {seen[key] + 1}); keep one",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _compose(text: str, source: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputFileError(source, f"YAML syntax error: {exc.problem or exc.context}",
                             line=mark.line + 1 if mark else None,
                             fix="fix the indentation or quoting near that line") from None
    except yaml.YAMLError as exc:
        raise InputFileError(source, f"YAML error: {exc}", fix="check the YAML syntax") from None


def load_yaml_text(text: str, source: str = "<yaml>") -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely; returns the data and its node tree (for line numbers)."""
    node = _compose(text, source)
    if node is None:
        raise InputFileError(source, "document holds no data (only comments or blank lines)",
                             line=1, fix="write a scenario mapping: id, name, issues, actors, "
                             "stances")
    loader = _Loader(text)
    try:
        data = loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        fix = "correct the mapping"
        if "could not determine a constructor" in problem:
            tag = re.search(r"tag:yaml\.org,2002:(\S+?)'?$", problem)
            shown = f"!!{tag.group(1)}" if tag else problem.split("tag")[-1].strip(" '")
            problem = f"YAML tag {shown} is not allowed; detente reads plain data only"
            fix = "remove the tag and write plain values"
        elif problem.startswith("duplicate key"):
            problem, _, fix = problem.partition("; ")
            fix = fix or "keep one"
        raise InputFileError(source, problem, line=mark.line + 1 if mark else None,
                             fix=fix) from None
    finally:
        loader.dispose()
    return data, node


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at pydantic location ``loc`` (deepest match)."""
    line = node.start_mark.line + 1 if node is not None else None
    cur = node
    for part in loc:
        if isinstance(cur, yaml.MappingNode):
            nxt = None
            for k, v in cur.value:
                if getattr(k, "value", None) == str(part):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                return line
            cur = nxt
        elif isinstance(cur, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(cur.value):
                return line
            cur = cur.value[part]
            line = cur.start_mark.line + 1
        else:
            return line
    return line


_PATH = re.compile(r"^([A-Za-z_]+(?:\[\d+\])?(?:\.[A-Za-z_]+(?:\[\d+\])?)*): (.*)$", re.S)


def _path_to_loc(path: str) -> tuple[Any, ...]:
    loc: list[Any] = []
    for part in path.split("."):
        m = re.match(r"^([A-Za-z_]+)(?:\[(\d+)\])?$", part)
        if not m:
            break
        loc.append(m.group(1))
        if m.group(2) is not None:
            loc.append(int(m.group(2)))
    return tuple(loc)


def scenario_from_data(data: Any, source: str = "<data>", node: yaml.Node | None = None,
                       ) -> Scenario:
    """Validate parsed data as a Scenario; the first error becomes an InputFileError that
    names the source, line (when ``node`` is given), field and fix."""
    if not isinstance(data, dict):
        raise InputFileError(source, f"top level is a {type(data).__name__}, not a mapping",
                             line=1, fix="start the file with 'id:', 'name:', 'issues:' ...")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, source, node) from None


def _first_error(exc: ValidationError, source: str, node: yaml.Node | None) -> InputFileError:
    errs = exc.errors()
    # a misspelt key explains the 'missing' error next to it: report the misspelling first
    errs.sort(key=lambda e: e["type"] != "extra_forbidden")
    e = errs[0]
    loc = tuple(e["loc"])
    msg = e["msg"]
    fix: str | None
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    # cross-field errors carry their own paths: point at the first one
    if e["type"] == "value_error" and not loc or (e["type"] == "value_error" and _PATH.match(msg)):
        first = msg.split(" | ")[0]
        m = _PATH.match(first)
        if m:
            sub = _path_to_loc(m.group(1))
            full = loc + sub
            more = len(msg.split(" | ")) - 1 + len(errs) - 1
            tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
            problem, fix = _split_fix(m.group(2))
            return InputFileError(source, problem + tail, line=_line_of(node, full),
                                  field=".".join(str(p) for p in full), fix=fix)
    field = ".".join(str(p) for p in loc) or None
    fix = _FIXES.get(e["type"])
    if e["type"] == "value_error":
        msg, fix = _split_fix(msg)
    if e["type"] == "extra_forbidden":
        msg = f"unknown field {loc[-1]!r}"
        missing = [str(x["loc"][-1]) for x in errs
                   if x["type"] == "missing" and tuple(x["loc"][:-1]) == loc[:-1]]
        close = difflib.get_close_matches(str(loc[-1]), missing, n=1)
        if close:
            fix = f"did you mean {close[0]!r}? Rename the key"
    if e["type"] == "literal_error":
        fix = f"use one of: {e.get('ctx', {}).get('expected', '')}"
    inp = e.get("input")
    if e["type"] not in ("missing",) and not isinstance(inp, (dict, list)):
        msg = f"{msg} (got {inp!r})"
    more = len(errs) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InputFileError(source, msg, line=_line_of(node, loc), field=field, fix=fix)


def _split_fix(message: str) -> tuple[str, str]:
    """'problem; what to do' -> (problem, what to do)."""
    problem, sep, fix = message.partition("; ")
    return (problem, fix) if sep else (message, "correct this value")


def read_yaml(path: str | Path) -> Scenario:
    """Read a scenario from a YAML file (or JSON, which is YAML's subset)."""
    p = Path(path)
    text = read_text_checked(p)
    data, node = load_yaml_text(text, str(p))
    return scenario_from_data(data, str(p), node)


_LAST = ("evidence", "note")


def _clean(value: Any) -> Any:
    """Drop null and empty fields; put evidence and notes after the values they support."""
    if isinstance(value, dict):
        keys = [k for k in value if k not in _LAST] + [k for k in _LAST if k in value]
        return {k: _clean(value[k]) for k in keys
                if value[k] is not None and not (isinstance(value[k], (list, dict))
                                                 and not value[k])}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def scenario_to_data(scenario: Scenario) -> dict[str, Any]:
    """Plain data of ``scenario`` in canonical order, without empty or null fields."""
    return _clean(scenario.model_dump(mode="json"))


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(scenario: Scenario) -> str:
    """Canonical YAML text of ``scenario`` (stable: dumping what it reads gives the same)."""
    return yaml.dump(scenario_to_data(scenario), Dumper=_Dumper, sort_keys=False,
                     allow_unicode=True, default_flow_style=False, width=100)


def write_yaml(scenario: Scenario, path: str | Path) -> None:
    """Write ``scenario`` as canonical YAML, atomically."""
    from detente.atomic import atomic_write_text

    text = dump_yaml(scenario) if not str(path).endswith(".json") else json.dumps(
        scenario_to_data(scenario), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)
