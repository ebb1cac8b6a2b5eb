"""Security helpers of the web dashboard.

* :func:`check_id` and :func:`safe_path`: a request never names a file; it names an id that
  must match a strict pattern, and the path built from it must resolve inside the data
  directory (symlinks included).
* :class:`AccessGuard`: an ASGI middleware that checks the access token on every request
  (``Authorization: Bearer``, the ``detente_token`` cookie, or ``?token=`` once, which sets the
  cookie), refuses foreign ``Host`` headers on loopback (DNS rebinding) and cross-site
  state-changing requests (``Origin`` must match ``Host``).
* :func:`spreadsheet_safe`: CSV cells that a spreadsheet shows as text, never runs.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import HTTPException

from detente.scenario.io_table import spreadsheet_text

__all__ = [
    "COOKIE",
    "ID_PATTERN",
    "ITEM_ID_PATTERN",
    "JOB_ID_PATTERN",
    "AccessGuard",
    "check_id",
    "csv_text",
    "safe_path",
    "spreadsheet_safe",
]

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}(?:\.[A-Za-z0-9_\-]{1,63}){0,3}$")
"""Scenario and proposal ids: the scenario language's ids without '..' or a trailing dot."""

ITEM_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
"""Actor and issue ids inside a scenario (the scenario language's rule); they never name a
file."""

JOB_ID_PATTERN = re.compile(r"^[0-9a-f]{16,32}$")
"""Job and run ids are random hex strings made by the server."""

COOKIE = "detente_token"


def check_id(value: str, what: str = "scenario id", pattern: re.Pattern[str] = ID_PATTERN
             ) -> str:
    """``value`` when it matches ``pattern``, else a 400 naming the rule."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        shown = value if isinstance(value, str) and len(value) <= 80 else "(too long)"
        rule = ("letters, digits, '_', '-' and single dots, starting with a letter or digit, "
                "at most 64 characters" if pattern is ID_PATTERN
                else "letters, digits, '_', '.' and '-', starting with a letter or digit, at "
                "most 64 characters" if pattern is ITEM_ID_PATTERN
                else "the hex id the server gave you")
        raise HTTPException(400, f"invalid {what} {shown!r}: use {rule}")
    return value


def safe_path(root: Path, *parts: str) -> Path:
    """``root / parts`` resolved, refusing anything that lands outside ``root``."""
    base = root.resolve()
    for p in parts:
        if not p or "/" in p or "\\" in p or "\x00" in p or p in (".", ".."):
            raise HTTPException(400, f"invalid path component {p[:40]!r}")
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base):
        raise HTTPException(400, "path leaves the data directory")
    return target


def spreadsheet_safe(value: Any) -> str:
    """A CSV cell that spreadsheets show as text: a cell starting with ``= + - @``, tab or
    carriage return gets a leading quote unless it is a plain number; a cell already
    starting with a quote gets another so the prefix stays reversible."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet_text(repr(value) if isinstance(value, float) else str(value))


def csv_text(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV text with every cell passed through :func:`spreadsheet_safe`."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([spreadsheet_safe(h) for h in header])
    for row in rows:
        w.writerow([spreadsheet_safe(c) for c in row])
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# the ASGI guard

_OPEN_PATHS = frozenset({"/login"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in scope.get("headers", []):
        out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
    return out


def _host_only(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class AccessGuard:
    """Checks host, origin and token before any route runs.

    ``token`` None: no token needed (loopback only). ``allowed_hosts`` empty: any Host header
    is accepted (the app listens on a non-loopback address and a token protects it).
    """

    def __init__(self, app: Any, *, token: str | None, allowed_hosts: Iterable[str] = ()
                 ) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path = scope.get("path", "")
        method = scope.get("method", "GET").upper()
        api = path.startswith("/api") or path in ("/openapi.json",)
        host = _host_only(headers.get("host", ""))
        if self.allowed_hosts and host not in self.allowed_hosts:
            await _deny(send, 421, f"host {host!r} is not served here; open the dashboard at "
                        "http://127.0.0.1:<port>/ (DNS-rebinding protection)", api)
            return
        origin = headers.get("origin")
        if method not in _SAFE_METHODS and origin and origin != "null":
            o = urlsplit(origin)
            if (o.netloc or "").lower() != headers.get("host", "").lower():
                await _deny(send, 403, f"cross-site request from {origin!r} refused; use the "
                            "dashboard's own pages or call the API without an Origin header",
                            api)
                return
        elif method not in _SAFE_METHODS and origin == "null":
            await _deny(send, 403, "request from an opaque origin refused", api)
            return
        if self.token is None or path in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        given, via_query = self._given(headers, query)
        if given is None:
            await _deny(send, 401, "access token required: send 'Authorization: Bearer "
                        "<token>', or open /login (the token was printed when the server "
                        "started, or set in DETENTE_TOKEN)", api, login=not api)
            return
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            await _deny(send, 401, "wrong access token; check the token printed when the "
                        "server started (or DETENTE_TOKEN)", api, login=not api)
            return
        if via_query and method == "GET" and not api:
            # set the cookie and drop the token from the address bar (and from history)
            rest = urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                              if k != "token"])
            location = path + (f"?{rest}" if rest else "")
            await send({"type": "http.response.start", "status": 303, "headers": [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", _cookie(given)),
                (b"cache-control", b"no-store"),
                (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _given(headers: dict[str, str], query: str) -> tuple[str | None, bool]:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        if "cookie" in headers:
            c: SimpleCookie = SimpleCookie()
            try:
                c.load(headers["cookie"])
            except Exception:  # noqa: BLE001 - a malformed cookie header is just no token
                c = SimpleCookie()
            if COOKIE in c:
                return c[COOKIE].value, False
        for k, v in parse_qsl(query):
            if k == "token":
                return v, True
        return None, False


def _cookie(token: str) -> bytes:
    return (f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict").encode("latin-1")


def login_cookie(token: str) -> str:
    return _cookie(token).decode("latin-1")


async def _deny(send: Any, status: int, message: str, api: bool, login: bool = False) -> None:
    if api or not login:
        body = json.dumps({"detail": message}).encode()
        ctype = b"application/json"
    else:
        from html import escape

        body = (
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>detente: sign in"
            "</title></head><body style='font-family:system-ui,sans-serif;max-width:36rem;"
            "margin:3rem auto'><h1>detente</h1>"
            f"<p role=alert>{escape(message)}</p>"
            "<form method=post action=/login><label>Access token "
            "<input name=token type=password autocomplete=current-password required></label> "
            "<button type=submit>Sign in</button></form></body></html>").encode()
        ctype = b"text/html; charset=utf-8"
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
               (b"cache-control", b"no-store")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="detente"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
