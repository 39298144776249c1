"""Peak memory of one build, in a fresh process: ``python -m benchmarks.peak_rss MODE POINTS.npy``.

MODE is ``scipy`` (bare :class:`scipy.spatial.Delaunay`) or ``delvol``
(:func:`delvol.geometry.tessellate`, with the engine given by ``--engine``, default
``scipy``). After the imports and the points are loaded, the kernel's high-water mark is reset
(``/proc/self/clear_refs``), so the peak counts only what the build itself added. Prints one JSON object:

``base_kb``
    Resident set size before the build.
``peak_kb``
    High-water mark of the resident set during the build.
``held_kb``
    Resident set size after the build, with its result still referenced.
``result_bytes``
    Bytes in the result's NumPy arrays (for delvol, including the point locator it keeps).
``locator_bytes``
    The part of ``result_bytes`` that only the point locator uses (0 for scipy).
``peak_reset``
    Whether the high-water mark could be reset; if not, ``peak_kb`` includes the imports.
"""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import Delaunay

from delvol.geometry import tessellate
from delvol.geometry.tessellation import QHULL_OPTIONS
from delvol.memory import proc_status_kb

_DELAUNAY_ARRAYS = ("points", "simplices", "neighbors", "equations", "coplanar")


def _status_kb(field: str) -> int:
    value = proc_status_kb(field)
    if value is None:
        raise RuntimeError(f"{field} missing from /proc/self/status")
    return value


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _distinct_bytes(arrays: list[np.ndarray]) -> int:
    """Total size of the arrays, counting memory that several of them share only once."""
    seen: list[np.ndarray] = []
    for a in arrays:
        if not any(np.shares_memory(a, b) for b in seen):
            seen.append(a)
    return sum(a.nbytes for a in seen)


def own_arrays(result: Any) -> list[np.ndarray]:
    """The NumPy arrays of a build result, without delvol's point locator."""
    if isinstance(result, Delaunay):
        return [getattr(result, key) for key in _DELAUNAY_ARRAYS]
    return list(result.arrays(derive=False).values())


def result_arrays(result: Any) -> list[np.ndarray]:
    """The NumPy arrays a build result keeps alive, delvol's point locator included."""
    locator = getattr(result, "_locator", None)
    if locator is None:
        return own_arrays(result)
    return [*own_arrays(result), *own_arrays(locator.tri), locator.origin]


def measure(mode: str, points: np.ndarray, engine: str = "scipy") -> dict[str, Any]:
    """Build in this process and report its memory (see the module docstring)."""
    build = {
        "scipy": lambda: Delaunay(points, qhull_options=QHULL_OPTIONS),
        "delvol": lambda: tessellate(points, engine=engine),
    }[mode]
    reset = _reset_peak()
    base = _status_kb("VmRSS")
    result = build()
    peak = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "base_kb": base,
        "peak_kb": peak,
        "held_kb": _status_kb("VmRSS"),
        "result_bytes": _distinct_bytes(result_arrays(result)),
        "locator_bytes": _distinct_bytes(result_arrays(result)) - _distinct_bytes(own_arrays(result)),
        "peak_reset": reset,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["scipy", "delvol"])
    parser.add_argument("points", type=Path, help=".npy file of (N, 3) float64 points")
    parser.add_argument("--engine", default="scipy", help="Delaunay engine of the delvol mode (default scipy)")
    args = parser.parse_args()
    print(json.dumps(measure(args.mode, np.load(args.points), args.engine)))


if __name__ == "__main__":
    main()
