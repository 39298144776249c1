"""Sample the density of a block folder on a regular grid by rasterising its tetrahedra.

A block folder (``delvol tessellate FILE --blocks N -o DIR/``, :mod:`delvol.blocks.store`)
holds every tetrahedron of the single run once, so nothing needs tessellating again:
each block's tetrahedra are visited in chunks, the grid-cell centres that can be inside
each tetrahedron are enumerated column by column of its bounding box, and those whose
barycentric coordinates are all non-negative (up to :data:`INSIDE_TOLERANCE`) take the barycentric blend of the four
vertex densities. That is the field :func:`~delvol.geometry.interpolate.density_grid`
samples in the assembled tessellation; a centre on a face shared by two tetrahedra gets
the same value from either, since the field is continuous. Cells no tetrahedron holds
stay NaN (outside the hull).

With a periodic box the kept tetrahedra tile one period, some reaching beyond the box
through image vertices: each is also drawn shifted by the whole box sides that bring it
over the grid, so the grid wraps as the single run's queries do, for the box itself or
any other extent.

Columns and cells are enumerated in windows of at most :data:`PAIRS_PER_WINDOW`, a large
tetrahedron in a void spread over several windows, so memory stays
bounded whatever the grid and the tetrahedra. :func:`folder_grid` runs the blocks in this
process one by one or on Dask workers, writing into the output (a memory map) as the
samples arrive.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from delvol.blocks.assemble import data_bounds
from delvol.blocks.grid import PIECE_SAMPLES, nan_grid, write_block_samples
from delvol.blocks.store import block_arrays, box_lower_of, point_array, read_index, read_points
from delvol.geometry.interpolate import grid_shape
from delvol.memory import release_pages

if TYPE_CHECKING:
    from delvol.blocks.cluster import DaskRunner

TETS_PER_CHUNK = 1 << 15
"""Tetrahedra whose corners, inverse edge matrices and vertex densities are gathered at once."""
PAIRS_PER_WINDOW = 1 << 15
"""(tetrahedron, column) or (tetrahedron, cell) pairs handled at once. Measured at 2e5 points
and 128³: 15-40 MB added to the peak, against 95 MB for 2^18, in the same time."""
INSIDE_TOLERANCE = 1e-10
"""Least barycentric coordinate of a centre counted inside: a centre on a shared face
must not slip between both tetrahedra by rounding. Extrapolating this far changes a value
by 1e-10 of its tetrahedron's density range."""
_BOX_SLACK = 1e-9  # grid cells: centres this close to a tetrahedron's bounding box are tested


@dataclass(frozen=True)
class GridSpec:
    """A regular grid: ``shape`` cells between the corners ``lower`` and ``upper``."""

    lower: np.ndarray
    upper: np.ndarray
    shape: tuple[int, int, int]

    @property
    def step(self) -> np.ndarray:
        return (self.upper - self.lower) / np.asarray(self.shape)


@dataclass(frozen=True)
class BlockFolder:
    """A block folder opened for sampling: its index checked, its block files present.

    Attributes
    ----------
    path : Path
    index : dict
        The parsed ``index.json``.
    """

    path: Path
    index: dict[str, Any]

    @classmethod
    def open(cls, folder: str | os.PathLike) -> BlockFolder:
        """Check a folder before any output is opened.

        Raises
        ------
        DelvolError
            Naming the index, ``points.npz`` or a block file that is missing or unreadable.
        """
        path = Path(folder)
        index = read_index(path)  # checked: its keys, types and block files
        read_points(path, index["n_points"])  # every per-point array readable, of its type, one row per input point
        return cls(path, index)

    @property
    def n_points(self) -> int:
        return int(self.index["n_points"])

    @property
    def box_size(self) -> float | None:
        return self.index["box_size"]

    def points(self) -> np.ndarray:
        """The input points (wrapped when periodic), memory-mapped."""
        return point_array(self.path, "points", (self.n_points, 3))

    def density(self) -> np.ndarray:
        """Every input point's DTFE density, memory-mapped."""
        return point_array(self.path, "density", (self.n_points,))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """As :attr:`Tessellation.bounds`: the periodic box, or the inputs' bounding box."""
        return data_bounds(self.points(), self.box_size, box_lower_of(self.index))


