"""Level of detail for viewing blocks: far blocks draw every k-th face, weighted by k.

Faces are drawn additively with no depth test, so an image is a sum over faces. A block
drawing every k-th of its faces with each kept face's contribution multiplied by k has
the same expected image as the block drawn whole (for faces in a random order, which
the block's build gives). The stride k of each block is a power of two that grows with
the block's distance from the camera, chosen so that the faces drawn stay within a
budget (:func:`choose_strides`); the nearest blocks are drawn whole, and when every face
fits, every k is 1. Nothing here touches OpenGL: :mod:`delvol.gl.visuals.blocks` draws it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from delvol.blocks.assemble import data_bounds
from delvol.blocks.build import BlockResult
from delvol.blocks.store import box_lower_of, read_block, read_index, read_points
from delvol.geometry.tessellation import Tessellation

BYTES_PER_FACE = 16
"""GPU bytes of a drawn face: three uint32 indices (12), a share of its vertices (16 bytes
each, about one vertex per 13 faces in 3-D Delaunay) and a float weight when weighted."""
GPU_MEMORY = 2**30
"""The GPU memory the faces may take by default (1 GiB: most GPUs, with room for the frame)."""
DEFAULT_FACE_BUDGET = GPU_MEMORY // BYTES_PER_FACE
"""Faces drawn at most by default: 67,108,864."""
NEAR = 0.1
"""Blocks nearer the eye than this fraction of the median block diagonal count as around it."""


def block_faces(
    result: BlockResult,
    density: np.ndarray,
    hull: np.ndarray,
    box_size: float | None,
    box_lower: np.ndarray | None,
    tetrahedra: bool = False,
) -> Tessellation:
    """A block's faces as a :class:`Tessellation` the volume visual can draw (its tetrahedra if asked for).

    Parameters
    ----------
    result : BlockResult
        The block, with its vertices and faces.
    density, hull : ndarray, shape (N,)
        Every input point's density and hull flag (memory-mapped arrays will do).
    box_size, box_lower
        The periodic box, or None: faces are clipped to it when drawn.
    tetrahedra : bool
        Keep the block's tetrahedra, for the exact ``integral`` mode (no neighbour table).
    """
    origin = result.vertex_keys % len(density)
    no_tets = np.zeros((0, 4), dtype=np.int32)
    return Tessellation(
        points=result.vertex_position,
        masses=np.ones(len(origin)),
        tetrahedra=result.tetrahedra if tetrahedra else no_tets,
        neighbors=no_tets,
        faces=result.faces,
        tet_volume=result.tet_volume if tetrahedra else np.zeros(0),
        cell_volume=np.zeros(len(origin)),
        density=np.asarray(density[origin]),
        hull=np.asarray(hull[origin]),
        origin=origin,
        box_size=box_size,
        box_lower=box_lower,
    )


def subsample(block: Tessellation, stride: int) -> Tessellation:
    """Every ``stride``-th face of a faces-only block, on only the vertices those faces use."""
    faces = block.faces[::stride]
    used, inverse = np.unique(faces, return_inverse=True)
    return Tessellation(
        points=block.points[used],
        masses=block.masses[used],
        tetrahedra=block.tetrahedra,
        neighbors=block.tetrahedra,
        faces=inverse.reshape(-1, 3).astype(np.int32),
        tet_volume=block.tet_volume,
        cell_volume=block.cell_volume[used],
        density=block.density[used],
        hull=block.hull[used],
        origin=block.origin[used],
        box_size=block.box_size,
        box_lower=block.box_lower,
    )


def choose_strides(
    lower: np.ndarray, upper: np.ndarray, eye: np.ndarray, n_faces: np.ndarray, budget: int
) -> np.ndarray:
    """The stride of each block: draw every k-th face, weighted by k, within a face budget.

    The rule: with ``d`` the distance from the eye to a block's bounding box (at least
    :data:`NEAR` of the median block diagonal), a block's stride is the least power of
    two ``k >= (d / r)**2``, at most the one that leaves it a single face. Faces shrink on
    screen as ``1 / d**2``, so this keeps about as many faces per pixel near and far.
    ``r`` is the largest radius whose strides fit the budget: blocks nearer than ``r``
    are drawn whole (those around the eye, unless one face of every other block does not
    fit beside them), and every k is 1 when all fits.

    Parameters
    ----------
    lower, upper : ndarray, shape (B, 3)
        Each block's bounding box.
    eye : ndarray, shape (3,)
        The camera position.
    n_faces : ndarray, shape (B,)
        Each block's face count.
    budget : int
        Most faces drawn in all; at least one per block with faces.

    Returns
    -------
    ndarray, shape (B,), int64
        Powers of two; ``ceil(n_faces / k)`` faces are drawn.
    """
    n = np.asarray(n_faces, dtype=np.int64)
    if n.sum() <= budget:
        return np.ones(len(n), dtype=np.int64)
    if budget < np.count_nonzero(n):
        raise ValueError(f"a face budget of {budget:,} is less than one face for each of {np.count_nonzero(n)} blocks")
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    gap = np.linalg.norm(np.maximum(np.maximum(lower - eye, eye - upper), 0.0), axis=1)
    near = NEAR * float(np.median(np.linalg.norm(upper - lower, axis=1)))
    # Levels (log2 k) in terms of s = 2 log2 r: level = ceil(2 log2 d - s), so each block's
    # level steps where s crosses 2 log2 d minus an integer.
    reach = 2 * np.log2(np.maximum(gap, max(near, np.finfo(float).tiny)))
    top = np.ceil(np.log2(np.maximum(n, 1))).astype(np.int64)  # the level that leaves one face

    def levels(s: float) -> np.ndarray:
        return np.clip(np.ceil(reach - s), 0, top).astype(np.int64)

    def drawn(s: float) -> int:
        return int((-(-n // (1 << levels(s)))).sum())

    steps = np.sort(np.concatenate([reach[b] - np.arange(top[b] + 1) for b in range(len(n))]))
    # drawn() grows with s: take the largest step that fits (the smallest fits: one face each).
    lo, hi = 0, len(steps) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if drawn(steps[mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return 1 << levels(steps[lo])


@dataclass(eq=False)
class BlockFaces:
    """Every block's faces on the host, for a viewer that draws far blocks coarser.

    Attributes
    ----------
    blocks : list of Tessellation
        One faces-only tessellation per block (:func:`block_faces`), on its own vertices.
    lower, upper : ndarray, shape (B, 3)
        The bounding box of each block's core points (its vertices' boxes, ghosts
        included, overlap too much to tell near blocks from far).
    positions : ndarray, shape (N, 3)
        The input points (wrapped into the box when periodic), to frame the camera.
    box_size : float or None
    box_lower : ndarray or None
    """

    blocks: list[Tessellation]
    lower: np.ndarray
    upper: np.ndarray
    positions: np.ndarray
    box_size: float | None
    box_lower: np.ndarray | None

    @property
    def n_faces(self) -> np.ndarray:
        """Each block's face count."""
        return np.array([len(b.faces) for b in self.blocks], dtype=np.int64)

    @classmethod
    def from_results(
        cls,
        results: Iterable[BlockResult],
        positions: np.ndarray,
        density: np.ndarray,
        hull: np.ndarray,
        box_size: float | None,
        box_lower: np.ndarray | None,
    ) -> BlockFaces:
        """From block results as they arrive (their tetrahedra are dropped one by one)."""
        blocks, lower, upper = [], [], []
        for r in results:
            blocks.append(block_faces(r, density, hull, box_size, box_lower))
            core = positions[r.core]
            lower.append(core.min(axis=0))
            upper.append(core.max(axis=0))
        return cls(blocks, np.reshape(lower, (-1, 3)), np.reshape(upper, (-1, 3)), positions, box_size, box_lower)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """As :attr:`Tessellation.bounds`: the periodic box, or the inputs' bounding box."""
        return data_bounds(self.positions, self.box_size, self.box_lower)

    def strides(self, eye: np.ndarray, budget: int) -> np.ndarray:
        """:func:`choose_strides` for these blocks seen from ``eye``."""
        return choose_strides(self.lower, self.upper, eye, self.n_faces, budget)


def read_block_faces(folder: str | os.PathLike) -> BlockFaces:
    """Every block's faces from a block folder (:mod:`delvol.blocks.store`), without assembling them."""
    index = read_index(folder)
    n, box_size = index["n_points"], index["box_size"]
    positions, density, hull = read_points(folder, n, ("points", "density", "hull")).values()
    results = (read_block(folder, entry, n, box_size) for entry in index["blocks"])
    return BlockFaces.from_results(results, positions, density, hull, box_size, box_lower_of(index))
