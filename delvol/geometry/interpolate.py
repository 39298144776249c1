"""Evaluate the piecewise-linear DTFE density field anywhere in space."""

from __future__ import annotations

import numpy as np

from delvol.geometry.engines import engine_frame
from delvol.geometry.tessellation import Tessellation

_BLOCK = 1 << 20  # query points per block: bounds the (block, 4, 3) transform gather


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
    q = np.asarray(query, dtype=np.float64)
    shape = q.shape[:-1]
    q = q.reshape(-1, 3)
    if tess.box_size is not None:
        q = tess.box_lower + np.mod(q - tess.box_lower, tess.box_size)
    tri, vertex_density, centre = tess.locator
    out = np.full(len(q), np.nan)
    for start in range(0, len(q), _BLOCK):
        x = engine_frame(q[start : start + _BLOCK], centre)
        simplex = tri.find_simplex(x)
        inside = simplex >= 0
        s = simplex[inside]
        affine = tri.transform[s]
        b = np.einsum("nij,nj->ni", affine[:, :3, :], x[inside] - affine[:, 3, :])
        weights = np.column_stack([b, 1.0 - b.sum(axis=1)])
        block = out[start : start + len(x)]
        block[inside] = np.einsum("ni,ni->n", weights, vertex_density[tri.simplices[s]])
    return out.reshape(shape)


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
    shape3 = (shape,) * 3 if isinstance(shape, int) else tuple(shape)
    lo, hi = tess.bounds
    lo = lo if lower is None else np.asarray(lower, dtype=np.float64)
    hi = hi if upper is None else np.asarray(upper, dtype=np.float64)
    return density_at(tess, grid_centres(lo, hi, shape3))
