"""Load test of the web dashboard on loopback (bounded, ~30 s by default).

Starts ``detente serve``'s app with uvicorn in a child process on a free 127.0.0.1 port and a
fresh data directory, stores a few runs, then for ``--duration`` seconds drives:

* ``--readers`` (20) clients reading results in a loop: a stored run (``GET /api/runs/{id}``,
  the payload the results page draws from), the run list and the job list;
* ``--writers`` (5) clients each starting a forecast job (``POST /api/jobs``), polling it
  until it finishes, and starting the next.

Reports requests per second, errors (any non-2xx answer or transport failure) and read
latency percentiles; the targets are zero errors and p95 read latency under 200 ms.

    .venv/bin/python benchmarks/load_web.py                 # 30 s, 20 readers, 5 writers
    .venv/bin/python benchmarks/load_web.py --duration 10 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

READ_TARGET_P95_MS = 200.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(q / 100 * (len(v) - 1)))))
    return v[k]


class Conn:
    """A minimal keep-alive HTTP/1.1 client (one connection per simulated user), so that the
    load generator, which shares the machine with the server, spends little CPU itself."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None
                      ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        await self.writer.drain()
        assert self.reader is not None
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Stats:
    def __init__(self) -> None:
        self.read_ms: list[float] = []
        self.poll_ms: list[float] = []
        self.submit_ms: list[float] = []
        self.errors: list[str] = []
        self.forecasts_done = 0


async def _reader(conn: Conn, run_ids: list[int], stop: float, st: Stats) -> None:
    rng = random.Random()
    while time.perf_counter() < stop:
        roll = rng.random()
        url = (f"/api/runs/{rng.choice(run_ids)}" if roll < 0.8 else
               "/api/runs" if roll < 0.9 else "/api/jobs")
        t0 = time.perf_counter()
        try:
            status, data = await conn.request("GET", url)
            ok = status == 200
            if ok and url.startswith("/api/runs/"):
                ok = b'"forecasts":[{' in data
            if not ok:
                st.errors.append(f"GET {url}: {status} {data[:120]!r}")
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            st.errors.append(f"GET {url}: {type(exc).__name__}: {exc}")
            conn.writer = None
        st.read_ms.append((time.perf_counter() - t0) * 1000)


async def _writer(conn: Conn, scenarios: list[str], models: list[str],
                  stop: float, st: Stats) -> None:
    rng = random.Random()
    while time.perf_counter() < stop:
        body = {"scenario": rng.choice(scenarios), "models": models, "seed": rng.randrange(1000)}
        t0 = time.perf_counter()
        try:
            status, data = await conn.request("POST", "/api/jobs", json.dumps(body).encode())
        except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
            st.errors.append(f"POST /api/jobs: {type(exc).__name__}: {exc}")
            conn.writer = None
            continue
        st.submit_ms.append((time.perf_counter() - t0) * 1000)
        if status != 202:
            st.errors.append(f"POST /api/jobs: {status} {data[:160]!r}")
            await asyncio.sleep(0.2)
            continue
        jid = json.loads(data)["id"]
        while True:
            await asyncio.sleep(0.1)
            t0 = time.perf_counter()
            try:
                status, data = await conn.request("GET", f"/api/jobs/{jid}")
                j = json.loads(data)
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                st.errors.append(f"GET /api/jobs/{jid}: {exc}")
                break
            st.poll_ms.append((time.perf_counter() - t0) * 1000)
            if j["final"]:
                if j["status"] != "done":
                    st.errors.append(f"job {jid} {j['status']}: {j.get('error')}")
                else:
                    st.forecasts_done += 1
                break


