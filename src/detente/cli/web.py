"""``detente serve``: the web dashboard and JSON API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from detente.errors import DetenteError


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        host: Annotated[str, typer.Option(
            help="Address to listen on. Anything but loopback needs an access token.")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port")] = 8000,
        token: Annotated[str | None, typer.Option(
            help="Access token (at least 16 characters). Default: $DETENTE_TOKEN; generated "
                 "and printed when listening beyond loopback.")] = None,
        data_dir: Annotated[Path | None, typer.Option(
            "--data-dir", help="Where user scenarios, jobs and the run store live. Default: "
                               "$DETENTE_DATA_DIR or the user data directory.")] = None,
        executor: Annotated[str | None, typer.Option(
            help="Where Monte Carlo draws run: serial, process or dask "
                 "(default: $DETENTE_EXECUTOR, else process: forecasts and draws run in "
                 "worker processes so the server stays responsive)")] = None,
        workers: Annotated[int | None, typer.Option(min=1, help="Workers of the process/Dask "
                                                         "executor")] = None,
        dask: Annotated[str | None, typer.Option(
            "--dask", help="Address of a Dask scheduler (tcp://host:port)")] = None,
        max_jobs: Annotated[int | None, typer.Option(
            "--max-jobs", min=1, help="Most jobs queued or running at once")] = None,
    ) -> None:
        """Serve the web dashboard and JSON API.

        The API reference is at /docs, its schema at /openapi.json.

        Examples:

          detente serve                                  # http://127.0.0.1:8000/

          detente serve --host 0.0.0.0 --port 8080       # prints an access token

          DETENTE_TOKEN=... detente serve --host 0.0.0.0 --data-dir /srv/detente
        """
        try:
            import uvicorn

            from detente.web.app import create_app
            from detente.web.settings import Settings
        except ImportError as exc:
            raise DetenteError(f"the dashboard needs the web extra ({exc.name} is missing); "
                               "install it with pip install 'detente[web]'") from None
        if not 0 < port < 65536:
            raise DetenteError(f"--port {port}: use a port between 1 and 65535")
        settings = Settings.from_env(host=host, port=port, token=token, data_dir=data_dir,
                                     executor=executor or os.environ.get("DETENTE_EXECUTOR")
                                     or ("dask" if dask else "process"),
                                     workers=workers, dask_address=dask,
                                     max_active_jobs=max_jobs)
        generated = not settings.loopback and not settings.token
        settings = settings.with_token_if_needed()
        shown = f"[{host}]" if ":" in host else host
        typer.echo(f"detente dashboard on http://{shown}:{port}/  (data: {settings.data_dir})")
        if settings.token:
            where = "generated for this session" if generated else (
                "from --token" if token else "from DETENTE_TOKEN")
            typer.echo(f"access token ({where}): {settings.token}")
            typer.echo(f"open http://{shown}:{port}/?token={settings.token} once, or send "
                       "'Authorization: Bearer <token>' to the API")
        elif "DETENTE_TOKEN" not in os.environ:
            typer.echo("listening on loopback only: no token needed")
        app = create_app(settings)
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False,
                    server_header=False)
