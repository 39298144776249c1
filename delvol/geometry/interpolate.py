"""Evaluate piecewise-linear DTFE fields (the density, or any field of the points) anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from threadpoolctl import threadpool_limits

from delvol.geometry.engines import engine_frame
from delvol.geometry.tessellation import Tessellation

_BLOCK = 1 << 20  # query points per block: bounds the (block, 4, 3) transform gather


def locate(tess: Tessellation, query: np.ndarray) -> Iterator[tuple[slice, np.ndarray, np.ndarray, np.ndarray]]:
    """Find the tetrahedron around each query position, block by block.

    With periodic boundaries the positions are first wrapped into the box.

    Parameters
    ----------
    tess : Tessellation
    query : ndarray, shape (M, 3)

    Yields
    ------
    rows : slice
        The block of query rows.
    inside : ndarray, shape (block,), bool
        Rows inside the convex hull (always true in a periodic box).
    simplex : ndarray, shape (n_inside,), int
        The locator's simplex holding each inside row (see :attr:`Tessellation.locator`).
    weights : ndarray, shape (n_inside, 4)
        Barycentric coordinates of each inside row in its simplex.
    """
    q = np.asarray(query, dtype=np.float64).reshape(-1, 3)
    if tess.box_size is not None and tess.box_lower is not None:
        q = tess.box_lower + np.mod(q - tess.box_lower, tess.box_size)
    tri, _, centre = tess.locator
    for start in range(0, len(q), _BLOCK):
        x = engine_frame(q[start : start + _BLOCK], centre)
        # The first search computes Qhull's barycentric transform of every tetrahedron, one
        # 3x3 LAPACK call each: with a threaded BLAS on a busy machine that took 27 s for
        # 216k tetrahedra, against 1.3 s on one thread.
        with threadpool_limits(limits=1, user_api="blas"):
            simplex = tri.find_simplex(x)
        inside = simplex >= 0
        s = simplex[inside]
        affine = tri.transform[s]
        b = np.einsum("nij,nj->ni", affine[:, :3, :], x[inside] - affine[:, 3, :])
        yield slice(start, start + len(x)), inside, s, np.column_stack([b, 1.0 - b.sum(axis=1)])


def interpolate(
    tess: Tessellation, values: np.ndarray, query: np.ndarray, density: np.ndarray | None = None
) -> np.ndarray:
    """The piecewise-linear field with ``values`` at the input points, at any positions.

    Parameters
    ----------
    tess : Tessellation
    values : ndarray, shape (n_primary, ...)
        One value (scalar, vector or tensor) per input point.
    query : array_like, shape (..., 3)
    density : ndarray, shape (n_primary,), optional
        Blend ``density * values`` and divide by the blended density: the mass-weighted
        interpolation (see :func:`delvol.geometry.fields.field_at`).

    Returns
    -------
    ndarray, shape ``query.shape[:-1] + values.shape[1:]``
        NaN outside the convex hull.
    """
    q = np.asarray(query, dtype=np.float64)
    tail = values.shape[1:]
    out = np.full((int(np.prod(q.shape[:-1])), *tail), np.nan)
    origin = tess.locator.origin
    simplices = tess.locator.tri.simplices
    for rows, inside, s, weights in locate(tess, q):
        vertices = origin[simplices[s]]
        if density is not None:
            weights = weights * density[vertices]
            weights /= weights.sum(axis=1, keepdims=True)
        out[rows][inside] = np.einsum("ni,ni...->n...", weights, values[vertices])
    return out.reshape(*q.shape[:-1], *tail)


def density_at(tess: Tessellation, query: np.ndarray) -> np.ndarray:
    """DTFE density at arbitrary positions.

    Inside a tetrahedron the density is the barycentric blend of its four vertex
    densities. Positions outside the convex hull get NaN. With periodic boundaries the
    positions are first wrapped into the box.

    Parameters
    ----------
    tess : Tessellation
    query : array_like, shape (..., 3)

    Returns
    -------
    ndarray, shape (...)
    """
    return interpolate(tess, tess.density[: tess.n_primary], query)


def grid_shape(shape: int | tuple[int, int, int]) -> tuple[int, int, int]:
    """Cells along each axis: ``shape`` itself, or ``shape`` three times for one number."""
    return (shape, shape, shape) if isinstance(shape, int) else (int(shape[0]), int(shape[1]), int(shape[2]))


def grid_centres(lower: np.ndarray, upper: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Cell-centre coordinates of a regular grid spanning ``[lower, upper]``, shape (*shape, 3)."""
    axes = [lower[k] + (np.arange(shape[k]) + 0.5) * (upper[k] - lower[k]) / shape[k] for k in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)


def density_grid(
    tess: Tessellation,
    shape: int | tuple[int, int, int] = 128,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """Sample the DTFE field at the cell centres of a regular grid.

    Parameters
    ----------
    tess : Tessellation
    shape : int or (int, int, int)
        Cells along each axis.
    lower, upper : ndarray, shape (3,), optional
        Grid corners; default to the periodic box, or to the bounds of the input points.

    Returns
    -------
    ndarray, shape ``shape``, float64
        NaN in cells whose centre lies outside the convex hull.
    """
    shape3 = grid_shape(shape)
    lo, hi = tess.bounds
    lo = lo if lower is None else np.asarray(lower, dtype=np.float64)
    hi = hi if upper is None else np.asarray(upper, dtype=np.float64)
    return density_at(tess, grid_centres(lo, hi, shape3))
