"""Settings of the web dashboard: where data lives, who may connect and how much work a
request may ask for.

Every limit has a default that suits one analyst on a laptop; ``detente serve`` options and
``DETENTE_*`` environment variables override them (see :meth:`Settings.from_env`).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from detente.errors import DetenteError

__all__ = ["LOOPBACK_HOSTS", "Settings", "default_data_dir", "is_loopback"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    h = host.strip("[]").lower()
    if h in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def default_data_dir() -> Path:
    """``$DETENTE_DATA_DIR``, else the user data directory of the platform."""
    env = os.environ.get("DETENTE_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("detente", appauthor=False)) / "web"


@dataclass(frozen=True)
class Settings:
    """What the app needs to know; frozen so a request can never change it.

    data_dir: every file the app reads or writes from a request lives under it.
    token: access token; required (and generated when missing) unless ``host`` is loopback.
    executor: where Monte Carlo draws run: ``serial``, ``process`` or ``dask``.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_upload_bytes: int = 2 * 1024 * 1024
    max_actors: int = 100
    max_issues: int = 50
    max_stances: int = 2500
    max_active_jobs: int = 8
    max_draws: int = 20_000
    job_threads: int = 4
    executor: str = "serial"
    workers: int | None = None
    dask_address: str | None = None
    allowed_hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().resolve())
        if self.executor not in ("serial", "process", "dask"):
            raise DetenteError(f"executor {self.executor!r}: choose serial, process or dask")
        for name in ("max_upload_bytes", "max_actors", "max_issues", "max_stances",
                     "max_active_jobs", "max_draws", "job_threads"):
            if int(getattr(self, name)) < 1:
                raise DetenteError(f"{name} must be at least 1")
        if self.token is not None and len(self.token) < 16:
            raise DetenteError("the access token must have at least 16 characters; leave it "
                               "out to have one generated")

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def token_required(self) -> bool:
        return self.token is not None

    def with_token_if_needed(self) -> Settings:
        """A copy that holds a token whenever the host is not loopback (a new random one
        unless set)."""
        if self.loopback or self.token:
            return self
        return replace(self, token=secrets.token_urlsafe(24))

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from ``DETENTE_*`` environment variables, then ``overrides``."""
        env = os.environ
        values: dict[str, Any] = {}
        if env.get("DETENTE_TOKEN"):
            values["token"] = env["DETENTE_TOKEN"]
        if env.get("DETENTE_DATA_DIR"):
            values["data_dir"] = Path(env["DETENTE_DATA_DIR"])
        if env.get("DETENTE_EXECUTOR"):
            values["executor"] = env["DETENTE_EXECUTOR"]
        if env.get("DETENTE_DASK_ADDRESS"):
            values["dask_address"] = env["DETENTE_DASK_ADDRESS"]
            values.setdefault("executor", "dask")
        for key, name in (("DETENTE_MAX_JOBS", "max_active_jobs"),
                          ("DETENTE_MAX_DRAWS", "max_draws"),
                          ("DETENTE_MAX_UPLOAD_BYTES", "max_upload_bytes")):
            if env.get(key):
                try:
                    values[name] = int(env[key])
                except ValueError:
                    raise DetenteError(f"{key}={env[key]!r}: give a whole number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
