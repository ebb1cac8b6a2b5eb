"""Access token, host and origin checks, path containment, spreadsheet-safe CSV, headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import HTTPException

from detente.web.security import check_id, safe_path, spreadsheet_safe
from detente.web.settings import Settings, is_loopback
from tests.web.conftest import TOKEN, assert_clear_4xx, make_client

pytestmark = pytest.mark.web


def test_loopback_default_and_token_rule(tmp_path):
    s = Settings(data_dir=tmp_path)
    assert s.host == "127.0.0.1" and s.loopback and not s.token_required
    assert s.with_token_if_needed().token is None
    wide = Settings(data_dir=tmp_path, host="0.0.0.0").with_token_if_needed()
    assert wide.token and len(wide.token) >= 16
    kept = Settings(data_dir=tmp_path, host="0.0.0.0", token=TOKEN).with_token_if_needed()
    assert kept.token == TOKEN
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("192.168.1.4")
    with pytest.raises(Exception, match="16 characters"):
        Settings(data_dir=tmp_path, token="short")


def test_token_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DETENTE_TOKEN", TOKEN)
    assert Settings.from_env(data_dir=tmp_path).token == TOKEN


def test_missing_and_wrong_token(token_client):
    c = token_client
    m = assert_clear_4xx(c.get("/api/scenarios"), 401)
    assert "Authorization: Bearer" in m
    r = c.get("/")
    assert r.status_code == 401 and "<form" in r.text and "text/html" in r.headers["content-type"]
    assert_clear_4xx(c.get("/static/app.js"), 401)
    assert_clear_4xx(c.get("/openapi.json"), 401)
    assert "wrong access token" in assert_clear_4xx(
        c.get("/api/scenarios", headers={"Authorization": "Bearer nope"}), 401)
    assert_clear_4xx(c.post("/api/jobs", json={"scenario": "ukraine-2025"}), 401)


def test_bearer_query_cookie_and_login(token_client):
    c = token_client
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert c.get("/api/scenarios", headers=auth).status_code == 200
    # ?token= once: sets the cookie and redirects to the same page without the token
    r = c.get(f"/runs?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/runs"
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
    assert c.get("/runs").status_code == 200  # the cookie now does it
    c.cookies.clear()
    assert c.get("/runs").status_code == 401
    # the login form
    assert c.get("/login").status_code == 200
    bad = c.post("/login", data={"token": "nope"})
    assert bad.status_code == 401 and "wrong access token" in bad.text
    ok = c.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert ok.status_code == 303 and "detente_token=" in ok.headers["set-cookie"]
    assert c.get("/api/health").status_code == 200


def test_login_without_token_redirects(client):
    r = client.post("/login", data={"token": "anything"}, follow_redirects=False)
    assert r.status_code == 303
    assert_clear_4xx(client.post("/login", data={}), 422)


def test_foreign_host_refused_on_loopback(client):
    m = assert_clear_4xx(client.get("/api/health", headers={"host": "evil.example:8000"}), 421)
    assert "rebinding" in m
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000"):
        assert client.get("/api/health", headers={"host": host}).status_code == 200


def test_cross_site_writes_refused(client):
    m = assert_clear_4xx(client.post("/api/jobs", json={"scenario": "ukraine-2025"},
                                     headers={"origin": "http://evil.example"}), 403)
    assert "cross-site" in m
    assert_clear_4xx(client.post("/api/jobs", json={"scenario": "ukraine-2025"},
                                 headers={"origin": "null"}), 403)
    same = client.post("/api/jobs", json={"scenario": "ukraine-2025", "models": ["mean"]},
                       headers={"origin": "http://127.0.0.1"})
    assert same.status_code == 202
    # reads from another origin are harmless (no CORS headers, so a page cannot read them)
    r = client.get("/api/health", headers={"origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_security_headers(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY"


def test_ids_and_paths(tmp_path):
    for ok in ("ukraine-2025", "a.b", "x_1", "A"):
        assert check_id(ok) == ok
    for bad in ("..", "a..b", ".hidden", "a/b", "a\\b", "", "a" * 70, "a\x00", "a.", "-x"):
        with pytest.raises(HTTPException):
            check_id(bad)
    assert safe_path(tmp_path, "x.yaml") == (tmp_path / "x.yaml").resolve()
    for bad in ("..", "../x", "/etc/passwd", "a/b", ""):
        with pytest.raises(HTTPException):
            safe_path(tmp_path, bad)
    outside = tmp_path.parent / "outside.yaml"
    outside.write_text("x")
    (tmp_path / "link.yaml").symlink_to(outside)
    with pytest.raises(HTTPException):
        safe_path(tmp_path, "link.yaml")


def test_symlinked_user_scenario_is_not_followed(tmp_path):
    with make_client(tmp_path) as c:
        secret = tmp_path.parent / f"{tmp_path.name}-secret.yaml"
        secret.write_text("id: secret\n")
        (tmp_path / "scenarios" / "leak.yaml").symlink_to(secret)
        assert_clear_4xx(c.get("/api/scenarios/leak"), 400)


@pytest.mark.parametrize("value,expected", [
    ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("'quoted", "''quoted"), ("-1.5", "-1.5"), ("+3", "+3"),
    (-2.0, "-2.0"), (3, "3"), (None, ""), (True, "true"), ("plain", "plain"), ("", ""),
])
def test_spreadsheet_safe(value, expected):
    assert spreadsheet_safe(value) == expected


def test_no_external_addresses_in_assets_or_pages(client):
    static = Path(__file__).resolve().parents[2] / "src/detente/web/static"
    for f in static.iterdir():
        text = f.read_text()
        assert not re.search(r"https?://", text.replace("http://www.w3.org/2000/svg", "")), f
    for url in ("/", "/run", "/proposals", "/docs", "/scenarios/ukraine-2025", "/runs"):
        html = client.get(url).text
        assert not re.search(r"(src|href)=\"(https?:)?//", html), url
