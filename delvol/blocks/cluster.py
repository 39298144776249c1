"""Run block tasks on Dask: a LocalCluster of processes, or a running cluster by address.

One worker process per core and one thread per worker: Qhull holds a lock per call and
gmsh keeps global state, so threads would only queue. Block results stay on the workers
until someone asks for them; a worker that dies has its blocks recomputed by Dask from
the job folder.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from delvol import __version__
from delvol.blocks.job import Job
from delvol.errors import DelvolError

CHECKED_PACKAGES = ("delvol", "numpy", "scipy", "distributed")
"""Packages whose versions must agree between client and workers (scipy: Qhull itself)."""
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler by address
WORKER_WAIT = 60.0  # seconds to wait for the first worker
_RETRIES = 2  # a task that raises is retried this often; a dead worker's tasks always rerun


def package_versions() -> dict[str, str]:
    """This process's versions of :data:`CHECKED_PACKAGES` and Python."""
    import distributed
    import numpy
    import scipy

    return {
        "python": ".".join(map(str, sys.version_info[:2])),
        "delvol": __version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "distributed": distributed.__version__,
    }


def version_mismatches(local: dict[str, str], workers: dict[str, dict[str, str]]) -> list[str]:
    """One phrase per package whose version on a worker differs from the client's."""
    out = []
    for address, theirs in sorted(workers.items()):
        for name in ("python", *CHECKED_PACKAGES):
            if theirs.get(name) != local[name]:
                out.append(f"{name} {theirs.get(name, 'missing')} on worker {address} (client has {local[name]})")
    return out


