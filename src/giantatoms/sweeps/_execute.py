"""Running chunks: serially, on local processes, on Dask, or on any ``concurrent.futures`` pool.

Every back end calls the same function, :func:`~giantatoms.sweeps._evaluate.evaluate_chunk`,
on the same chunks of the same spec, so every back end produces bit-identical arrays. Workers
only compute; the driving process writes each finished chunk to the store as it arrives, so an
interruption loses at most the chunks in flight.

BLAS and the package's own thread pools are pinned to one thread in worker processes that
``multiprocessing`` started (process pools, Dask nanny workers: ``GIANTATOMS_THREADS=1`` and
``threadpoolctl``): the parallelism is across processes, and nested threading only
oversubscribes the cores. Processes started otherwise (MPI ranks, ``dask worker --no-nanny``)
should export ``GIANTATOMS_THREADS=1`` and ``OMP_NUM_THREADS=1`` themselves; the calling
process is never changed (``evaluate_chunk`` limits BLAS for its own duration only).
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from giantatoms.sweeps._evaluate import evaluate_chunk

if TYPE_CHECKING:
    from giantatoms.sweeps._spec import SweepSpec

__all__ = ["ProcessExecutor", "Progress", "run_chunks"]

_WORKER_READY = "GIANTATOMS_SWEEP_WORKER"
_PIN = {
    "GIANTATOMS_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def _tune_malloc() -> None:
    """Keep large temporaries on the heap in worker processes (Linux/glibc only).

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which switches off
    glibc's adaptive mmap threshold: every temporary array above 128 kB is then mapped and
    unmapped afresh, and the page faults made the batched solvers 2–2.5× slower in Dask
    workers than in a process pool. Fixed thresholds equal to what glibc's adaptation reaches
    on its own (32 MiB mmap, 128 MiB trim) restore the speed.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 << 20)
        libc.mallopt(m_trim_threshold, 128 << 20)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _pin_worker() -> None:
    """Worker set-up: one BLAS thread and one solver thread per process; malloc tuned."""
    os.environ.update(_PIN)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:  # pragma: no cover - evaluate_chunk pins BLAS itself as well
        pass
    _tune_malloc()
    os.environ[_WORKER_READY] = "1"


def _worker_task(spec: SweepSpec, chunk: int) -> dict[str, NDArray]:
    """What a worker runs.

    In a child process (process pools, Dask nanny workers) the process is set up by
    :func:`_pin_worker` on first use; in the calling process itself (thread pools,
    in-process Dask) nothing global is changed — ``evaluate_chunk`` limits BLAS threads for
    its own duration only.
    """
    if multiprocessing.parent_process() is not None and os.environ.get(_WORKER_READY) != "1":
        _pin_worker()
    return evaluate_chunk(spec, chunk)


def _usable_start_method(method: str) -> str:
    """``method``, or ``"fork"`` where spawned workers could not import the main script.

    "spawn" and "forkserver" re-import ``__main__`` from its file in every worker; code run
    from standard input has a ``__file__`` that is no file, and the workers would die at start.
    """
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if (
        method in ("spawn", "forkserver")
        and main_file is not None
        and not os.path.exists(main_file)
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return "fork"
    return method


class ProcessExecutor:
    """A reusable pool of local worker processes with BLAS pinned to one thread each.

    Create it once and pass it to several sweeps (the processes, with their imports, are
    reused); use it as a context manager or call :meth:`shutdown`. ``executor="processes"`` in
    :func:`giantatoms.sweep` makes a temporary one.

    Parameters
    ----------
    workers : int, optional
        Number of processes; default the CPU count.
    start_method : {"spawn", "forkserver", "fork"}
        ``"spawn"`` (default) is safe with the thread pools of the parent process.
    """

    def __init__(self, workers: int | None = None, *, start_method: str = "spawn") -> None:
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
        ):
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        if start_method not in multiprocessing.get_all_start_methods():
            raise ValueError(
                f"start_method must be one of {multiprocessing.get_all_start_methods()}, "
                f"got {start_method!r}"
            )
        self.workers = workers or os.cpu_count() or 1
        self.start_method = start_method
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def pool(self) -> cf.ProcessPoolExecutor:
        """The live pool (started on first use, restarted after a worker died)."""
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(_usable_start_method(self.start_method)),
                initializer=_pin_worker,
            )
        return self._pool

    def restart(self) -> None:
        """Replace a broken pool (a worker died) by a fresh one."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> cf.Future:
        """Submit to the pool."""
        return self.pool.submit(fn, *args)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers}, start_method={self.start_method!r})"


class Progress:
    """Points done, rate and ETA on stderr; silent when disabled or stderr is not a TTY.

    Parameters
    ----------
    total : int
        Points in the sweep.
    done : int
        Points already finished (resumed from a store).
    enabled : bool or None
        ``None``: on when stderr is a terminal.
    label : str
    """

    def __init__(
        self, total: int, done: int = 0, enabled: bool | None = None, label: str = "sweep"
    ) -> None:
        self.total, self.done, self.label = total, done, label
        self.enabled = sys.stderr.isatty() if enabled is None else bool(enabled)
        self.start = time.perf_counter()
        self.resumed = done
        self._last = 0.0

    def update(self, points: int) -> None:
        """Count ``points`` more finished points."""
        self.done += points
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.2 or self.done >= self.total):
            self._last = now
            elapsed = max(now - self.start, 1e-9)
            rate = (self.done - self.resumed) / elapsed
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            percent = 100.0 * self.done / max(self.total, 1)
            width = 24
            filled = int(width * self.done / max(self.total, 1))
            bar = "#" * filled + "-" * (width - filled)
            sys.stderr.write(
                f"\r{self.label} [{bar}] {self.done}/{self.total} points ({percent:5.1f} %) "
                f"{rate:,.0f} pts/s  ETA {_duration(eta)}   "
            )
            sys.stderr.flush()

    def close(self) -> None:
        """End the line."""
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _dask_client(executor: Any, workers: int | None) -> tuple[Any, Callable[[], None]]:
    """A Dask client and its clean-up: a LocalCluster for "dask", a Client, or an address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(
            "executor='dask' needs dask.distributed: pip install 'giantatoms[dask]'"
        ) from exc
    from distributed.deploy import Cluster

    if isinstance(executor, Client):
        return executor, lambda: None
    if isinstance(executor, Cluster):  # LocalCluster, dask-jobqueue's SLURMCluster, ...
        client = Client(executor)
        return client, client.close
    if isinstance(executor, str) and executor != "dask":
        client = Client(executor)
        return client, client.close
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env=dict(_PIN),
    )
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


