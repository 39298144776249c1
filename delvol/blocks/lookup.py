"""Find a job's points by place: those in a box, and those inside spheres.

Both read only the grid cells they need from each block's cell-sorted files (see
:mod:`delvol.blocks.job`), so a task touches the parts of the data near its block, not
the whole of it. When periodic, the images of the points are found too, each named by
its key ``code * N + input index`` and placed as ``pad_periodic`` places it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from delvol.blocks.job import Job
from delvol.geometry.periodic import SHIFTS, in_padding

IMAGE_SHIFTS = np.vstack([np.zeros(3), SHIFTS])
"""Shift of each image code: 0 for the input points, then :data:`SHIFTS` as in ``pad_periodic``."""
_PAIRS_PER_CHUNK = 1 << 18  # (sphere, cell) pairs tested at once: ~150 bytes each in temporaries
_RADIUS_SLACK = 1e-9  # relative: a cell this close to a sphere counts as met


@dataclass(eq=False)
class PointSet:
    """Points as a block sees them.

    Attributes
    ----------
    keys : ndarray, shape (n,), int64
        ``code * N + input index``: code 0 for the input points, else the periodic image.
    positions : ndarray, shape (n, 3)
        Where they are (images shifted).
    bases : ndarray, shape (n, 3)
        The input points' own positions.
    masses : ndarray, shape (n,)
    """

    keys: np.ndarray
    positions: np.ndarray
    bases: np.ndarray
    masses: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def take(self, rows: np.ndarray) -> PointSet:
        return PointSet(self.keys[rows], self.positions[rows], self.bases[rows], self.masses[rows])

    @staticmethod
    def concat(parts: list[PointSet]) -> PointSet:
        names = ("keys", "positions", "bases", "masses")
        return PointSet(*(np.concatenate([getattr(p, a) for p in parts]) for a in names))

    @staticmethod
    def empty() -> PointSet:
        return PointSet(np.zeros(0, dtype=np.int64), np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0))


@dataclass(eq=False)
class Known:
    """Where a block holds every point: a box, and whole grid cells of block translates.

    Attributes
    ----------
    box : (ndarray, ndarray)
        Closed; every point in it is held.
    cells : dict
        ``(block, image code)``: the sorted flat indices, over that block's part of the
        grid (:meth:`~delvol.blocks.job.Job.cell_span`), of the cells whose points (of that
        block, so translated) are all held.
    """

    box: tuple[np.ndarray, np.ndarray]
    cells: dict[tuple[int, int], np.ndarray]


def extent(job: Job) -> tuple[np.ndarray, np.ndarray]:
    """Where points can be: the data bounds, or the periodic box and the single run's padding."""
    lower, upper = job.layout.bounds
    width = job.periodic_width
    if width is None:
        return lower, upper
    return lower - width, upper + width


