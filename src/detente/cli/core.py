"""Core commands: run, validate, models, schema, convert, explain."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models_cmd() -> None:
        """List the registered models.\n\nExample: detente models"""
        from detente.models.registry import available_models

        for name in available_models():
            typer.echo(name)
