"""Stage timing and progress messages.

On a terminal, every stage that runs longer than a second gets a tqdm status line, its
elapsed time ticking in place, and ends on the stage's total; quicker stages print nothing.
Output that is not a terminal stays quiet unless asked for (``verbose=True``), and then
gets plain lines: the start of each stage, its elapsed time every few seconds, its end. The
timings are always recorded so that ``delvol info`` can report them.

The ticking comes from a background thread, which can only run while the main thread
releases the GIL; SciPy does for the whole Qhull call, ctypes for gmsh's, and shull for
its own (``tests/test_progress.py`` checks them), so a minute-long tessellation shows.
"""

from __future__ import annotations

import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

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
        terminal = self.verbose and sys.stderr.isatty()
        if self.verbose and not terminal:
            print(f"delvol: {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        ticker = None
        if self.verbose:
            ticker = _StatusLine(name, start) if terminal else _Ticker(name, start, self.tick_seconds)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.timings[name] = self.timings.get(name, 0.0) + elapsed
            if ticker is not None:
                ticker.stop()
                if not terminal:
                    print(f"delvol: {name} done in {elapsed:.2f} s", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        """Tell the user something they should know, in one line on stderr (unless ``verbose=False``)."""
        if not self.quiet:
            print(f"delvol: note: {' '.join(message.split())}", file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        """Warn the user: one line on stderr, or a Python warning when the log is silent (``verbose=False``)."""
        if self.quiet:
            warnings.warn(message, ResourceWarning, stacklevel=3)
        else:
            print(f"delvol: warning: {' '.join(message.split())}", file=sys.stderr, flush=True)

    def bar(self, items: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
        """Wrap ``items`` in a tqdm progress bar that is shown only when verbose."""
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc, total=total, unit=unit, disable=not self.verbose, file=sys.stderr)


class _Ticker:
    """Print a stage's elapsed time every ``interval`` seconds, a line each, until stopped."""

    def __init__(self, name: str, start: float, interval: float) -> None:
        self.name = name
        self.start = start
        self.interval = interval
        self._stopped = threading.Event()
        # A daemon thread: an exception that skips stop() must not keep the process alive.
        self._thread = threading.Thread(target=self._run, name=f"delvol tick: {name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.tick(time.perf_counter() - self.start)

    def tick(self, elapsed: float) -> None:
        print(f"delvol: {self.name} ... {elapsed:.0f} s", file=sys.stderr, flush=True)

    def stop(self) -> None:
        """Stop ticking; returns once the thread has printed its last tick."""
        self._stopped.set()
        self._thread.join()


class _StatusLine(_Ticker):
    """A tqdm status line for a stage on a terminal, shown once it has run for a second.

    It redraws in place a few times a second, and on :meth:`stop` ends on the total, or
    never appears for a quicker stage.
    """

    DELAY = 1.0
    REFRESH = 0.2

    def __init__(self, name: str, start: float) -> None:
        self._bar: Any = None  # a tqdm bar once the first tick shows
        super().__init__(name, start, self.REFRESH)

    def _run(self) -> None:
        if not self._stopped.wait(self.DELAY):
            super()._run()

    def tick(self, elapsed: float) -> None:
        from tqdm.auto import tqdm

        if self._bar is None:
            self._bar = tqdm(bar_format="{desc}", file=sys.stderr)
        # The stage's own clock, in tqdm's format: the bar itself started a second late.
        self._bar.set_description_str(f"delvol: {self.name} [{tqdm.format_interval(elapsed)}]")

    def stop(self) -> None:
        super().stop()
        if self._bar is not None:
            elapsed = time.perf_counter() - self.start
            self._bar.set_description_str(f"delvol: {self.name} done in {elapsed:.2f} s", refresh=False)
            self._bar.close()


QUIET = StageLog(verbose=False)
"""A log that records nothing visible; the default for library calls."""
