"""Join the blocks' output into the arrays of a single run.

Per-point arrays are indexed by input order; periodic images follow, numbered as
``pad_periodic`` orders them (by shift code, then input index), which is the single run's
order. Neighbours across block seams are derived from the tetrahedra when first asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from delvol.blocks.build import BlockResult
from delvol.blocks.lookup import IMAGE_SHIFTS
from delvol.geometry.tessellation import Tessellation


class PointArrays:
    """Per-input-point results, filled block by block: density, cell volume, hull flag."""

    def __init__(self, n_points: int) -> None:
        self.density = np.full(n_points, np.nan)
        self.cell_volume = np.zeros(n_points)
        self.hull = np.zeros(n_points, dtype=bool)
        self.filled = np.zeros(n_points, dtype=bool)

    def add(self, result: BlockResult) -> None:
        self.density[result.core] = result.density
        self.cell_volume[result.core] = result.cell_volume
        self.hull[result.core] = result.hull
        self.filled[result.core] = True


def data_bounds(
    positions: np.ndarray, box_size: float | None, box_lower: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The region the data fills: the periodic box, or the bounding box of ``positions``."""
    if box_size is not None and box_lower is not None:
        return box_lower, box_lower + box_size
    return positions.min(axis=0), positions.max(axis=0)


def image_positions(keys: np.ndarray, positions: np.ndarray, box_size: float | None) -> np.ndarray:
    """Positions of vertices named by key (``code * N + index``), as ``pad_periodic`` places them."""
    n = len(positions)
    base = positions[keys % n]
    if box_size is None:
        return base
    return base + IMAGE_SHIFTS[keys // n] * box_size


def assemble(
    results: Iterable[BlockResult],
    positions: np.ndarray,
    masses: np.ndarray,
    *,
    box_size: float | None = None,
    box_lower: np.ndarray | None = None,
    info: dict | None = None,
) -> Tessellation:
    """One :class:`Tessellation` from every block's result.

    Parameters
    ----------
    results : iterable of BlockResult
        One per block, in any order.
    positions, masses : ndarray
        The input points (wrapped into the box when periodic) and their masses.
    box_size, box_lower
        The periodic box, or None.
    info : dict, optional
        Build options and counts to record.
    """
    n = len(positions)
    per_point = PointArrays(n)
    tets, faces, volumes, vertex_keys = [], [], [], []
    periodic = box_size is not None
    for r in sorted(results, key=lambda r: r.block):
        per_point.add(r)
        # Without images every key is an input index, which fits the int32 tables: gather
        # in int32 at once (a third of the assembly's time went to int64 copies).
        names = r.vertex_keys if periodic else r.vertex_keys.astype(np.int32)
        tets.append(names[r.tetrahedra])
        faces.append(names[r.faces])
        volumes.append(r.tet_volume)
        vertex_keys.append(r.vertex_keys)
    if not per_point.filled.all():
        raise RuntimeError(f"{np.count_nonzero(~per_point.filled)} points were in no block")
    keys = np.concatenate(vertex_keys)
    images = np.unique(keys[keys >= n])
    used = np.concatenate([np.arange(n), images])
    tet_keys, face_keys = np.concatenate(tets), np.concatenate(faces)

    def renumber(k: np.ndarray) -> np.ndarray:
        if not periodic:
            return k
        return np.where(k < n, k, n + np.searchsorted(images, k)).astype(np.int32)

    tetrahedra = renumber(tet_keys)
    origin = used % n
    return Tessellation(
        points=image_positions(used, positions, box_size),
        masses=masses[origin],
        tetrahedra=tetrahedra,
        neighbors=None,  # derived when asked (the blocks' tetrahedra meet across seams no engine run saw)
        faces=renumber(face_keys),
        tet_volume=np.concatenate(volumes),
        cell_volume=per_point.cell_volume[origin],
        density=per_point.density[origin],
        hull=per_point.hull if box_size is None else np.zeros(len(used), dtype=bool),
        origin=origin,
        box_size=box_size,
        box_lower=box_lower,
        info={**(info or {}), "n_images": len(images)},
    )
