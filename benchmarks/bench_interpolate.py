"""Interpolation benchmark: Qhull's barycentric transforms with the BLAS on one thread or on all.

:func:`delvol.geometry.interpolate.density_at` locates points with ``Delaunay.find_simplex``,
whose first call computes a 3x3 transform per tetrahedron through LAPACK. A threaded BLAS
spends far longer starting threads for each tiny solve than solving it, and far longer
still on a busy machine, so delvol limits the BLAS to one thread around the search. This
runs the two side by side on fresh triangulations of the bundled sample and prints the ratio.

Usage::

    python -m benchmarks.bench_interpolate [--repeat 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.spatial import Delaunay
from threadpoolctl import threadpool_limits

from benchmarks.timing import interleaved, median, paired_ratios

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample.npy"


def transforms(points: np.ndarray, threads: int | None) -> None:
    tri = Delaunay(points)
    with threadpool_limits(limits=threads, user_api="blas"):
        _ = tri.transform


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    points = np.load(SAMPLE).astype(np.float64)
    n_tets = Delaunay(points).nsimplex
    times = interleaved(
        {"one thread": lambda: transforms(points, 1), "default threads": lambda: transforms(points, None)},
        args.repeat,
    )
    one, default = times.wall["one thread"], times.wall["default threads"]
    print(f"{len(points):,} points, {n_tets:,} tetrahedra (triangulation included in each time)")
    print(f"  BLAS on one thread    {median(one):7.2f} s")
    print(f"  BLAS default threads  {median(default):7.2f} s")
    print(f"  ratio default / one   {median(paired_ratios(default, one)):7.1f}x")


if __name__ == "__main__":
    main()
