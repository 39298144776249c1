"""The region a block has read every point of: its padded box plus grid cells added as needed.

A sphere only has to be checked against the places that hold points. A coarse grid of
point counts over the whole set (made once, at partition) says where those are, so a
sphere is covered when every occupied cell it meets is inside the padded box or already
read. Growing the region then adds just the occupied cells that failing spheres meet: in
clustered data those spheres lie in voids and near the hull, where a whole slab of
thicker shell would pull in far more points.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import numpy as np
from scipy.ndimage import maximum_filter, uniform_filter

RESOLUTION = 64
"""Cells per axis of the count grid (per period when periodic, over three periods)."""
_SMALL = 4  # spheres spanning fewer cells per axis are tested together
_OFFSETS = np.array(list(product(range(_SMALL), repeat=3)))
_MAX_BIG = 64  # more larger spheres than this share one bounding box


def count_grid(positions: np.ndarray, bounds: tuple[np.ndarray, np.ndarray], periodic: bool) -> np.ndarray:
    """Points per cell of the grid over ``bounds`` (tiled over three periods when periodic)."""
    res = RESOLUTION // 2 if periodic else RESOLUTION
    counts = np.zeros((res,) * 3, dtype=np.int64)
    cell = (bounds[1] - bounds[0]) / res
    for start in range(0, len(positions), 1 << 22):  # bounds the (chunk, 3) index temporaries
        c = np.clip(np.floor((positions[start : start + (1 << 22)] - bounds[0]) / cell).astype(np.int64), 0, res - 1)
        np.add.at(counts, (c[:, 0], c[:, 1], c[:, 2]), 1)
    return np.tile(counts, (3, 3, 3)) if periodic else counts


def local_spacing(counts: np.ndarray, domain: tuple[np.ndarray, np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """The mean interparticle spacing around positions, from the count grid: a function of them.

    Averaged over the 3x3x3 cells around a position, so that one empty or crowded cell does
    not decide; infinite where those cells hold no point. The average is taken once here.
    """
    res = counts.shape[0]
    cell = (domain[1] - domain[0]) / res
    mean = uniform_filter(counts.astype(np.float64), size=3, mode="nearest")

    def spacing(x: np.ndarray) -> np.ndarray:
        c = np.clip(np.floor((x - domain[0]) / cell).astype(np.int64), 0, res - 1)
        with np.errstate(divide="ignore"):
            return np.cbrt(np.prod(cell) / mean[c[:, 0], c[:, 1], c[:, 2]])

    return spacing


class Region:
    """A padded box and a set of grid cells; a point is in the region if in either.

    Parameters
    ----------
    box : (ndarray, ndarray)
        The padded box, closed.
    domain : (ndarray, ndarray)
        The grid's extent: the data bounds, or three periods around a periodic box.
    counts : ndarray, shape (R, R, R)
        Points (and images) per grid cell, from :func:`count_grid`.
    """

    def __init__(self, box: tuple[np.ndarray, np.ndarray], domain: tuple[np.ndarray, np.ndarray], counts: np.ndarray):
        self.box = (np.asarray(box[0], dtype=np.float64), np.asarray(box[1], dtype=np.float64))
        self.domain = domain
        self.counts = counts
        # A cell counts as occupied if it or a neighbour holds points: a point on a cell
        # boundary may round into either cell.
        self.occupied = maximum_filter(counts > 0, size=3, mode="nearest")
        self.res = counts.shape[0]
        self.cell = np.maximum((domain[1] - domain[0]) / self.res, 1e-300)
        self.mask = np.zeros(counts.shape, dtype=bool)
        self.everything = False
        axis = [domain[0][k] + np.arange(self.res + 1) * self.cell[k] for k in range(3)]
        self._lo = np.stack(np.meshgrid(*(a[:-1] for a in axis), indexing="ij"), axis=-1)
        self._hi = np.stack(np.meshgrid(*(a[1:] for a in axis), indexing="ij"), axis=-1)
        self._in_box = self._inside_box()

    def state(self) -> dict:
        """The box and the added cells (bit-packed): enough to rebuild the same region."""
        return {"box": self.box, "cells": np.packbits(self.mask.ravel()), "everything": self.everything}

    def restore(self, state: dict) -> None:
        """Take the box and cells of :meth:`state`."""
        self.box = state["box"]
        self._in_box = self._inside_box()
        self.mask = np.unpackbits(state["cells"])[: self.mask.size].reshape(self.mask.shape).astype(bool)
        self.everything = state["everything"]

    def _inside_box(self) -> np.ndarray:
        return np.all((self._lo >= self.box[0]) & (self._hi <= self.box[1]), axis=-1)

    def _cells(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.floor((x - self.domain[0]) / self.cell).astype(np.int64), 0, self.res - 1)

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Whether each position is in the region."""
        if self.everything:
            return np.ones(len(x), dtype=bool)
        inside = np.all((x >= self.box[0]) & (x <= self.box[1]), axis=1)
        if self.mask.any():
            c = self._cells(x)
            inside |= self.mask[c[:, 0], c[:, 1], c[:, 2]]
        return inside

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        """A box holding the whole region."""
        if self.everything:
            return self.domain
        if not self.mask.any():
            return self.box
        marked = np.argwhere(self.mask)
        lo = self.domain[0] + marked.min(axis=0) * self.cell
        hi = self.domain[0] + (marked.max(axis=0) + 1) * self.cell
        return np.minimum(self.box[0], lo), np.maximum(self.box[1], hi)

    def missing(self, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
        """For each sphere, whether it meets an occupied cell outside the region.

        Returns
        -------
        ndarray, shape (S,), bool
        """
        out = np.zeros(len(radii), dtype=bool)
        if self.everything:
            return out
        inside = np.all((centres - radii[:, None] >= self.box[0]) & (centres + radii[:, None] <= self.box[1]), axis=1)
        todo = np.flatnonzero(~inside)
        out[todo] = self._met(centres[todo], radii[todo])[0]
        return out

    def cells_met(self, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
        """Mask of the occupied cells outside the region that any of the spheres meets."""
        return self._met(centres, radii)[1]

    def _open(self) -> np.ndarray:
        return self.occupied & ~self.mask & ~self._in_box

    def _met(self, centres: np.ndarray, radii: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which spheres meet open (occupied, unread) cells, and the mask of the cells met.

        Small spheres test the 4x4x4 cells around them at once; the few larger ones scan
        the cells of their bounding box, or, when there are many, all share one box.
        """
        open_ = self._open()
        finite = np.isfinite(radii) & np.all(np.isfinite(centres), axis=1)
        r = np.where(finite, radii, 0.0) * (1 + 1e-9)
        c = np.where(finite[:, None], centres, 0.0)
        first, last = self._cells(c - r[:, None]), self._cells(c + r[:, None])
        small = finite & np.all(last - first < _SMALL, axis=1)
        spheres = np.zeros(len(radii), dtype=bool)
        cells = np.zeros(open_.shape, dtype=bool)
        idx = np.flatnonzero(small)
        if len(idx):
            near = first[idx][:, None, :] + _OFFSETS[None]
            valid = np.all(near <= last[idx][:, None, :], axis=2)
            near = np.minimum(near, self.res - 1)
            hit = valid & self._meets(c[idx][:, None, :], r[idx][:, None], near)
            hit &= open_[near[..., 0], near[..., 1], near[..., 2]]
            spheres[idx] = hit.any(axis=1)
            cells[near[hit][:, 0], near[hit][:, 1], near[hit][:, 2]] = True
        big = np.flatnonzero(~small)
        if len(big) > _MAX_BIG or not finite.all():
            # Many large spheres (a shell far too thin) or flat ones: one box around them all.
            lo = np.where(finite[big, None], first[big], 0).min(axis=0)
            hi = np.where(finite[big, None], last[big], self.res - 1).max(axis=0)
            part = (slice(lo[0], hi[0] + 1), slice(lo[1], hi[1] + 1), slice(lo[2], hi[2] + 1))
            if open_[part].any():
                spheres[big] = True
                cells[part] |= open_[part]
            big = big[:0]
        for s in big:
            axes = (np.arange(first[s][k], last[s][k] + 1) for k in range(3))
            grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
            hit = self._meets(c[s][None], r[s : s + 1], grid) & open_[grid[:, 0], grid[:, 1], grid[:, 2]]
            spheres[s] = hit.any()
            cells[grid[hit][:, 0], grid[hit][:, 1], grid[hit][:, 2]] = True
        return spheres, cells

    def _meets(self, centres: np.ndarray, radii: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """Whether spheres (broadcast against ``cells``, integer cell indices) meet those cells."""
        lo = self.domain[0] + cells * self.cell
        hi = lo + self.cell
        gap = np.maximum(lo - centres, 0.0) + np.maximum(centres - hi, 0.0)
        return np.einsum("...k,...k->...", gap, gap) <= radii * radii

    def add(self, cells: np.ndarray) -> None:
        """Add cells to the region."""
        self.mask |= cells
        if not self._open().any():
            self.everything = True
