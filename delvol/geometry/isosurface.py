"""Isodensity surfaces of the piecewise-linear DTFE field by marching tetrahedra.

On a field that is linear in every tetrahedron, marching tetrahedra is exact: the level
set crosses a tetrahedron in one triangle (one vertex on the other side) or one planar
quadrilateral (two on each side), whose corners lie on the crossed edges. Corners are
shared by edge, so the surface is watertight wherever it stays inside the hull.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from delvol.geometry.tessellation import Tessellation
from delvol.geometry.tetrahedra import linear_field

_EDGES = np.array([[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])


def _edge(a: int, b: int) -> int:
    return int(np.flatnonzero((_EDGES == sorted((a, b))).all(axis=1))[0])


def _case_table() -> tuple[np.ndarray, np.ndarray]:
    """For each of the 16 above/below patterns, up to two triangles as local edge numbers."""
    tris = np.full((16, 2, 3), -1, dtype=np.int64)
    count = np.zeros(16, dtype=np.int64)
    for mask in range(1, 15):
        above = [k for k in range(4) if mask >> k & 1]
        below = [k for k in range(4) if not mask >> k & 1]
        if len(above) in (1, 3):
            lone, others = (above[0], below) if len(above) == 1 else (below[0], above)
            tris[mask, 0] = [_edge(lone, o) for o in others]
            count[mask] = 1
        else:
            (a, b), (c, d) = above, below
            quad = [_edge(a, c), _edge(a, d), _edge(b, d), _edge(b, c)]  # a cycle around the quad
            tris[mask] = [quad[:3], [quad[0], quad[2], quad[3]]]
            count[mask] = 2
    return tris, count


_TRIANGLES, _COUNT = _case_table()


class Surface(NamedTuple):
    """A triangle mesh with unit vertex normals that point down the density gradient.

    Attributes
    ----------
    vertices : ndarray, shape (V, 3), float64
    triangles : ndarray, shape (F, 3), int64
        Wound counter-clockwise seen from the side the normals point to (outward from
        the denser region).
    normals : ndarray, shape (V, 3), float64
    """

    vertices: np.ndarray
    triangles: np.ndarray
    normals: np.ndarray


def isosurface(points: np.ndarray, tetrahedra: np.ndarray, values: np.ndarray, level: float) -> Surface:
    """The surface where the linear field through ``values`` equals ``level``.

    Parameters
    ----------
    points : ndarray, shape (N, 3)
    tetrahedra : ndarray, shape (T, 4), int
    values : ndarray, shape (N,)
        The field at the points; NaN counts as below every level.
    level : float

    Returns
    -------
    Surface
        Vertex normals are the field's gradient interpolated along each crossed edge from
        volume-weighted vertex gradients, so the shading is smooth across tetrahedra.
    """
    f = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=-np.inf)
    tets = np.asarray(tetrahedra, dtype=np.int64)
    above = f[tets] > level
    mask = above @ (1 << np.arange(4))
    crossed = np.flatnonzero(_COUNT[mask] > 0)
    if len(crossed) == 0:
        return Surface(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), np.zeros((0, 3)))
    tets, mask = tets[crossed], mask[crossed]
    # Global edges (sorted vertex pairs) of every local edge that a triangle uses.
    local = np.concatenate([_TRIANGLES[mask, 0], _TRIANGLES[mask, 1]])  # (2C, 3), -1 = none
    owner = np.concatenate([np.arange(len(tets))] * 2)
    keep = local[:, 0] >= 0
    local, owner = local[keep], owner[keep]
    ends = tets[owner[:, np.newaxis, np.newaxis], _EDGES[local]]  # (F, 3, 2)
    ends = np.sort(ends, axis=2)
    key = ends[..., 0] * len(points) + ends[..., 1]
    unique_keys, triangles = np.unique(key.ravel(), return_inverse=True)
    triangles = triangles.reshape(-1, 3)
    i, j = np.divmod(unique_keys, len(points))
    # A plain interpolation parameter in float64: both ends are on opposite sides.
    fi, fj = np.where(np.isfinite(f[i]), f[i], level - 1.0), np.where(np.isfinite(f[j]), f[j], level - 1.0)
    t = ((level - fi) / (fj - fi))[:, np.newaxis]
    vertices = points[i] + t * (points[j] - points[i])
    normals = _vertex_gradients(points, np.asarray(tetrahedra, dtype=np.int64), f)
    normals = -((1 - t) * normals[i] + t * normals[j])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-300)
    # Wind each triangle to face down its tetrahedron's gradient.
    field = linear_field(points, tets, np.where(np.isfinite(f), f, 0.0))
    grad = field.gradient[owner]
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    flip = np.einsum("fj,fj->f", np.cross(b - a, c - a), grad) > 0
    triangles[flip] = triangles[flip][:, ::-1]
    return Surface(vertices, triangles, normals)


def _vertex_gradients(points: np.ndarray, tetrahedra: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Volume-weighted mean of the gradients of the tetrahedra around every point."""
    field = linear_field(points, tetrahedra, np.where(np.isfinite(values), values, 0.0))
    corners = points[tetrahedra]
    volume = np.abs(np.linalg.det(corners[:, 1:] - corners[:, :1])) / 6
    weighted = field.gradient * volume[:, np.newaxis]
    out = np.zeros((len(points), 3))
    for k in range(4):
        for axis in range(3):
            out[:, axis] += np.bincount(tetrahedra[:, k], weights=weighted[:, axis], minlength=len(points))
    return out


def boundary_edges(triangles: np.ndarray) -> np.ndarray:
    """Edges used by exactly one triangle: empty for a closed (watertight) surface."""
    edges = np.sort(triangles[:, [[0, 1], [1, 2], [2, 0]]].reshape(-1, 2), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    return unique[counts == 1]


def density_isosurfaces(tess: Tessellation, levels: float | Sequence[float]) -> list[Surface]:
    """The isodensity surfaces of a tessellation's DTFE density, one per level.

    Raises
    ------
    ValueError
        A level that is not a positive, finite density.
    """
    values = [float(level) for level in np.atleast_1d(levels)]
    if not values or not all(np.isfinite(level) and level > 0 for level in values):
        raise ValueError(f"levels must be positive densities, got {values}")
    return [isosurface(tess.points, tess.tetrahedra, tess.density, level) for level in values]


def merge_surfaces(surfaces: list[Surface]) -> Surface:
    """One mesh holding every surface of ``surfaces`` (their vertex indices shifted)."""
    offsets = np.cumsum([0] + [len(s.vertices) for s in surfaces])
    return Surface(
        np.concatenate([s.vertices for s in surfaces]),
        np.concatenate([s.triangles + o for s, o in zip(surfaces, offsets, strict=False)]),
        np.concatenate([s.normals for s in surfaces]),
    )