class BlockStates:
    """Per-block states of a job (queued, running, done), shown as one line of symbols.

    On a terminal the line is redrawn in place: ``.`` queued, ``>`` running, ``#`` done,
    ``+`` done after growing its ghost shell. Otherwise each finished block prints a line.
    """

    SYMBOLS: ClassVar[dict[str, str]] = {"queued": ".", "running": ">", "done": "#", "regrown": "+"}

    def __init__(self, n_blocks: int, label: str, verbose: bool) -> None:
        self.states = ["queued"] * n_blocks
        self.label = label
        self.verbose = verbose
        self.in_place = verbose and sys.stderr.isatty()
        self.start = time.perf_counter()

    def set(self, block: int, state: str, stats: dict | None = None) -> None:
        if self.states[block] in ("done", "regrown"):
            return
        self.states[block] = state
        if self.verbose and not self.in_place and stats is not None:
            print(
                f"delvol: {self.label} block {block}: {stats['n_core']:,} core + {stats['n_ghost']:,} ghost points, "
                f"{stats['rounds']} shell round(s), {stats['seconds']:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    def show(self) -> None:
        if not self.in_place:
            return
        done = sum(s in ("done", "regrown") for s in self.states)
        running = self.states.count("running")
        symbols = "".join(self.SYMBOLS[s] for s in self.states)
        if len(symbols) > 64:
            symbols = symbols[:61] + "..."
        line = (
            f"delvol: {self.label} [{symbols}] {done}/{len(self.states)} done, {running} running, "
            f"{time.perf_counter() - self.start:.0f} s"
        )
        print(f"\r\x1b[K{line}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.in_place:
            print(file=sys.stderr, flush=True)


class DaskRunner:
    """Block tasks on a Dask client (see :func:`dask_runner`)."""

    def __init__(self, client: Any, verbose: bool = False) -> None:
        self.client = client
        self.verbose = verbose

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    def submit(self, fn: Callable[..., Any], *args: Any, name: str = "delvol") -> Any:
        """``fn(*args)`` on a worker, as a future (futures among the arguments are resolved)."""
        from dask.base import tokenize

        return self.client.submit(fn, *args, key=f"{name}-{tokenize(fn, *args)}", retries=_RETRIES, pure=False)

    def submit_blocks(self, fn: Callable[..., Any], job: Job, blocks: list[int], label: str) -> dict[int, Any]:
        """``fn(job, block)`` for each block, watched until all are done; the futures by block.

        The results stay on the workers.
        """
        futures = {b: self.submit(fn, job, b, name=f"{label}-block-{b:05d}") for b in blocks}
        for i, _, states in self.completed(futures, label):
            states.set(i, "done")
        return futures

    def map(self, fn: Callable[..., Any], job: Job, blocks: list[int]) -> Iterator[Any]:
        """Run ``fn(job, block)`` for every block; yield each result as it finishes.

        A result is gathered here once and then dropped from the cluster, so a consumer
        that writes each block away holds one block at a time.
        """
        futures = {b: self.submit(fn, job, b, name=f"build-block-{b:05d}") for b in blocks}
        for i, block, states in self.completed(futures, "build"):
            result = futures.pop(block).result()
            stats = getattr(result, "stats", {})
            states.set(i, "regrown" if stats.get("rounds", 1) > 1 else "done", stats or None)
            yield result

    def completed(self, futures: dict[int, Any], label: str) -> Iterator[tuple[int, int, BlockStates]]:
        """Yield (slot, block, states) as futures finish, showing every block's state meanwhile.

        A task that failed (after its retries) raises here.
        """
        states = BlockStates(len(futures), label, self.verbose)
        slot = {f.key: (i, b) for i, (b, f) in enumerate(futures.items())}
        pending = set(futures.values())
        try:
            while pending:
                done = {f for f in pending if f.done()}
                pending -= done
                for future in done:
                    if future.status == "error":
                        future.result()
                    yield (*slot[future.key], states)
                if pending and states.in_place:
                    running = {key for keys in self.client.processing().values() for key in keys}
                    for future in pending:
                        if future.key in running:
                            states.set(slot[future.key][0], "running")
                states.show()
                if pending and not done:
                    time.sleep(0.2)
        finally:
            states.close()

    def gather(self, future: Any) -> Any:
        return future.result()


@contextmanager
def dask_runner(
    workers: int | None = None, scheduler: str | None = None, verbose: bool = False
) -> Iterator[DaskRunner]:
    """A :class:`DaskRunner` on a new LocalCluster, or on the scheduler at ``scheduler``.

    Prints the scheduler's and the dashboard's address on stderr. A scheduler that cannot be reached, a
    cluster without workers, and workers whose delvol, NumPy, SciPy, distributed or
    Python differ from this process's raise :class:`DelvolError` naming the problem.

    Parameters
    ----------
    workers : int, optional
        Worker processes of the LocalCluster (default: one per core); ignored with a
        scheduler address.
    scheduler : str, optional
        Address of a running scheduler, for example ``tcp://host:8786``.
    verbose : bool
        Show the per-block progress.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise DelvolError(f'--blocks needs Dask: pip install "delvol[dask]" ({exc})') from None
    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise DelvolError(f"cannot reach the Dask scheduler at {scheduler} ({_first_line(exc)})") from None
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            # A failed task's error comes back to the client, which reports it in one line; the workers'
            # own "Compute Failed" log (ERROR, with a traceback) would only repeat it.
            silence_logs=logging.CRITICAL,
        )
        client = Client(cluster, set_as_default=False)
    try:
        _check_workers(client, scheduler)
        runner = DaskRunner(client, verbose=verbose)
        link = client.dashboard_link if _has_dashboard() else "not served (pip install bokeh)"
        address = client.scheduler_info()["address"]
        print(
            f"delvol: Dask scheduler {address} with {runner.n_workers} worker(s), dashboard {link}",
            file=sys.stderr,
            flush=True,
        )
        yield runner
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _check_workers(client: Any, scheduler: str | None) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except TimeoutError:
        raise DelvolError(f"the Dask scheduler at {scheduler} has no workers") from None
    mismatches = version_mismatches(package_versions(), client.run(package_versions))
    if mismatches:
        raise DelvolError("version mismatch between client and Dask workers: " + "; ".join(mismatches[:3]))


def _has_dashboard() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def block_count(blocks: int | str, n_points: int, runner: DaskRunner) -> int:
    """The number of blocks: ``blocks``, or for ``auto`` one from the points and the workers' memory."""
    if blocks != "auto":
        return int(blocks)
    from delvol.blocks.run import auto_blocks

    memory = runner.client.run(_available_memory)
    per_worker = min(memory.values()) if memory else 2e9
    return auto_blocks(n_points, runner.n_workers, per_worker)


def _available_memory() -> float:
    from delvol.memory import available_memory

    return available_memory() / max(1, len(os.sched_getaffinity(0)))
