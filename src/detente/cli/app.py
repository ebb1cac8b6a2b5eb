"""The ``detente`` command: a thin typer layer over the public API.

Every command module in ``_COMMAND_MODULES`` exposes ``register(app)``. Errors raised on
purpose (:class:`~detente.errors.DetenteError`) print one line and exit with code 2.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from detente.errors import DetenteError

__all__ = ["app", "main"]

app = typer.Typer(
    name="detente",
    help="Forecast and war-game multi-party negotiations.\n\n"
    "Example: detente run            (the bundled ukraine-2025 scenario, every model)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

_COMMAND_MODULES: tuple[str, ...] = (
    "detente.cli.core",
    "detente.cli.spatial",
    "detente.cli.backtest",
    "detente.cli.conflict",
    "detente.cli.web",
    "detente.cli.report",
    "detente.cli.runs",
    "detente.cli.simulate",
)



@app.callback()
def _root() -> None:
    """Forecast and war-game multi-party negotiations."""


for _name in _COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the app, turning detente errors into exit code 2."""
    try:
        app(args=argv, prog_name="detente")
    except DetenteError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"error: {exc}", highlight=False, soft_wrap=True,
                                   markup=False)
        return 2
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as exc:  # a bug, not bad input: say so, keep the trace behind a switch
        if os.environ.get("DETENTE_DEBUG"):
            raise
        from rich.console import Console

        Console(stderr=True).print(
            f"internal error ({type(exc).__name__}): {exc}\nThis is a bug in detente; please "
            "report it. Set DETENTE_DEBUG=1 to see the traceback.", markup=False)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