def folder_grid(
    folder: BlockFolder,
    shape: tuple[int, int, int],
    lower: np.ndarray,
    upper: np.ndarray,
    out: np.ndarray | None = None,
    runner: DaskRunner | None = None,
) -> np.ndarray:
    """:func:`~delvol.geometry.interpolate.density_grid` of a block folder's tessellation, block by block.

    Parameters
    ----------
    folder : BlockFolder
    shape : (int, int, int)
    lower, upper : ndarray, shape (3,)
        The grid's corners.
    out : ndarray, optional
        As for :func:`~delvol.blocks.grid.blocked_grid`: a C-contiguous float array of
        ``shape``, such as a memory map of a ``.npy``, whose pages are dropped as samples
        arrive.
    runner : DaskRunner, optional
        Rasterise the blocks on its workers (which must see the folder) and fetch their
        samples in pieces; by default they run here one after another, so this process
        holds one block's tetrahedra and a window of samples at a time.

    Returns
    -------
    ndarray
        ``out``, or a new float64 array; NaN outside the hull.
    """
    grid = GridSpec(np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64), grid_shape(shape))
    field = nan_grid(grid.shape, out)
    entries = folder.index["blocks"]
    task = (str(folder.path.absolute()), folder.n_points, folder.box_size, grid)
    if runner is not None:
        parts = {
            e["block"]: runner.submit(block_samples, *task, e, name=f"folder-grid-{e['block']:05d}") for e in entries
        }
        write_block_samples(runner, parts, field)
        return field
    flat = field.reshape(-1)
    written = 0
    for e in entries:
        for index, values in rasterise_block(*task, e):
            flat[index] = values
            written += len(index)
            if written >= PIECE_SAMPLES:  # a block in a void touches much of the grid
                release_pages(field)
                written = 0
    release_pages(field)
    return field


def block_samples(
    folder: str, n_points: int, box_size: float | None, grid: GridSpec, entry: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """One block's samples, gathered (a Dask task): (flat cell indices, values)."""
    pieces = list(rasterise_block(folder, n_points, box_size, grid, entry))
    if not pieces:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])


