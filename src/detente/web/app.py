"""The FastAPI application: ``create_app(settings)`` wires the scenario library, the job
manager, the run views, the templates (the report's, extended), the static assets (served
locally; no CDN), the access guard and the error handlers.

Run it with ``detente serve`` (see :mod:`detente.cli.web`) or any ASGI server::

    uvicorn --factory detente.web.app:app_from_env
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from detente.errors import DetenteError
from detente.web.settings import LOOPBACK_HOSTS, Settings

__all__ = ["AppState", "app_from_env", "create_app"]

log = logging.getLogger("detente.web")

HERE = Path(__file__).parent

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


@dataclass
class AppState:
    settings: Settings
    library: Any
    jobs: Any
    runs: Any
    env: Any


def _env() -> Any:
    import jinja2

    from detente.report.html import template_env

    env = template_env([jinja2.FileSystemLoader(str(HERE / "templates"))])
    env.globals["fmt"] = lambda v, d=2: "–" if v is None else f"{float(v):.{d}f}"
    return env


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/openapi.json"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for e in exc.errors()[:5]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body",)) or "request"
        msg = e.get("msg", "invalid")
        if e.get("type") == "extra_forbidden":
            msg = "unknown field; check the spelling against the API schema (/openapi.json)"
        elif e.get("type") == "missing":
            msg = "required"
        elif e.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        parts.append(f"{loc}: {msg}")
    more = len(exc.errors()) - 5
    return "invalid request: " + "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The dashboard and API for ``settings`` (default: from the environment)."""
    from detente import __version__
    from detente.web.api import router as api_router
    from detente.web.jobs import JobManager
    from detente.web.library import Library
    from detente.web.pages import router as page_router
    from detente.web.results import RunViews
    from detente.web.security import AccessGuard

    settings = (settings or Settings.from_env()).with_token_if_needed()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    library = Library(settings)
    jobs = JobManager(settings, library)
    state = AppState(settings=settings, library=library, jobs=jobs, runs=RunViews(jobs),
                     env=_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()

    app = FastAPI(
        title="detente",
        version=__version__,
        description="Forecast and war-game multi-party negotiations: the scenario library, "
        "background forecasts and Monte Carlo jobs, stored runs and proposal evaluation. "
        "Authenticate with 'Authorization: Bearer <token>' when the server requires a token.",
        docs_url=None, redoc_url=None,  # Swagger UI loads from a CDN; /docs is ours
        lifespan=lifespan,
    )
    app.state.detente = state

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such page or endpoint: {request.url.path}; see /docs for the API"
        if exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return _error(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 422, _validation_message(exc))

    @app.exception_handler(DetenteError)
    async def detente_error(request: Request, exc: DetenteError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _error(request, 500, f"internal error ({type(exc).__name__}); this is a bug in "
                      "detente, please report it")

    def _error(request: Request, status: int, detail: str,
               headers: dict[str, str] | None = None) -> Response:
        if _is_api(request) or request.method not in ("GET", "HEAD", "POST"):
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        html = state.env.get_template("error.html").render(
            status=status, detail=detail, version=__version__, request_path=request.url.path,
            settings=settings)
        return HTMLResponse(html, status_code=status, headers=headers)

    @app.get("/docs", response_class=HTMLResponse, tags=["meta"],
             summary="API reference (rendered from the OpenAPI schema, no CDN)")
    def api_docs(request: Request) -> HTMLResponse:
        spec = app.openapi()
        rows = []
        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                params = [p["name"] for p in op.get("parameters", [])]
                rows.append({"method": method.upper(), "path": path,
                             "summary": op.get("summary", ""),
                             "tags": ", ".join(op.get("tags", [])), "params": params,
                             "body": "requestBody" in op})
        html = state.env.get_template("docs.html").render(
            rows=rows, version=__version__, request_path="/docs", settings=settings)
        return HTMLResponse(html)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    app.include_router(api_router)
    app.include_router(page_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    allowed: tuple[str, ...] = ()
    if settings.loopback:
        allowed = tuple(LOOPBACK_HOSTS) + tuple(settings.allowed_hosts)
    elif settings.allowed_hosts:
        allowed = tuple(settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessGuard, token=settings.token, allowed_hosts=allowed)
    return app


class SecurityHeaders:
    """Pure ASGI middleware adding the content security policy and friends to every answer
    (cheaper than an ``@app.middleware("http")`` function under load)."""

    HEADERS = ((b"content-security-policy", CSP.encode()),
               (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"no-referrer"))

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS if k not in have]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def app_from_env() -> FastAPI:
    """Factory for ASGI servers: settings from ``DETENTE_*`` environment variables."""
    return create_app(Settings.from_env())
