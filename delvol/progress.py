"""Stage timing and progress messages.

Long steps (Qhull on 1e6 points takes over a minute) announce themselves on stderr with
their elapsed time when stderr is a terminal, and stay silent otherwise. The timings are
always recorded so that ``delvol info`` can report them.
"""

from __future__ import annotations

import sys
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
    """

    def __init__(self, verbose: bool | None = None) -> None:
        self.verbose = sys.stderr.isatty() if verbose is None else verbose
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the enclosed block under ``name`` (repeated names accumulate)."""
        if self.verbose:
            print(f"delvol: {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.timings[name] = self.timings.get(name, 0.0) + elapsed
            if self.verbose:
                print(f"delvol: {name} done in {elapsed:.2f} s", file=sys.stderr, flush=True)

    def bar(self, items: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
        """Wrap ``items`` in a tqdm progress bar that is shown only when verbose."""
        from tqdm.auto import tqdm

        return tqdm(items, desc=desc, total=total, unit=unit, disable=not self.verbose, file=sys.stderr)


QUIET = StageLog(verbose=False)
"""A log that records nothing visible; the default for library calls."""