def rasterise_block(
    folder: str, n_points: int, box_size: float | None, grid: GridSpec, entry: dict[str, Any]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The grid centres inside the tetrahedra of a block (its index entry), in pieces: (flat cell indices, values)."""
    names = ("vertex_keys", "vertex_position", "tetrahedra")
    keys, position, tetrahedra = block_arrays(folder, entry, names, n_points, box_size)
    density = point_array(folder, "density", (n_points,))
    vertex_density = np.asarray(density[keys % n_points])
    for start in range(0, len(tetrahedra), TETS_PER_CHUNK):
        tets = tetrahedra[start : start + TETS_PER_CHUNK]
        yield from rasterise(position[tets], vertex_density[tets], grid, box_size)


def rasterise(
    corners: np.ndarray, values: np.ndarray, grid: GridSpec, box_size: float | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The linear interpolation of per-corner values at the grid centres inside tetrahedra.

    Each tetrahedron's bounding box is cut into columns along the last axis; in each
    column the four barycentric coordinates are linear in the cell index, which bounds
    the cells that can be inside. Only those are tested, each by its barycentric
    coordinates computed from the nearest corner, as the single run's point location does.

    Parameters
    ----------
    corners : ndarray, shape (T, 4, 3)
    values : ndarray, shape (T, 4)
    grid : GridSpec
    box_size : float, optional
        A periodic box side: each tetrahedron is also sampled shifted by every multiple of
        it that brings it over the grid.

    Yields
    ------
    index : ndarray, int64
        Flat (C-order) indices of the cells whose centres lie inside a tetrahedron; a
        centre on a shared face may come twice, with equal values up to rounding.
    values : ndarray, float64
    """
    v0 = corners[:, 0]
    edges = corners[:, 1:] - v0[:, None]
    # Rows of the inverse edge matrix (cofactors over the determinant): (b1, b2, b3) = inverse @ (x - v0).
    rows = np.stack(
        [np.cross(edges[:, 1], edges[:, 2]), np.cross(edges[:, 2], edges[:, 0]), np.cross(edges[:, 0], edges[:, 1])],
        axis=1,
    )
    det = np.einsum("ij,ij->i", edges[:, 0], rows[:, 0])
    solid = det != 0  # a flat tetrahedron holds no volume; its neighbours hold its face
    inverse = rows[solid] / det[solid, None, None]
    v0, values = v0[solid], values[solid]
    lo, hi = corners[solid].min(axis=1), corners[solid].max(axis=1)
    for offset, tets in _placements(lo, hi, grid, box_size):
        # Barycentric coordinates (b0..b3) as affine functions of the cell index: slope @ cell + intercept.
        slope = inverse[tets] * grid.step
        intercept = np.einsum("nij,nj->ni", inverse[tets], grid.lower + 0.5 * grid.step - offset - v0[tets])
        slope = np.concatenate([-slope.sum(axis=1, keepdims=True), slope], axis=1)
        intercept = np.column_stack([1.0 - intercept.sum(axis=1), intercept])
        # Each tetrahedron's bounding box in cell-centre index space, clipped to the grid.
        first = np.ceil((lo[tets] + offset - grid.lower) / grid.step - 0.5 - _BOX_SLACK).astype(np.int64)
        last = np.floor((hi[tets] + offset - grid.lower) / grid.step - 0.5 + _BOX_SLACK).astype(np.int64)
        first, last = np.maximum(first, 0), np.minimum(last, np.asarray(grid.shape) - 1)
        size = np.maximum(last - first + 1, 0)
        columns = size[:, 0] * size[:, 1] * (size[:, 2] > 0)
        end = np.cumsum(columns)
        for begin in range(0, int(end[-1]) if len(end) else 0, PAIRS_PER_WINDOW):
            column = np.arange(begin, min(begin + PAIRS_PER_WINDOW, int(end[-1])))
            which = np.searchsorted(end, column, side="right")
            local = column - (end[which] - columns[which])
            ij = first[which, :2] + np.column_stack([local // size[which, 1], local % size[which, 1]])
            along, at = slope[which, :, 2], np.einsum("nmj,nj->nm", slope[which, :, :2], ij) + intercept[which]
            # Cells k with at + along * k >= -tolerance for all four, widened: the test below decides.
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = (-INSIDE_TOLERANCE - at) / along
            never = (along == 0) & (at < -INSIDE_TOLERANCE)
            k_lo = np.max(np.where(along > 0, bound, np.where(never, np.inf, -np.inf)), axis=1)
            k_hi = np.min(np.where(along < 0, bound, np.inf), axis=1)
            k0 = np.maximum(first[which, 2], np.ceil(k_lo - _BOX_SLACK * grid.shape[2]))
            k1 = np.minimum(last[which, 2], np.floor(k_hi + _BOX_SLACK * grid.shape[2]))
            height = np.maximum(k1 - k0 + 1, 0).astype(np.int64)
            full = height > 0
            k0 = k0[full].astype(np.int64)
            yield from _cells(tets[which[full]], ij[full], k0, height[full], (inverse, v0, values), grid, offset)


def _cells(
    tets: np.ndarray,
    ij: np.ndarray,
    k0: np.ndarray,
    height: np.ndarray,
    tetrahedra: tuple[np.ndarray, np.ndarray, np.ndarray],
    grid: GridSpec,
    offset: np.ndarray,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The cells of columns (tetrahedron, i, j, first k, height) inside their tetrahedra, and their values.

    In pieces of at most :data:`PAIRS_PER_WINDOW` cells (a column is never cut).
    """
    inverse, v0, values = tetrahedra
    end = np.cumsum(height)
    begin = 0
    while begin < len(height):
        stop = max(begin + 1, int(np.searchsorted(end, end[begin] - height[begin] + PAIRS_PER_WINDOW, side="right")))
        n = height[begin:stop]
        column = np.repeat(np.arange(begin, stop), n)
        k = k0[column] + np.arange(len(column)) - np.repeat(np.cumsum(n) - n, n)
        cell = np.column_stack([ij[column], k])
        t = tets[column]
        b = np.einsum("nij,nj->ni", inverse[t], grid.lower + (cell + 0.5) * grid.step - offset - v0[t])
        b0 = 1.0 - b.sum(axis=1)
        inside = (b0 >= -INSIDE_TOLERANCE) & np.all(b >= -INSIDE_TOLERANCE, axis=1)
        t, b, b0, cell = t[inside], b[inside], b0[inside], cell[inside]
        value = b0 * values[t, 0] + np.einsum("ni,ni->n", b, values[t, 1:])
        yield np.ravel_multi_index(tuple(cell.T), grid.shape), value
        begin = stop


def _placements(
    lo: np.ndarray, hi: np.ndarray, grid: GridSpec, box_size: float | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(offset, tetrahedra) for every shift by whole box sides that brings tetrahedra over the grid.

    Without a box, the tetrahedra stay where they are.
    """
    if box_size is None:
        yield np.zeros(3), np.arange(len(lo))
        return
    # Shifts k (in box sides, per axis) with lo + k L <= upper and hi + k L >= lower.
    least = np.ceil((grid.lower - hi) / box_size).astype(np.int64)
    most = np.floor((grid.upper - lo) / box_size).astype(np.int64)
    if not len(lo):
        return
    axes = [range(int(least[:, a].min()), int(most[:, a].max()) + 1) for a in range(3)]
    for shift in product(*axes):
        k = np.array(shift)
        tets = np.flatnonzero(np.all((least <= k) & (k <= most), axis=1))
        if len(tets):
            yield k * box_size, tets
