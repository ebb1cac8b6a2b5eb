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


def _one_line(text: str) -> str:
    """Errors print as one line: collapse the line breaks some messages carry."""
    return " ".join(str(text).split())


def _print_error(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"error: {_one_line(message)}", highlight=False,
                               soft_wrap=True, markup=False)


def _print_warning(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"warning: {_one_line(message)}", highlight=False,
                               soft_wrap=True, markup=False)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the app, turning detente errors into exit code 2.

    Bad input of every kind (a detente error, a usage error caught by the option parser, a
    path that cannot be read or written) prints one ``error: ...`` line and returns 2; an
    unexpected exception is a bug and returns 1.
    """
    try:  # typer >= 0.17 vendors click; older ones use the package
        from typer._click import exceptions as click_exc
    except ImportError:  # pragma: no cover
        from click import exceptions as click_exc  # type: ignore[no-redef]

    import warnings

    from detente.errors import DetenteWarning

    def _show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if issubclass(category, DetenteWarning):  # ours: one plain line, no source location
            _print_warning(str(message))
        else:
            _default_show(message, category, filename, lineno, file, line)

    _default_show = warnings.showwarning
    warnings.showwarning = _show
    try:
        code = app(args=argv, prog_name="detente", standalone_mode=False)
    except DetenteError as exc:
        _print_error(str(exc))
        return 2
    except click_exc.NoArgsIsHelpError as exc:
        exc.show()  # the group's help text, as a bare `detente` or `detente runs` asks for it
        return exc.exit_code
    except click_exc.ClickException as exc:
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f"; see '{ctx.command_path} --help'"
        _print_error(exc.format_message().rstrip(".") + hint)
        return 2
    except typer.Abort:
        _print_error("aborted")
        return 1
    except OSError as exc:  # a path the user gave cannot be read or written
        where = exc.filename or "a file"
        _print_error(f"{where}: {exc.strerror or exc}; check the path and its permissions")
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
    finally:
        warnings.showwarning = _default_show
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
