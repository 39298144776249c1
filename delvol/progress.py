"""Stage timing and progress messages.

Long steps (Qhull on 1e6 points takes over a minute) announce themselves on stderr with
their elapsed time when stderr is a terminal, and stay silent otherwise. The timings are
always recorded so that ``delvol info`` can report them.

A stage that runs longer than a few seconds shows its elapsed time ticking, from a
background thread. That thread can only run while the main thread releases the GIL, which
SciPy does for the whole Qhull call (``tests/test_progress.py`` checks it), so the
minute-long silence of a large tessellation is covered.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class StageLog:
    """Record how long each named stage took, and optionally tell the user.

    Parameters
    ----------
    verbose : bool, optional
        Print stage messages to stderr. Defaults to whether stderr is a TTY.
    tick_seconds : float
        While a stage runs, print its elapsed time this often (when verbose).
    """

    def __init__(self, verbose: bool | None = None, tick_seconds: float = 5.0) -> None:
        self.verbose = sys.stderr.isatty() if verbose is None else verbose
        self.quiet = verbose is False
        self.tick_seconds = tick_seconds
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block under ``name`` (repeated names accumulate)."""
        if self.verbose:
            print(f"delvol: {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        ticker = _Ticker(name, start, self.tick_seconds) if self.verbose else None
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.timings[name] = self.timings.get(name, 0.0) + elapsed
            if ticker is not None:
                ticker.stop()
                print(f"{ticker.line_start}delvol: {name} done in {elapsed:.2f} s", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        """Tell the user something they should know, in one line on stderr (unless ``verbose=False``)."""
        if not self.quiet:
            print(f"delvol: note: {' '.join(message.split())}", file=sys.stderr, flush=True)

    def bar(self, items: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
        """Wrap ``items`` in a tqdm progress bar that is shown only when verbose."""
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc, total=total, unit=unit, disable=not self.verbose, file=sys.stderr)


class _Ticker:
    """Reprint a stage's elapsed time every ``interval`` seconds until stopped.

    On a terminal each tick overwrites the last one, so a long stage shows one changing
    line; in a log file each tick is a line of its own.
    """

    def __init__(self, name: str, start: float, interval: float) -> None:
        self.name = name
        self.start = start
        self.interval = interval
        self.in_place = sys.stderr.isatty()
        self.ticked = False
        self._stopped = threading.Event()
        # A daemon thread: an exception that skips stop() must not keep the process alive.
        self._thread = threading.Thread(target=self._run, name=f"delvol tick: {name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        prefix, end = ("\r", "") if self.in_place else ("", "\n")
        while not self._stopped.wait(self.interval):
            elapsed = time.perf_counter() - self.start
            print(f"{prefix}delvol: {self.name} ... {elapsed:.0f} s", end=end, file=sys.stderr, flush=True)
            self.ticked = True

    @property
    def line_start(self) -> str:
        """What the closing message must start with: clear an in-place tick line."""
        return "\r\x1b[K" if self.in_place and self.ticked else ""

    def stop(self) -> None:
        """Stop ticking; returns once the thread has printed its last tick."""
        self._stopped.set()
        self._thread.join()


QUIET = StageLog(verbose=False)
"""A log that records nothing visible; the default for library calls."""
