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
    # Read as unsigned, "no neighbour" (-1) exceeds every index, so one comparison keeps
    # both the faces this tetrahedron owns and its hull faces, with no int64 temporaries.
    other = np.asarray(neighbors, dtype=np.int32).view(np.uint32)
    own = np.arange(len(tetrahedra), dtype=np.uint32)
    tets = np.asarray(tetrahedra, dtype=np.int32)
    return np.concatenate([np.compress(other[:, k] > own, tets[:, OPPOSITE[k]], axis=0) for k in range(4)])


def hull_vertices(tetrahedra: np.ndarray, neighbors: np.ndarray, n_points: int) -> np.ndarray:
    """Boolean mask of the points that are vertices of a convex-hull triangle."""
    hull = np.zeros(n_points, dtype=bool)
    for k in range(4):
        outer = neighbors[:, k] == -1
        hull[tetrahedra[outer][:, OPPOSITE[k]].ravel()] = True
    return hull
