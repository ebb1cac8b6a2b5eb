"""Where draws run: in this process, on local processes, or on a Dask cluster.

All three are :class:`concurrent.futures.Executor` objects (``submit``/``map``), opened by
:func:`open_executor` as a context manager that also cleans up what it started. Dask is an
extra (``pip install 'detente[distributed]'``) imported only when asked for.

Results never depend on the executor: the Monte Carlo splits draws into chunks by draw
number alone, and every draw has its own random stream.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from detente.errors import DetenteError

__all__ = [
    "EXECUTORS",
    "ExecutorError",
    "ExecutorHandle",
    "SerialExecutor",
    "available_cpus",
    "open_executor",
]

ExecutorKind = Literal["serial", "process", "dask"]
EXECUTORS: tuple[str, ...] = ("serial", "process", "dask")


class ExecutorError(DetenteError):
    """An executor cannot be started (unknown kind, missing extra, unreachable scheduler)."""


class SerialExecutor(Executor):
    """Runs each task at once, in this process (debugging, tiny runs, tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            fut.set_exception(exc)
        return fut


def available_cpus() -> int:
    """CPUs this process may use (affinity-aware)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_ONE_THREAD = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS")


def _worker_init() -> None:
    # Ctrl-C is handled once, by the parent, which keeps the draws already done
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # the parallelism is the processes: threaded kernels (numba prange, BLAS) inside each
    # worker would oversubscribe the cores many times over
    for var in _ONE_THREAD:
        os.environ[var] = "1"
    if "numba" in sys.modules:  # pragma: no cover - preloaded elsewhere
        try:
            sys.modules["numba"].set_num_threads(1)
        except Exception:  # noqa: BLE001 - best effort
            pass


@dataclass
class ExecutorHandle:
    """An open executor: ``executor`` plus how many workers it has and what it is."""

    executor: Executor
    kind: str
    workers: int
    address: str | None = None
    dashboard: str | None = None

    def describe(self) -> str:
        s = f"{self.kind} executor, {self.workers} worker{'s' if self.workers != 1 else ''}"
        if self.address:
            s += f" at {self.address}"
        return s


def _need_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError(
            "the Dask executor needs the 'distributed' extra, which is not installed; run "
            "pip install 'detente[distributed]' or choose --executor process") from None
    return distributed


def _mp_context() -> Any:
    """forkserver where available: fork is unsafe once OpenMP/BLAS threads exist (numba,
    SciPy), and the server imports numpy and detente once instead of once per worker."""
    if sys.platform.startswith("linux"):
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["numpy", "scipy.special", "detente.simulate.run"])
        return ctx
    return mp.get_context("spawn")


@contextmanager
def open_executor(kind: str = "process", workers: int | None = None, *,
                  address: str | None = None) -> Iterator[ExecutorHandle]:
    """Open an executor.

    kind: ``serial``, ``process`` (default; ``workers`` defaults to every available CPU) or
    ``dask``: connect to the scheduler at ``address`` (``tcp://host:port``) or, without
    one, start a :class:`distributed.LocalCluster` of ``workers`` single-threaded worker
    processes on loopback (threaded kernels pinned to one thread) and close it afterwards.
    Workers of a remote cluster are configured by whoever started them: start them with
    ``--nthreads 1`` and ``NUMBA_NUM_THREADS=1`` for the same behaviour.
    """
    if kind not in EXECUTORS:
        raise ExecutorError(f"--executor {kind!r}: choose one of {', '.join(EXECUTORS)}")
    if workers is not None and workers < 1:
        raise ExecutorError(f"--workers {workers}: need at least 1")
    if address and kind != "dask":
        kind = "dask"
    if kind == "serial":
        yield ExecutorHandle(SerialExecutor(), "serial", 1)
        return
    if kind == "process":
        n = workers or available_cpus()
        if n == 1:
            yield ExecutorHandle(SerialExecutor(), "serial", 1)
            return
        pool = ProcessPoolExecutor(max_workers=n, mp_context=_mp_context(),
                                   initializer=_worker_init)
        try:
            yield ExecutorHandle(pool, "process", n)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    distributed = _need_distributed()
    cluster = None
    try:
        if address:
            try:
                client = distributed.Client(address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(f"--dask {address}: cannot reach the scheduler ({exc}); "
                                    f"start one with `dask scheduler` and workers with "
                                    f"`dask worker {address}`, or drop --dask") from None
        else:
            n = workers or available_cpus()
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                               processes=True, host="127.0.0.1",
                                               dashboard_address=None,
                                               env={v: "1" for v in _ONE_THREAD})
            client = distributed.Client(cluster)
    except ExecutorError:
        raise
    try:
        info = client.scheduler_info()
        n_workers = max(1, len(info.get("workers", {})))
        if workers is None or address:
            workers = n_workers
        yield ExecutorHandle(client.get_executor(pure=False), "dask", workers,
                             address=client.scheduler.address if client.scheduler else address)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
