"""A blocked build's inputs on disk: each block's core points, and what every task shares.

The points are written once, one set of ``.npy`` files per block, into a job folder that
every worker can read (the local disk for a LocalCluster; a shared filesystem for a
cluster by address). Tasks memory-map what they need, so a worker that dies loses nothing
that cannot be reread, and no task carries points through the scheduler.
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
        return tuple(np.load(_path(self.folder, block, name), mmap_mode="r") for name in _ARRAYS)


def _path(folder: str | os.PathLike, block: int, name: str) -> Path:
    return Path(folder) / f"core-{block:05d}-{name}.npy"


def write_cores(
    folder: str | os.PathLike, positions: np.ndarray, masses: np.ndarray, owner: np.ndarray, n_blocks: int
) -> np.ndarray:
    """Write each block's core points (in input order within the block); return the counts."""
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=n_blocks)
    starts = np.concatenate([[0], np.cumsum(counts)])
    for block in range(len(counts)):
        rows = order[starts[block] : starts[block + 1]]
        np.save(_path(folder, block, "index"), rows.astype(np.int64))
        np.save(_path(folder, block, "position"), positions[rows])
        np.save(_path(folder, block, "mass"), masses[rows])
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
