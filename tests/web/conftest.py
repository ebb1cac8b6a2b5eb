"""Fixtures of the web tests: an app on a fresh data directory and test clients."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from detente.web.app import create_app  # noqa: E402
from detente.web.settings import Settings  # noqa: E402

TOKEN = "test-token-0123456789abcdef"
BASE = "http://127.0.0.1"


def make_client(tmp: Path, **settings: Any) -> TestClient:
    app = create_app(Settings(data_dir=tmp, **settings))
    return TestClient(app, base_url=BASE, raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path):
    with make_client(tmp_path) as c:
        yield c


@pytest.fixture
def token_client(tmp_path: Path):
    """An app that needs a token (as when bound beyond loopback); no credentials sent."""
    with make_client(tmp_path, token=TOKEN) as c:
        yield c


def wait_job(c: TestClient, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    t0 = time.monotonic()
    while True:
        j = c.get(f"/api/jobs/{job_id}").json()
        if j["final"]:
            return j
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"job {job_id} did not finish: {j}")
        time.sleep(0.05)


def run_job(c: TestClient, **req: Any) -> dict[str, Any]:
    r = c.post("/api/jobs", json=req)
    assert r.status_code == 202, r.text
    return wait_job(c, r.json()["id"])


def assert_clear_4xx(r: Any, *codes: int) -> str:
    """A 4xx with a JSON or HTML message that says something, never a 500."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    if codes:
        assert r.status_code in codes, (r.status_code, r.text[:500])
    if r.headers.get("content-type", "").startswith("application/json"):
        detail = r.json()["detail"]
        assert isinstance(detail, str) and len(detail) > 10, detail
        return detail
    assert len(r.text) > 20
    return r.text