def _is_dask(executor: Any) -> bool:
    """A Dask scheduler, cluster or client (by name, so dask stays an optional import)."""
    if isinstance(executor, str):
        return executor == "dask" or "://" in executor
    names = {f"{c.__module__}.{c.__name__}" for c in type(executor).__mro__}
    return bool(names & {"distributed.client.Client", "distributed.deploy.cluster.Cluster"})


def run_chunks(
    spec: SweepSpec,
    chunks: Iterable[int],
    *,
    executor: Any,
    workers: int | None,
    retries: int,
    on_result: Callable[[int, dict[str, NDArray]], None],
) -> None:
    """Compute ``chunks`` and hand each result to ``on_result`` (in the calling process).

    Parameters
    ----------
    executor : "serial", "processes", "dask", a scheduler address, a
        ``distributed.Client``, a :class:`ProcessExecutor` or any ``concurrent.futures.Executor``
    workers : int, optional
        Processes for ``"processes"`` / ``"dask"``.
    retries : int
        How often a chunk is resubmitted after its worker died or the task raised.
    """
    pending = list(chunks)
    if not pending:
        return
    if isinstance(executor, str) and executor == "serial":
        for chunk in pending:
            on_result(chunk, evaluate_chunk(spec, chunk))
        return
    if _is_dask(executor):
        _run_dask(spec, pending, executor, workers, retries, on_result)
        return
    if isinstance(executor, str) and executor == "processes":
        with ProcessExecutor(workers) as pool:
            _run_futures(spec, pending, pool, retries, on_result)
        return
    if isinstance(executor, ProcessExecutor | cf.Executor):
        _run_futures(spec, pending, executor, retries, on_result)
        return
    raise ValueError(
        "executor must be 'serial', 'processes', 'dask', a Dask scheduler address, a "
        "distributed.Client, a ProcessExecutor or a concurrent.futures.Executor; got "
        f"{executor!r}"
    )


def _run_futures(
    spec: SweepSpec,
    pending: list[int],
    executor: Any,
    retries: int,
    on_result: Callable[[int, dict[str, NDArray]], None],
) -> None:
    attempts = dict.fromkeys(pending, 0)
    queue = list(pending)
    while queue:
        futures = {executor.submit(_worker_task, spec, chunk): chunk for chunk in queue}
        queue = []
        broken = False
        handled: set[cf.Future] = set()
        for future in cf.as_completed(futures):
            chunk = futures[future]
            handled.add(future)
            try:
                result = future.result()
            except Exception as exc:  # a dead worker or a transport failure
                attempts[chunk] += 1
                if attempts[chunk] > retries:
                    for other in futures:
                        other.cancel()
                    # Chunks that finished meanwhile are kept, not thrown away with the rest.
                    for other, done_chunk in futures.items():
                        if (
                            other not in handled
                            and other.done()
                            and not other.cancelled()
                            and (other.exception() is None)
                        ):
                            on_result(done_chunk, other.result())
                    hint = ""
                    if isinstance(exc, cf.process.BrokenProcessPool):
                        hint = (
                            ". If no worker ever finished a chunk, the workers could not start: "
                            "a script using worker processes must guard its entry point with "
                            "`if __name__ == '__main__':`"
                        )
                    raise RuntimeError(
                        f"chunk {chunk} failed {attempts[chunk]} times (last error: "
                        f"{type(exc).__name__}: {exc}); finished chunks are kept in the "
                        f"store{hint}"
                    ) from exc
                queue.append(chunk)
                broken = broken or isinstance(exc, cf.process.BrokenProcessPool)
                continue
            on_result(chunk, result)
        if broken and isinstance(executor, ProcessExecutor):
            executor.restart()
        elif broken:
            raise RuntimeError(
                "the process pool broke (a worker died); pass a ProcessExecutor, which is "
                "restarted automatically, or resume the sweep from its store"
            )


def _run_dask(
    spec: SweepSpec,
    pending: list[int],
    executor: Any,
    workers: int | None,
    retries: int,
    on_result: Callable[[int, dict[str, NDArray]], None],
) -> None:
    from distributed import as_completed

    client, close = _dask_client(executor, workers)
    try:
        [shared] = client.scatter([spec], broadcast=True, hash=False)
        fingerprint = spec.fingerprint()[:12]
        futures = [
            client.submit(
                _worker_task,
                shared,
                chunk,
                key=f"giantatoms-sweep-{fingerprint}-{chunk}",
                retries=retries,
                pure=False,
            )
            for chunk in pending
        ]
        chunk_of = {f.key: c for f, c in zip(futures, pending, strict=True)}
        for future, result in as_completed(futures, with_results=True):
            on_result(chunk_of[future.key], result)
            future.release()
    finally:
        close()