def translates(job: Job, lower: np.ndarray, upper: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """(block, image code, offset) of every block translate whose core box meets ``[lower, upper]``."""
    side = job.layout.box_size
    codes = [0] if side is None else range(len(IMAGE_SHIFTS))
    for block in range(job.layout.n_blocks):
        for code in codes:
            offset = IMAGE_SHIFTS[code] * side if side is not None else np.zeros(3)
            blo, bhi = job.layout.lower[block] + offset, job.layout.upper[block] + offset
            if np.all(blo <= upper) and np.all(bhi >= lower):
                yield block, code, offset


def read_rows(job: Job, block: int, code: int, rows: np.ndarray) -> PointSet:
    """Rows of one block's files as the image ``code`` (0: the points themselves)."""
    index, position, mass = job.core(block)
    base = np.asarray(position[rows])
    moved = base + IMAGE_SHIFTS[code] * job.layout.box_size if code else base
    return PointSet(code * job.n_points + np.asarray(index[rows]), moved, base, np.asarray(mass[rows]))


def padded(job: Job, found: PointSet) -> PointSet:
    """Only the images that the single run's padding holds (all points, when not periodic)."""
    side, width = job.layout.box_size, job.periodic_width
    if side is None or width is None or not len(found):
        return found
    shift = IMAGE_SHIFTS[found.keys // job.n_points]
    return found.take(np.flatnonzero(in_padding(found.bases - job.layout.bounds[0], shift, side, width)))


def points_in(
    job: Job, box: tuple[np.ndarray, np.ndarray], keep: Callable[[np.ndarray], np.ndarray], skip: int = -1
) -> PointSet:
    """The points and images in ``box`` (closed) whose positions ``keep`` accepts.

    ``skip`` leaves out one block's unshifted points.
    """
    lower, upper = box
    parts = [PointSet.empty()]
    cell, origin = job.cell_size, job.layout.bounds[0]
    for block, code, offset in translates(job, lower, upper):
        if block == skip and code == 0:
            continue
        first = cells_of(origin, cell, lower - offset)[None]
        last = cells_of(origin, cell, upper - offset)[None]
        found = read_rows(job, block, code, job.cell_rows(block, first, last))
        x = found.positions
        inside = np.all((x >= lower) & (x <= upper), axis=1)
        inside[inside] = keep(x[inside])
        parts.append(found.take(np.flatnonzero(inside)))
    return PointSet.concat(parts)


def cells_of(origin: np.ndarray, cell: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Grid cells of positions, unclipped (the block's part of the grid clips them)."""
    return np.floor((x - origin) / cell).astype(np.int64)


def in_spheres(
    job: Job,
    centres: np.ndarray,
    radii: np.ndarray,
    known: Known | None,
    known_keys: np.ndarray,
    keep: int,
) -> tuple[PointSet, np.ndarray]:
    """The points not ``known`` and not in ``known_keys`` inside spheres; which spheres hold any.

    A sphere that wholly covers an occupied cell certainly holds points, and only the
    nearest such cell is read for it: enough to prove it holds some, and cheap for the
    huge spheres of wrong tetrahedra. Other spheres read every occupied cell they meet.

    Parameters
    ----------
    centres : ndarray, shape (S, 3)
    radii : ndarray, shape (S,)
        Finite.
    known : Known or None
        Where the caller has every point: not searched.
    known_keys : ndarray, sorted
        Keys of other points the caller has: not reported either (a tetrahedron's own
        vertices lie on its sphere).
    keep : int
        At most this many points are reported per sphere: those nearest its centre.

    Returns
    -------
    PointSet
        The points found (each once).
    holds : ndarray, shape (S,), bool
    """
    holds = np.zeros(len(radii), dtype=bool)
    if not len(radii):
        return PointSet.empty(), holds
    reach = radii * (1 + _RADIUS_SLACK)
    lo, hi = extent(job)
    low, high = centres - reach[:, None], centres + reach[:, None]
    candidates = [PointSet.empty()]
    for block, code, offset in translates(job, low.min(axis=0), high.max(axis=0)):
        blo, bhi = job.layout.lower[block] + offset, job.layout.upper[block] + offset
        near = np.flatnonzero(np.all(low <= bhi, axis=1) & np.all(high >= blo, axis=1))
        if not len(near):
            continue
        mine = None if known is None else (known.box[0] - offset, known.box[1] - offset)
        held = np.zeros(0, dtype=np.int64) if known is None else known.cells.get((block, code), np.zeros(0, np.int64))
        where = (lo - offset, hi - offset)
        cells = _cells_to_read(job, block, centres[near] - offset, reach[near], mine, held, where)
        if len(cells):
            found = read_rows(job, block, code, job.cell_rows(block, cells, cells))
            candidates.append(found)
    found = padded(job, PointSet.concat(candidates))
    x = found.positions
    outside = np.ones(len(found), dtype=bool)
    if known is not None:
        outside &= ~np.all((x >= known.box[0]) & (x <= known.box[1]), axis=1)
    at = np.minimum(np.searchsorted(known_keys, found.keys), max(len(known_keys) - 1, 0))
    if len(known_keys):
        outside &= known_keys[at] != found.keys
    found = found.take(np.flatnonzero(outside))
    if not len(found):
        return found, holds
    found = found.take(np.unique(found.keys, return_index=True)[1])
    rows, holds = deepest(cKDTree(found.positions), centres, reach, keep)
    return found.take(rows), holds


def deepest(tree: cKDTree, centres: np.ndarray, radii: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``keep`` points of ``tree`` nearest each sphere's centre that lie inside it, and which spheres hold any.

    A wrong tetrahedron's sphere can hold thousands of points; adding the few deepest
    breaks it and keeps the patches that redo failing points small.

    Returns
    -------
    rows : ndarray, int64
        Rows of the tree's points, each once.
    holds : ndarray, shape (S,), bool
    """
    k = min(keep, tree.n)
    dist, rows = tree.query(centres, k=k)
    dist, rows = dist.reshape(len(centres), k), rows.reshape(len(centres), k)
    inside = dist <= radii[:, None]
    return np.unique(rows[inside]), inside[:, 0]


Box = tuple[np.ndarray, np.ndarray]


def _cells_to_read(
    job: Job,
    block: int,
    centres: np.ndarray,
    radii: np.ndarray,
    known: Box | None,
    held: np.ndarray,
    where: Box,
) -> np.ndarray:
    """Global cells (i, j, k) of one block to read for spheres (all in the block's unshifted frame).

    ``known`` is the box the caller has read, ``held`` the block's cells it has read (sorted
    flat indices); ``where`` the box that can hold points.
    """
    start, shape = job.cell_span(block)
    offsets = np.asarray(job.cell_offsets(block))
    cell, origin = job.cell_size, job.layout.bounds[0]
    first = np.clip(cells_of(origin, cell, centres - radii[:, None]) - start, 0, shape - 1)
    last = np.clip(cells_of(origin, cell, centres + radii[:, None]) - start, 0, shape - 1)
    if known is not None:  # only the cells outside the known box: a thin slab for most spheres
        inner = (
            np.ceil((known[0] - origin) / cell).astype(np.int64) - start,
            cells_of(origin, cell, known[1]) - 1 - start,
        )
        sphere, first, last = _outside(first, last, *inner)
        centres, radii = centres[sphere], radii[sphere]
    extent_ = last - first + 1
    size = np.prod(extent_, axis=1)
    out = []
    begin = 0
    while begin < len(size):  # chunks of spheres with at most _PAIRS_PER_CHUNK pairs (at least one sphere)
        end = begin + max(1, int(np.searchsorted(np.cumsum(size[begin:]), _PAIRS_PER_CHUNK, side="right")))
        grid = (start, shape, offsets, origin, cell)
        part = slice(begin, end)
        out.append(_chunk_cells(grid, centres[part], radii[part], first[part], extent_[part], known, held, where))
        begin = end
    flat = np.unique(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)
    local = np.stack(np.unravel_index(flat, tuple(shape)), axis=1)
    return local + start


def _outside(
    first: np.ndarray, last: np.ndarray, inner_first: np.ndarray, inner_last: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split cell ranges into the (up to six) ranges outside the range ``inner_first..inner_last``.

    Returns the range each piece came from, and the pieces' first and last cells.
    """
    rows, firsts, lasts = [], [], []
    lo, hi = first.copy(), last.copy()  # the middle so far: inside ``inner`` on the axes done
    for k in range(3):
        for below in (True, False):
            f, l_ = lo.copy(), hi.copy()
            if below:
                l_[:, k] = np.minimum(hi[:, k], inner_first[k] - 1)
            else:
                f[:, k] = np.maximum(lo[:, k], inner_last[k] + 1)
            ok = np.all(f <= l_, axis=1)
            rows.append(np.flatnonzero(ok))
            firsts.append(f[ok])
            lasts.append(l_[ok])
        lo[:, k] = np.maximum(lo[:, k], inner_first[k])
        hi[:, k] = np.minimum(hi[:, k], inner_last[k])
    return np.concatenate(rows), np.concatenate(firsts), np.concatenate(lasts)


def _chunk_cells(
    grid: tuple,
    centres: np.ndarray,
    radii: np.ndarray,
    first: np.ndarray,
    extent_: np.ndarray,
    known: Box | None,
    held: np.ndarray,
    where: Box,
) -> np.ndarray:
    """Flat local cells to read for a chunk of spheres (see :func:`in_spheres`).

    ``grid`` is the block's first cell, its part's shape, its offsets, the grid's origin and cell size.
    """
    start, shape, offsets, origin, cell = grid
    size = np.prod(extent_, axis=1)
    which = np.repeat(np.arange(len(size)), size)
    step = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    ey, ez = extent_[which, 1], extent_[which, 2]
    local = first[which] + np.stack([step // (ey * ez), (step // ez) % ey, step % ez], axis=1)
    flat = (local[:, 0] * shape[1] + local[:, 1]) * shape[2] + local[:, 2]
    occupied = offsets[flat + 1] > offsets[flat]
    if len(held):
        occupied &= held[np.minimum(np.searchsorted(held, flat), len(held) - 1)] != flat
    which, local, flat = which[occupied], local[occupied], flat[occupied]
    lo = origin + (local + start) * cell
    hi = lo + cell
    c, r2 = centres[which], radii[which] ** 2
    gap = np.maximum(lo - c, 0.0) + np.maximum(c - hi, 0.0)
    meets = np.einsum("ij,ij->i", gap, gap) <= r2
    # Covering a cell proves the sphere holds points only if all of them are unknown and real.
    unknown = np.all((lo >= where[0]) & (hi <= where[1]), axis=1)
    if known is not None:
        meets &= ~np.all((lo >= known[0]) & (hi <= known[1]), axis=1)
        unknown &= np.any((hi < known[0]) | (lo > known[1]), axis=1)
    far = np.maximum(np.abs(lo - c), np.abs(hi - c))
    dist = np.einsum("ij,ij->i", far, far)
    covers = meets & unknown & (dist < r2 * (1 - 4 * _RADIUS_SLACK))
    which, flat, covers, dist = which[meets], flat[meets], covers[meets], dist[meets]
    # A sphere covering an occupied cell reads only the one nearest its centre.
    covered = np.zeros(len(size), dtype=bool)
    covered[which[covers]] = True
    nearest = np.full(len(size), np.inf)
    np.minimum.at(nearest, which[covers], dist[covers])
    take = np.where(covered[which], covers & (dist == nearest[which]), True)
    return flat[take]
