"""Unique triangle faces, from the Delaunay neighbour table or from orientation alone."""

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


def oriented_faces(tetrahedra: np.ndarray, hull_candidates: np.ndarray) -> np.ndarray:
    """Every face once, from positively oriented tetrahedra alone.

    Engines that report no neighbour table (gmsh) still orient every tetrahedron
    positively, and the two tetrahedra that share a face induce opposite orientations on
    it. So if each face is read with its vertices in ascending order, exactly one of its
    two tetrahedra lies on the positive side of that oriented triangle, and emitting a face
    from the tetrahedron on its positive side emits every interior face once, with no
    sort and no matching: the side is a parity of vertex-index comparisons. A hull face
    has one tetrahedron, so it comes out only when that one lies on its positive side; the
    hull faces are found by matching the few faces whose vertices are all
    ``hull_candidates``, and those missing are added.

    Parameters
    ----------
    tetrahedra : ndarray, shape (T, 4), int
        Positively oriented (in the frame the engine triangulated).
    hull_candidates : ndarray, shape (N,), bool
        A superset of the vertices of hull faces.

    Returns
    -------
    ndarray, shape (F, 3), int32

    Raises
    ------
    ValueError
        If ``hull_candidates`` missed a hull vertex: the hull faces found leave a hole.
    """
    # Contiguous columns: the comparisons and gathers below then stream through memory,
    # about 3x faster than strided columns of the (T, 4) table.
    cols = np.ascontiguousarray(np.asarray(tetrahedra, dtype=np.int32).T)
    faces = []
    for k in range(4):
        rows = np.flatnonzero(_emits(cols, k))  # then np.take: 5x faster than boolean selection here
        face = np.empty((len(rows), 3), dtype=np.int32)
        for column, vertex in enumerate(OPPOSITE[k]):
            face[:, column] = np.take(cols[vertex], rows)
        faces.append(face)
    tet, side = hull_sides(cols.T, hull_candidates)
    missing = np.zeros(len(tet), dtype=bool)
    for k in range(4):
        at = side == k
        missing[at] = ~_emits(cols[:, tet[at]], k)
    tet, side = tet[missing], side[missing]
    faces.append(np.asarray(tetrahedra, dtype=np.int32)[tet[:, None], OPPOSITE[side]])
    return np.concatenate(faces)


def _emits(cols: np.ndarray, k: int) -> np.ndarray:
    """Whether each tetrahedron (columns of its vertices) has its face ``k`` on the positive side.

    Face k, read as (i, j, m), has the tetrahedron on its positive side when k is odd
    (moving vertex k to the end takes 3 - k transpositions); sorting the three indices
    flips that once per inversion among them.
    """
    i, j, m = OPPOSITE[k]
    emit = (cols[i] > cols[j]) ^ (cols[i] > cols[m]) ^ (cols[j] > cols[m])
    return ~emit if k % 2 == 0 else emit


def hull_sides(tetrahedra: np.ndarray, hull_candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hull faces, as (tetrahedron, side opposite vertex ``side``), without a neighbour table.

    Only faces whose three vertices are ``hull_candidates`` are matched: one met once is a
    hull face, since both tetrahedra of an interior face list it.

    Raises
    ------
    ValueError
        If ``hull_candidates`` missed a hull vertex: the hull faces found leave a hole.
    """
    tets = np.asarray(tetrahedra)
    on_hull = np.take(hull_candidates, tets)
    n_on_hull = on_hull.sum(axis=1, dtype=np.uint8)
    tet, side = [], []
    for k in range(4):
        rows = np.flatnonzero((n_on_hull - on_hull[:, k]) == 3)
        tet.append(rows)
        side.append(np.full(len(rows), k))
    tet_all, side_all = np.concatenate(tet), np.concatenate(side)
    picked = np.sort(tets[tet_all[:, None], OPPOSITE[side_all]], axis=1)
    _, inverse, counts = np.unique(picked, axis=0, return_inverse=True, return_counts=True)
    single = counts[inverse.reshape(-1)] == 1
    # They are all the hull faces only if they close up: the hull is a sphere, and a
    # missed vertex would leave a hole in it.
    hull = picked[single]
    edges = np.concatenate([hull[:, [0, 1]], hull[:, [0, 2]], hull[:, [1, 2]]])
    if len(hull) < 4 or not np.all(np.unique(edges, axis=0, return_counts=True)[1] == 2):
        raise ValueError("hull candidates missed a hull vertex")
    return tet_all[single], side_all[single]


def neighbors_from_tetrahedra(tetrahedra: np.ndarray) -> np.ndarray:
    """The neighbour table (as ``scipy.spatial.Delaunay.neighbors``) by matching faces.

    Sorts all 4T faces, so it costs more than most engines' whole run; tessellations
    from engines that report no neighbours compute it only when asked.
    """
    tets = np.asarray(tetrahedra)
    t = len(tets)
    faces = np.sort(tets[:, OPPOSITE], axis=2).reshape(-1, 3).astype(np.uint64)
    n = int(tets.max()) + 1 if t else 0
    bits = max(1, n.bit_length())
    if 3 * bits <= 64:  # one packed key: a single (SIMD) sort instead of a three-key lexsort
        key = (faces[:, 0] << np.uint64(2 * bits)) | (faces[:, 1] << np.uint64(bits)) | faces[:, 2]
        order = np.argsort(key)
        same = key[order[1:]] == key[order[:-1]]
    else:
        order = np.lexsort((faces[:, 2], faces[:, 1], faces[:, 0]))
        ordered = faces[order]
        same = np.all(ordered[1:] == ordered[:-1], axis=1)
    pair = np.flatnonzero(same)
    out = np.full(4 * t, -1, dtype=np.int32)
    first, second = order[pair], order[pair + 1]
    out[first] = second // 4
    out[second] = first // 4
    return out.reshape(t, 4)