async def _drive(base: str, args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.readers + args.writers + 5)
    async with httpx.AsyncClient(base_url=base, timeout=30.0, limits=limits) as client:
        # a few stored runs to read, with every model (the heaviest payloads)
        run_ids = []
        for sid in ("ukraine-2025", "ukraine-2025-alt", "emission-bdm1994"):
            r = await client.post("/api/jobs", json={"scenario": sid})
            jid = r.json()["id"]
            while not (j := (await client.get(f"/api/jobs/{jid}")).json())["final"]:
                await asyncio.sleep(0.1)
            if j["status"] != "done":
                raise SystemExit(f"setup run failed: {j}")
            run_ids.append(j["run_id"])
            await client.get(f"/api/runs/{j['run_id']}")  # warm the cache
        st = Stats()
        t0 = time.perf_counter()
        stop = t0 + args.duration
        host, port = base.rsplit("//", 1)[1].split(":")
        conns = [Conn(host, int(port)) for _ in range(args.readers + args.writers)]
        tasks = [_reader(conns[k], run_ids, stop, st) for k in range(args.readers)]
        tasks += [_writer(conns[args.readers + k],
                          ["ukraine-2025", "ukraine-2025-alt", "emission-bdm1994"],
                          args.models, stop, st) for k in range(args.writers)]
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
        for cn in conns:
            await cn.close()
    n_req = len(st.read_ms) + len(st.poll_ms) + len(st.submit_ms)
    return {
        "duration_s": round(elapsed, 1), "readers": args.readers, "writers": args.writers,
        "models": args.models, "requests": n_req,
        "requests_per_s": round(n_req / elapsed, 1),
        "reads": len(st.read_ms), "reads_per_s": round(len(st.read_ms) / elapsed, 1),
        "read_ms_p50": round(_pct(st.read_ms, 50), 1),
        "read_ms_p95": round(_pct(st.read_ms, 95), 1),
        "read_ms_p99": round(_pct(st.read_ms, 99), 1),
        "poll_ms_p95": round(_pct(st.poll_ms, 95), 1),
        "submit_ms_p95": round(_pct(st.submit_ms, 95), 1),
        "forecast_jobs_done": st.forecasts_done,
        "errors": len(st.errors), "first_errors": st.errors[:5],
        "target": {"errors": 0, "read_ms_p95_below": READ_TARGET_P95_MS},
        "target_met": not st.errors and _pct(st.read_ms, 95) < READ_TARGET_P95_MS,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--readers", type=int, default=20)
    ap.add_argument("--writers", type=int, default=5)
    ap.add_argument("--models", nargs="+",
                    default=["compromise", "weighted_median", "nash", "spatial",
                             "expected_utility"],
                    help="models of each forecast job")
    ap.add_argument("--executor", default="process", choices=["serial", "process"],
                    help="where the server runs forecasts (as `detente serve` does: process)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="detente-load-") as tmp:
        env = {**os.environ, "DETENTE_DATA_DIR": tmp, "DETENTE_MAX_JOBS": str(args.writers + 3),
               "DETENTE_EXECUTOR": args.executor}
        env.pop("DETENTE_TOKEN", None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "detente.web.app:app_from_env",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, cwd=str(Path(__file__).resolve().parents[1]))
        base = f"http://127.0.0.1:{port}"
        try:
            t0 = time.monotonic()
            while True:
                try:
                    if httpx.get(base + "/api/health", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() - t0 > 30:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            res = asyncio.run(_drive(base, args))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{res['duration_s']} s on loopback: {args.readers} readers, {args.writers} "
              f"clients running forecasts ({', '.join(args.models)})")
        print(f"  requests: {res['requests']} ({res['requests_per_s']}/s); reads "
              f"{res['reads']} ({res['reads_per_s']}/s); forecast jobs done "
              f"{res['forecast_jobs_done']}")
        print(f"  read latency ms: p50 {res['read_ms_p50']}, p95 {res['read_ms_p95']}, "
              f"p99 {res['read_ms_p99']} (target p95 < {READ_TARGET_P95_MS:g})")
        print(f"  job submit p95 {res['submit_ms_p95']} ms, job poll p95 "
              f"{res['poll_ms_p95']} ms")
        print(f"  errors: {res['errors']}" + (f" e.g. {res['first_errors']}"
                                              if res["errors"] else ""))
        print("  target met" if res["target_met"] else "  TARGET MISSED")
    return 0 if res["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
