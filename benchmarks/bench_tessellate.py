"""How much delvol's tessellation costs on top of bare Qhull, and what the cache saves.

For each size and data set, measured side by side in one run and reported as ratios:

time
    ``scipy.spatial.Delaunay(points)`` against :func:`delvol.geometry.tessellate`,
    interleaved; goal: delvol / scipy <= 1.10 (post-processing small next to Qhull), in
    CPU time (see ``timing.py``; the wall-clock ratio is shown beside it). Also delvol's
    stage times, and the part of each delvol call outside its Qhull call: the cleaner
    figure, because Qhull's own time on one input can swing by half with a mere shift of
    the coordinates, as it does for the raw 1e6 clustered set against delvol's centred,
    sheared copy (so there delvol / scipy comes out near 0.66).
peak
    Peak resident memory each adds over the loaded points, in a fresh process apiece
    (``peak_rss.py``), in bytes per point; goal: delvol / scipy <= 1.3.
cache
    :func:`~delvol.geometry.cache.cached_tessellate` cold (clear, build, write) against warm
    (load the .npz, just written so in the page cache), in a temporary
    ``DELVOL_CACHE_DIR``; goal: cold / warm >= 20 (CPU time).

Data: ``poisson`` (uniform in the unit cube) and ``clustered`` (Soneira–Peebles, fractal
dimension 2.16), both from fixed seeds; see ``pointsets.py``. By default both below 1e6
points and only ``clustered`` from 1e6 up, where one Qhull run takes a minute.

Run from the repository root: ``python -m benchmarks.bench_tessellate --sizes 1e4 1e5``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import Delaunay

import delvol
from benchmarks.pointsets import GENERATORS
from benchmarks.timing import Times, interleaved, median, paired_ratios, print_table, verdict
from delvol.geometry import tessellate
from delvol.geometry.cache import cached_tessellate, clear_cache
from delvol.progress import StageLog

TIME_GOAL = 1.10
PEAK_GOAL = 1.3
CACHE_GOAL = 20.0
QHULL_STAGE = "Delaunay (scipy)"
OUTSIDE = "outside Qhull"
_BIG = 1_000_000  # from here on, only clustered data by default
_ROOT = Path(__file__).resolve().parent.parent


def time_builds(points: np.ndarray, repeat: int) -> tuple[Times, dict[str, float]]:
    """Interleaved times of bare Delaunay and delvol, and delvol's median stage times.

    The stages also get ``outside Qhull``: the rest of each delvol call, as a fraction of
    its own Qhull call, a ratio that no load between calls can skew.
    """
    logs: list[StageLog] = []

    def delvol() -> None:
        logs.append(StageLog(verbose=False))
        tessellate(points, engine="scipy", log=logs[-1])

    times = interleaved({"scipy": lambda: Delaunay(points), "delvol": delvol}, repeat)
    stages = {name: median([log.timings[name] for log in logs]) for name in logs[0].timings}
    qhull = [log.timings[QHULL_STAGE] for log in logs]
    stages[OUTSIDE] = median([total / q - 1.0 for total, q in zip(times.wall["delvol"], qhull, strict=True)])
    return times, stages


def peak_memory(points: np.ndarray, folder: Path) -> dict[str, dict[str, Any]]:
    """``peak_rss.py``'s report for each mode, each from its own fresh interpreter."""
    path = folder / "points.npy"
    np.save(path, points)
    reports = {}
    for mode in ("scipy", "delvol"):
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.peak_rss", mode, str(path)],
            check=True,
            capture_output=True,
            text=True,
            cwd=_ROOT,
        )
        reports[mode] = json.loads(done.stdout)
    path.unlink()
    return reports


def time_cache(points: np.ndarray, repeat: int, folder: Path) -> Times:
    """Interleaved times of a cache miss (clear, build, write) and a cache hit."""
    os.environ["DELVOL_CACHE_DIR"] = str(folder / "cache")

    def cold() -> None:
        clear_cache()
        cached_tessellate(points, engine="scipy")

    # "cold" runs first in round one, so "warm" always finds an entry.
    times = interleaved({"cold": cold, "warm": lambda: cached_tessellate(points, engine="scipy")}, repeat)
    clear_cache()
    return times


