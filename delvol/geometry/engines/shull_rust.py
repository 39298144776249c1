"""The ``shull`` engine: sweep-hull Delaunay in Rust with exact predicates (GPLv3, optional)."""

from __future__ import annotations

import functools

import numpy as np

from delvol.geometry.engines.base import NO_DROPPED, Triangulation
from delvol.geometry.engines.failure import explain_failure

NAME = "shull"
LICENCE = "GPL-3.0 (shull)"


@functools.cache
def available() -> bool:
    """Whether the optional ``shull`` package imports."""
    try:
        import shull  # noqa: F401
    except ImportError:
        return False
    return True


def triangulate(framed: np.ndarray) -> Triangulation:
    """Triangulate with shull, whose result has SciPy's layout and can locate points.

    shull keeps the first of exact duplicates and lists the others in ``coplanar`` like
    Qhull, and raises ValueError on flat or too small input.
    """
    import shull

    try:
        tri = shull.Delaunay(framed)
    except ValueError as exc:
        raise explain_failure(framed, "shull", exc) from exc
    dropped = np.asarray(tri.coplanar)[:, [0, 2]].astype(np.int64) if len(tri.coplanar) else NO_DROPPED
    return Triangulation(
        tetrahedra=tri.simplices.astype(np.int32, copy=False),
        neighbors=tri.neighbors.astype(np.int32, copy=False),
        dropped=dropped,
        locator=tri,
    )
