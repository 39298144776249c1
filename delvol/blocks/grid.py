"""Sample the DTFE field on a regular grid, block by block.

Each block samples the grid cells whose centres it owns (by the same k-d tree that owns
the points), in its own tessellation, which it rebuilds from the certified region of its
build. A sample is exact when the tetrahedron holding it is certified (its circumsphere
covered by the region); otherwise that sphere's cells join the region and the block is
tessellated again. Vertex densities come from the gathered per-point array, so the values
equal the single run's interpolation up to rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from delvol.blocks.build import BlockResult, gather, initial_region, triangulate
from delvol.blocks.certify import circumspheres
from delvol.blocks.job import Job
from delvol.blocks.render import BlockedScene
from delvol.geometry.engines import engine_frame, locating_engine
from delvol.geometry.periodic import wrap_into_box

MAX_ROUNDS = 6


def _owned_samples(
    job: Job, block: int, lower: np.ndarray, upper: np.ndarray, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices and positions (wrapped when periodic) of the grid centres a block owns."""
    step = (upper - lower) / np.asarray(shape)
    box = job.layout.box_size
    if box is None:
        first = np.floor((job.layout.lower[block] - lower) / step - 0.5).astype(np.int64) - 1
        last = np.ceil((job.layout.upper[block] - lower) / step - 0.5).astype(np.int64) + 1
        axes = [np.arange(max(first[k], 0), min(last[k], shape[k] - 1) + 1) for k in range(3)]
    else:  # wrapped centres of any cell can land in any block: test them all
        axes = [np.arange(n) for n in shape]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    centres = lower + (grid + 0.5) * step
    if box is not None:
        centres = wrap_into_box(centres, job.layout.bounds[0], box)
    own = job.layout.assign(centres) == block
    return np.ravel_multi_index(tuple(grid[own].T), shape), centres[own]


def sample_block(
    job: Job, block: int, result: BlockResult, lower: np.ndarray, upper: np.ndarray, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The DTFE density at the grid centres one block owns: (flat indices, values)."""
    index, q = _owned_samples(job, block, lower, upper, shape)
    density = np.load(Path(job.folder) / "density.npy", mmap_mode="r")
    region = initial_region(job, block)
    if result.region is not None:  # the first round's region, as build_block recorded it
        region.restore(result.region)
    for _ in range(MAX_ROUNDS):
        points, _ = gather(job, block, region, hull=True)
        keys, positions = points.keys, points.positions
        tri = triangulate(positions, locating_engine(job.engine))
        centre = positions.mean(axis=0)
        x = engine_frame(q, centre)
        simplex = tri.result.locator.find_simplex(x)
        inside = simplex >= 0
        held = np.unique(simplex[inside])
        centres, radii = circumspheres(tri.points, tri.simplices[held], centre)
        open_ = region.missing(centres, radii)
        if region.everything or not open_.any():
            break
        region.add(region.cells_met(centres[open_], radii[open_]))
    values = np.full(len(q), np.nan)
    s = simplex[inside]
    affine = tri.result.locator.transform[s]
    b = np.einsum("nij,nj->ni", affine[:, :3, :], x[inside] - affine[:, 3, :])
    weights = np.column_stack([b, 1.0 - b.sum(axis=1)])
    vertex_density = np.asarray(density[keys[tri.simplices[s]] % job.n_points])
    values[inside] = np.einsum("ni,ni->n", weights, vertex_density)
    return index, values


def blocked_grid(scene: BlockedScene, shape: tuple[int, int, int], lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """:func:`~delvol.geometry.interpolate.density_grid` of a blocked scene, block by block.

    Each block's samples arrive as it finishes and are written into the output array;
    NaN outside the hull, as for a single run.
    """
    runner = scene.runner
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    parts = {
        b: runner.submit(sample_block, scene.job, b, f, lower, upper, tuple(shape), name=f"grid-{b:05d}")
        for b, f in scene.futures.items()
    }
    field = np.full(tuple(shape), np.nan)
    flat = field.reshape(-1)
    for _, block, _ in runner.completed(parts, "grid"):
        index, values = parts[block].result()
        flat[index] = values
    return field
