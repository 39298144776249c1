"""Unique triangle faces and hull flags derived from the Delaunay neighbour table."""

from __future__ import annotations

import numpy as np

# The face opposite vertex k of a tetrahedron is made of the other three vertices.
OPPOSITE = np.array([[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]])


def unique_faces(tetrahedra: np.ndarray, neighbors: np.ndarray) -> np.ndarray:
    """Every triangle of the tessellation exactly once, in O(T) and without sorting.

    A face is shared by at most two tetrahedra, which list each other as neighbours. The
    face is emitted by the tetrahedron with the smaller index, or by its only tetrahedron
    when it lies on the hull (neighbour ``-1``).

    Parameters
    ----------
    tetrahedra, neighbors : ndarray, shape (T, 4), int
        As ``scipy.spatial.Delaunay.simplices`` and ``.neighbors``.

    Returns
    -------
    ndarray, shape (F, 3), int32
    """
    own = np.arange(len(tetrahedra))
    parts = []
    for k in range(4):
        nb = neighbors[:, k]
        keep = (nb > own) | (nb == -1)
        parts.append(tetrahedra[keep][:, OPPOSITE[k]])
    return np.ascontiguousarray(np.concatenate(parts).astype(np.int32, copy=False))


def hull_vertices(tetrahedra: np.ndarray, neighbors: np.ndarray, n_points: int) -> np.ndarray:
    """Boolean mask of the points that are vertices of a convex-hull triangle."""
    hull = np.zeros(n_points, dtype=bool)
    for k in range(4):
        outer = neighbors[:, k] == -1
        hull[tetrahedra[outer][:, OPPOSITE[k]].ravel()] = True
    return hull