def per_point(report: dict[str, Any], key: str, n: int) -> float:
    """Bytes per point that the build added to ``key`` (a ``*_kb`` figure) over the base."""
    return (report[key] - report["base_kb"]) * 1024 / n


def time_row(times: Times, slow: str, fast: str, goal: str, ok: Callable[[float], bool]) -> list[str]:
    """Table cells comparing two timed tasks: CPU medians and ratio, wall ratio, verdict."""
    cpu = median(paired_ratios(times.cpu[slow], times.cpu[fast]))
    wall = median(paired_ratios(times.wall[slow], times.wall[fast]))
    medians = f"{fast} {median(times.cpu[fast]):.3g} s, {slow} {median(times.cpu[slow]):.3g} s"
    return [medians, f"{cpu:.3f}", f"{wall:.3f}", goal, verdict(ok(cpu))]


def measure(kind: str, n: int, repeat: int, folder: Path) -> tuple[list[list[str]], dict[str, float]]:
    """Run the three comparisons for one data set; return table rows and stage times."""
    points = GENERATORS[kind](n)
    times, stages = time_builds(points, repeat)
    memory = peak_memory(points, folder)
    cache = time_cache(points, repeat, folder)
    print_memory(memory, n)
    scipy_peak, delvol_peak = (per_point(memory[mode], "peak_kb", n) for mode in ("scipy", "delvol"))
    peak = delvol_peak / scipy_peak
    label = [f"{n:.0e}", kind]
    rows = [
        [*label, "time delvol/scipy", *time_row(times, "delvol", "scipy", f"<= {TIME_GOAL}", TIME_GOAL.__ge__)],
        [
            *label,
            "peak RSS delvol/scipy",
            f"scipy {scipy_peak:.0f} B/pt, delvol {delvol_peak:.0f} B/pt",
            f"{peak:.3f}",
            "",
            f"<= {PEAK_GOAL}",
            verdict(peak <= PEAK_GOAL),
        ],
        [*label, "cache cold/warm", *time_row(cache, "cold", "warm", f">= {CACHE_GOAL:.0f}", CACHE_GOAL.__le__)],
    ]
    return rows, stages


def print_memory(memory: dict[str, dict[str, Any]], n: int) -> None:
    """Per-point memory detail: peak, resident after the build, and the result's arrays."""
    for mode, report in memory.items():
        print(
            f"    {mode:6s} peak {per_point(report, 'peak_kb', n):6.0f} B/pt, "
            f"held after {per_point(report, 'held_kb', n):6.0f} B/pt, "
            f"result arrays {report['result_bytes'] / n:5.0f} B/pt "
            f"(point locator {report['locator_bytes'] / n:.0f})"
            + ("" if report["peak_reset"] else "  [peak includes imports: clear_refs refused]")
        )


def print_stages(stages: dict[str, float]) -> None:
    """delvol's per-stage medians (wall), and the rest of the call next to Qhull."""
    timed = {name: seconds for name, seconds in stages.items() if name != OUTSIDE}
    total = sum(timed.values())
    for name, seconds in timed.items():
        print(f"    {name:20s} {seconds:8.3f} s  {100 * seconds / total:5.1f} % of the stages")
    print(f"    everything but Qhull: {100 * stages[OUTSIDE]:.1f} % of the Qhull call")


def datasets(n: int, chosen: list[str] | None) -> list[str]:
    """The data sets to run at size ``n``."""
    if chosen:
        return chosen
    return ["clustered"] if n >= _BIG else ["poisson", "clustered"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6], help="point counts")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds per comparison (default 3)")
    parser.add_argument(
        "--data", nargs="+", choices=sorted(GENERATORS), help="data sets (default: both below 1e6, clustered above)"
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Run every comparison, print the summary table; return 1 if any goal failed."""
    print(f"delvol from {Path(delvol.__file__).parent}")
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="delvol-bench-") as tmp:
        for n in (int(size) for size in args.sizes):
            for kind in datasets(n, args.data):
                print(f"\n{kind} N={n:.0e} (repeat {args.repeat})")
                new_rows, stages = measure(kind, n, args.repeat, Path(tmp))
                print_stages(stages)
                rows += new_rows
    print()
    print_table(["N", "data", "comparison", "medians (CPU)", "ratio", "wall ratio", "goal", "result"], rows)
    return int(any(row[-1] == "FAIL" for row in rows))


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped to a log
    sys.exit(run(parse_args()))
