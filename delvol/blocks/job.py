"""A blocked build's inputs on disk: each block's core points, and what every task shares.

The points are written once, one set of ``.npy`` files per block, into a job folder that
every worker can read (the local disk for a LocalCluster; a shared filesystem for a
cluster by address). Tasks memory-map what they need, so a worker that dies loses nothing
that cannot be reread, and no task carries points through the scheduler.

Each block's points are stored sorted by the cell of a coarse grid over the data (stably,
so input order holds within a cell), with the offset of every cell's first point: a task
that needs the points in a box or a sphere reads the cells there and leaves the rest of
the file untouched, in memory and on disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from delvol.blocks.layout import Layout
from delvol.geometry.periodic import padding_width

_ARRAYS = ("index", "position", "mass")


def index_resolution(n_points: int) -> int:
    """Cells per axis of the grid that orders the blocks' points: about 16 points a cell, 4 to 128 cells.

    Coarser cells read more points than a sphere needs; finer ones cost more cells to
    test per sphere (a block's part of a 128-cell grid has 2e6 / blocks offsets).
    """
    return int(np.clip(round(np.cbrt(n_points / 16)), 4, 128))


_MAPPED: dict[Path, np.ndarray] = {}


def _load(path: Path) -> np.ndarray:
    """A job file, memory-mapped once per process: tasks look up the same blocks again and again.

    Only one job's files stay mapped, so a finished job's deleted files free their disk.
    """
    if path not in _MAPPED:
        if any(p.parent != path.parent for p in _MAPPED):
            _MAPPED.clear()
        _MAPPED[path] = np.load(path, mmap_mode="r")
    return _MAPPED[path]


@dataclass(frozen=True)
class Job:
    """Everything a block task needs besides its block number (small; pickled per task).

    Attributes
    ----------
    folder : str
        The job folder holding each block's core points.
    layout : Layout
    counts : ndarray, shape (B,)
        Core points per block.
    counts_grid : ndarray, shape (R, R, R)
        Points per cell of a coarse grid (see :func:`~delvol.blocks.region.count_grid`).
    hull_index, hull_points, hull_masses : ndarray, shape (H,), (H, 3), (H,)
        Vertices of the convex hull of all points (none when periodic). Every block adds
        them to its ghosts, so that its own hull is the global one: without them a block
        cannot tell a seam from the edge of the data.
    shell : float
        First ghost shell, in the block's mean spacings.
    padding : float
        The periodic padding of the equivalent single run, in global mean spacings: faces
        reaching past it are not in that run's face set, so the blocks leave them out too.
    engine : str
        The Delaunay engine every block uses (resolved: never ``auto``).
    """

    folder: str
    layout: Layout
    counts: np.ndarray
    counts_grid: np.ndarray
    hull_index: np.ndarray
    hull_points: np.ndarray
    hull_masses: np.ndarray
    shell: float
    padding: float
    engine: str

    @property
    def n_points(self) -> int:
        return self.layout.n_points

    @property
    def periodic_width(self) -> float | None:
        """The single run's periodic padding width, or None without periodicity."""
        if self.layout.box_size is None:
            return None
        return padding_width(self.n_points, self.layout.box_size, self.padding)

    def core(self, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Global indices, positions and masses of a block's core points (memory-mapped)."""
        index, position, mass = (_load(_path(self.folder, block, name)) for name in _ARRAYS)
        return index, position, mass

    def cell_offsets(self, block: int) -> np.ndarray:
        """Where each cell's rows start in a block's arrays (flat over :meth:`cell_span`), then the count."""
        return _load(_path(self.folder, block, "offsets"))

    @property
    def cell_size(self) -> np.ndarray:
        """Side of a cell of the grid that orders the blocks' points."""
        lower, upper = self.layout.bounds
        return np.maximum((upper - lower) / index_resolution(self.n_points), 1e-300)

    def cell_span(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        """The first cell (i, j, k) of a block's part of the grid, and that part's shape."""
        first, last = (
            _cell_of(self.layout.bounds[0], self.cell_size, c, self.n_points) for c in self.layout.box_of(block)
        )
        return first, last - first + 1

    def cell_rows(self, block: int, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Rows of a block's arrays in the cells ``first`` to ``last`` (inclusive, (i, j, k) each).

        Parameters
        ----------
        first, last : ndarray, shape (C, 3)
            Cell ranges, clipped here to the block's part of the grid.

        Returns
        -------
        ndarray, int64
            The rows, each once per range holding it.
        """
        start, shape = self.cell_span(block)
        lo = np.maximum(first - start, 0)
        hi = np.minimum(last - start, shape - 1)
        keep = np.all(lo <= hi, axis=1)
        lo, hi = lo[keep], hi[keep]
        if not len(lo):
            return np.zeros(0, dtype=np.int64)
        offsets = self.cell_offsets(block)
        # Each (i, j) column of a range is one run of rows: the k cells are contiguous.
        n_i, n_j = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
        per = n_i * n_j
        which = np.repeat(np.arange(len(lo)), per)
        step = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
        i = lo[which, 0] + step // n_j[which]
        j = lo[which, 1] + step % n_j[which]
        base = (i * shape[1] + j) * shape[2]
        begin = np.asarray(offsets[base + lo[which, 2]])
        end = np.asarray(offsets[base + hi[which, 2] + 1])
        return _runs(begin, end)


def _path(folder: str | os.PathLike, block: int, name: str) -> Path:
    return Path(folder) / f"core-{block:05d}-{name}.npy"


def _cell_of(lower: np.ndarray, cell: np.ndarray, x: np.ndarray, n_points: int) -> np.ndarray:
    """The grid cell (i, j, k) of each position (clipped into the grid)."""
    return np.clip(np.floor((x - lower) / cell).astype(np.int64), 0, index_resolution(n_points) - 1)


def _runs(begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``begin[k]:end[k]``."""
    length = end - begin
    keep = length > 0
    begin, length = begin[keep], length[keep]
    if not len(begin):
        return np.zeros(0, dtype=np.int64)
    return np.repeat(begin - np.cumsum(length) + length, length) + np.arange(length.sum())


def write_cores(folder: str | os.PathLike, positions: np.ndarray, masses: np.ndarray, layout: Layout) -> np.ndarray:
    """Write each block's core points, sorted by grid cell, and its cell offsets; return the counts."""
    owner = layout.assign(positions)
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=layout.n_blocks)
    starts = np.concatenate([[0], np.cumsum(counts)])
    cell = np.maximum((layout.bounds[1] - layout.bounds[0]) / index_resolution(layout.n_points), 1e-300)
    for block in range(len(counts)):
        rows = order[starts[block] : starts[block + 1]]
        first, last = (_cell_of(layout.bounds[0], cell, c, layout.n_points) for c in layout.box_of(block))
        shape = last - first + 1
        local = np.clip(_cell_of(layout.bounds[0], cell, positions[rows], layout.n_points) - first, 0, shape - 1)
        flat = (local[:, 0] * shape[1] + local[:, 1]) * shape[2] + local[:, 2]
        by_cell = np.argsort(flat, kind="stable")  # stable: duplicates keep their input order
        rows = rows[by_cell]
        np.save(_path(folder, block, "index"), rows.astype(np.int64))
        np.save(_path(folder, block, "position"), positions[rows])
        np.save(_path(folder, block, "mass"), masses[rows])
        offsets = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=int(np.prod(shape))))])
        np.save(_path(folder, block, "offsets"), offsets.astype(np.int64))
    return counts


def global_hull(job_folder: str | os.PathLike, n_blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices, positions and masses of the vertices of the convex hull of all points.

    The hull of the blocks' hull vertices, so no process holds all points at once.
    """
    index, position, mass = [], [], []
    for block in range(n_blocks):
        pts = np.asarray(np.load(_path(job_folder, block, "position"), mmap_mode="r"))
        rows = _hull_rows(pts)
        index.append(np.load(_path(job_folder, block, "index"), mmap_mode="r")[rows])
        position.append(pts[rows])
        mass.append(np.load(_path(job_folder, block, "mass"), mmap_mode="r")[rows])
    candidates = np.concatenate(position)
    rows = _hull_rows(candidates)
    return np.concatenate(index)[rows], candidates[rows], np.concatenate(mass)[rows]


def _hull_rows(points: np.ndarray) -> np.ndarray:
    if len(points) < 5:
        return np.arange(len(points))
    try:
        return ConvexHull(points).vertices
    except QhullError:  # flat or tiny: every point is a candidate
        return np.arange(len(points))
