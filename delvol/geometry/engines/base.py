"""What every Delaunay engine returns, and the frame it triangulates in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Exact lattices are co-spherical everywhere, and a Delaunay engine then splits each cube
# of eight points into tetrahedra by arbitrary tie-breaking, which gives neighbouring
# lattice points different cell volumes (27% scatter on a cubic lattice with Qhull).
# Triangulating a slightly sheared copy breaks every tie the same way in every cell,
# because a linear map keeps a lattice a lattice, so the triangulation is translation
# invariant and a lattice gets exactly uniform density. Volumes are always measured on the
# unsheared points. For points in general position the shear changes nothing, except for
# configurations within 1e-6 (relative) of co-sphericity, where either triangulation is
# equally Delaunay. Every engine triangulates this same frame.
SHEAR = np.eye(3) + 1e-6 * np.array(
    [[0.0, 0.3183098862, 0.1414213562], [0.2718281828, 0.0, 0.1732050808], [0.1154700538, 0.2236067977, 0.0]]
)


def engine_frame(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Map points into the centred, sheared frame that the engines triangulate."""
    return (points - centre) @ SHEAR.T


@dataclass(eq=False)
class Triangulation:
    """An engine's Delaunay tetrahedra, in the engine frame, with what else it knows.

    Attributes
    ----------
    tetrahedra : ndarray, shape (T, 4), int32
        Vertex indices into the points given to the engine.
    neighbors : ndarray, shape (T, 4), int32, or None
        The tetrahedron opposite each vertex, -1 on the hull; None when the engine does not
        report them (then every tetrahedron is positively oriented, which the face pass uses).
    dropped : ndarray, shape (K, 2), int64
        Points the engine left out (exact duplicates, or Qhull's nearly coincident points)
        and, for each, the kept vertex that stands for it.
    locator : object or None
        The engine's own result when it can locate points (``find_simplex``, ``transform``
        and ``simplices`` as in :class:`scipy.spatial.Delaunay`), else None.
    """

    tetrahedra: np.ndarray
    neighbors: np.ndarray | None
    dropped: np.ndarray
    locator: Any = None


NO_DROPPED = np.zeros((0, 2), dtype=np.int64)
"""``Triangulation.dropped`` when the engine kept every point."""
