"""Interleaved timing: the compared things run side by side, so shared-machine noise cancels.

On a loaded machine an absolute time says little, but two things timed back to back see
nearly the same load, so the ratio of a pair is meaningful. Every round runs each task
once, in an order rotated from round to round so that none always goes first, and the
ratios are taken within a round before taking their median.

Both wall-clock and CPU time (of the whole process, all threads) are recorded. The work
measured here is single-threaded, so on a shared machine CPU time is what the code costs,
while wall time also counts the seconds the scheduler gave to other people's jobs.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class Times:
    """Seconds per round for each task: wall-clock and process CPU time."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]


def interleaved(tasks: Mapping[str, Callable[[], Any]], repeat: int) -> Times:
    """Run every task once per round for ``repeat`` rounds; return each task's times.

    Results are dropped straight away, so one task's output does not weigh on the next.
    """
    names = list(tasks)
    times = Times({name: [] for name in names}, {name: [] for name in names})
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            tasks[name]()
            times.cpu[name].append(time.process_time() - cpu)
            times.wall[name].append(time.perf_counter() - wall)
    return times


def paired_ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """Ratio of two tasks' times within each round."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def median(values: list[float]) -> float:
    """Median of ``values``."""
    return statistics.median(values)


def verdict(ok: bool) -> str:
    """``PASS`` or ``FAIL``."""
    return "PASS" if ok else "FAIL"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Print ``rows`` as left-aligned columns under ``header``."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    for line in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
