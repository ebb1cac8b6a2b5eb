"""Command-line interface (typer): a thin layer over the public API."""
