"""How much delvol's tessellation costs on top of bare Qhull, and what the cache saves.

For each size and data set, measured side by side in one run and reported as ratios:

time
    ``scipy.spatial.Delaunay(points)`` against :func:`delvol.geometry.tessellate`,
    interleaved; goal: delvol / scipy <= 1.10 (post-processing small next to Qhull).
peak
    Peak resident memory each adds over the loaded points, in a fresh process apiece
    (``peak_rss.py``), in bytes per point; goal: delvol / scipy <= 1.3.
cache
    :func:`~delvol.geometry.store.cached_tessellate` cold (clear, build, write) against warm
    (load the .npz, just written so in the page cache), in a temporary
    ``DELVOL_CACHE_DIR``; goal: cold / warm >= 20.

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
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import Delaunay

import delvol
from benchmarks.pointsets import GENERATORS
from benchmarks.timing import interleaved, median, paired_ratios, print_table, verdict
from delvol.geometry import tessellate
from delvol.geometry.store import cached_tessellate, clear_cache
from delvol.progress import StageLog

TIME_GOAL = 1.10
PEAK_GOAL = 1.3
CACHE_GOAL = 20.0
_BIG = 1_000_000  # from here on, only clustered data by default
_ROOT = Path(__file__).resolve().parent.parent


def time_builds(points: np.ndarray, repeat: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Interleaved wall times of bare Delaunay and delvol, and delvol's median stage times."""
    stage_logs: list[StageLog] = []

    def delvol() -> None:
        stage_logs.append(StageLog(verbose=False))
        tessellate(points, log=stage_logs[-1])

    times = interleaved({"scipy": lambda: Delaunay(points), "delvol": delvol}, repeat)
    stages = {name: median([log.timings[name] for log in stage_logs]) for name in stage_logs[0].timings}
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


def time_cache(points: np.ndarray, repeat: int, folder: Path) -> dict[str, list[float]]:
    """Interleaved wall times of a cache miss (clear, build, write) and a cache hit."""
    os.environ["DELVOL_CACHE_DIR"] = str(folder / "cache")

    def cold() -> None:
        clear_cache()
        cached_tessellate(points)

    # "cold" runs first in round one, so "warm" always finds an entry.
    times = interleaved({"cold": cold, "warm": lambda: cached_tessellate(points)}, repeat)
    clear_cache()
    return times


def per_point(report: dict[str, Any], key: str, n: int) -> float:
    """Bytes per point that the build added to ``key`` (a ``*_kb`` figure) over the base."""
    return (report[key] - report["base_kb"]) * 1024 / n


def measure(kind: str, n: int, repeat: int, folder: Path) -> tuple[list[list[str]], dict[str, float]]:
    """Run the three comparisons for one data set; return table rows and stage times."""
    points = GENERATORS[kind](n)
    times, stages = time_builds(points, repeat)
    memory = peak_memory(points, folder)
    cache = time_cache(points, repeat, folder)

    time_ratio = median(paired_ratios(times["delvol"], times["scipy"]))
    scipy_peak, delvol_peak = (per_point(memory[m], "peak_kb", n) for m in ("scipy", "delvol"))
    cache_ratio = median(paired_ratios(cache["cold"], cache["warm"]))
    label = [f"{n:.0e}", kind]
    rows = [
        [
            *label,
            "time delvol/scipy",
            f"{median(times['scipy']):.3f} s -> {median(times['delvol']):.3f} s",
            f"{time_ratio:.3f}",
            f"<= {TIME_GOAL}",
            verdict(time_ratio <= TIME_GOAL),
        ],
        [
            *label,
            "peak RSS delvol/scipy",
            f"{scipy_peak:.0f} -> {delvol_peak:.0f} B/pt",
            f"{delvol_peak / scipy_peak:.3f}",
            f"<= {PEAK_GOAL}",
            verdict(delvol_peak / scipy_peak <= PEAK_GOAL),
        ],
        [
            *label,
            "cache cold/warm",
            f"{median(cache['cold']):.3f} s -> {median(cache['warm']):.4f} s",
            f"{cache_ratio:.1f}",
            f">= {CACHE_GOAL:.0f}",
            verdict(cache_ratio >= CACHE_GOAL),
        ],
    ]
    print_memory(memory, n)
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
    """delvol's per-stage medians and their share of the stages' total."""
    total = sum(stages.values())
    for name, seconds in stages.items():
        print(f"    {name:20s} {seconds:8.3f} s  {100 * seconds / total:5.1f} %")


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
    print_table(["N", "data", "comparison", "medians", "ratio", "goal", "result"], rows)
    return int(any(row[-1] == "FAIL" for row in rows))


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up when piped to a log
    sys.exit(run(parse_args()))
