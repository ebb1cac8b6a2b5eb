"""Package exceptions and warnings.

Every error raised for bad user input is a :class:`DetenteError` whose message names the
file (when there is one), the line (for YAML), the field and the fix.
"""

from __future__ import annotations

__all__ = [
    "DetenteError",
    "ScenarioError",
    "InputFileError",
    "ModelError",
    "ParamsError",
    "NotConvergedWarning",
    "DetenteWarning",
]


class DetenteError(Exception):
    """Base class of every error detente raises on purpose."""


class ScenarioError(DetenteError, ValueError):
    """A scenario breaks a rule of the scenario language."""


class InputFileError(DetenteError, ValueError):
    """A file cannot be read as a scenario; the message names the file, line and fix."""

    def __init__(self, path: str | None, message: str, *, line: int | None = None,
                 field: str | None = None, fix: str | None = None) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.fix = fix
        where = path or "<input>"
        if line is not None:
            where = f"{where}, line {line}"
        parts = [f"{where}: {message}"]
        if field:
            parts[0] = f"{where}: field '{field}': {message}"
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


class ModelError(DetenteError, ValueError):
    """A model cannot run on the given scenario."""


class ParamsError(DetenteError, ValueError):
    """Model parameters are invalid (name, allowed values and fix are in the message)."""


class DetenteWarning(UserWarning):
    """Base class of detente's warnings."""


class NotConvergedWarning(DetenteWarning):
    """A round-based model hit its round cap or a cycle instead of converging."""
