"""Sample the DTFE field on a regular grid, block by block.

Each block samples the grid cells whose centres it owns (by the same k-d tree that owns
the points), in its own tessellation, which it rebuilds from the certified region of its
build. A sample is exact when the tetrahedron holding it is certified (its circumsphere
covered by the region); otherwise that sphere's cells join the region and the block is
tessellated again. Vertex densities come from the gathered per-point array, so the values
equal the single run's interpolation up to rounding.

The samples reach the caller in one of two ways. :func:`blocked_grid` writes each block's
samples into an array on the client as the block finishes (a memory map of a ``.npy`` file
for a grid larger than memory). :func:`grid_array` keeps them on the workers as a
:mod:`dask.array`, cut into regular chunks there, for work that stays on the cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from delvol.blocks.build import BlockResult, gather, initial_region, triangulate
from delvol.blocks.certify import circumspheres
from delvol.blocks.job import Job
from delvol.blocks.render import BlockedScene
from delvol.geometry.engines import engine_frame, locating_engine
from delvol.geometry.interpolate import grid_shape
from delvol.geometry.periodic import wrap_into_box
from delvol.memory import in_slabs, release_pages

MAX_ROUNDS = 6
PIECE_SAMPLES = 1 << 20
"""Samples fetched to the client at a time by :func:`blocked_grid`: 16 MiB of indices and values."""


def _candidate_axes(
    job: Job, block: int, lower: np.ndarray, upper: np.ndarray, shape: tuple[int, int, int]
) -> list[np.ndarray]:
    """Along each axis, the indices of the grid cells whose centres may belong to a block."""
    if job.layout.box_size is not None:  # wrapped centres of any cell can land in any block: test them all
        return [np.arange(n) for n in shape]
    step = (upper - lower) / np.asarray(shape)
    first = np.floor((job.layout.lower[block] - lower) / step - 0.5).astype(np.int64) - 1
    last = np.ceil((job.layout.upper[block] - lower) / step - 0.5).astype(np.int64) + 1
    return [np.arange(max(first[k], 0), min(last[k], shape[k] - 1) + 1) for k in range(3)]


def _owned_samples(
    job: Job, block: int, lower: np.ndarray, upper: np.ndarray, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices and positions (wrapped when periodic) of the grid centres a block owns."""
    step = (upper - lower) / np.asarray(shape)
    box = job.layout.box_size
    axes = _candidate_axes(job, block, lower, upper, shape)
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


def blocked_grid(
    scene: BlockedScene,
    shape: tuple[int, int, int],
    lower: np.ndarray,
    upper: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`~delvol.geometry.interpolate.density_grid` of a blocked scene, block by block.

    Each block's samples arrive as it finishes and are written into the output array;
    NaN outside the hull, as for a single run.

    Parameters
    ----------
    scene : BlockedScene
    shape : (int, int, int)
    lower, upper : ndarray, shape (3,)
        The grid's corners.
    out : ndarray, optional
        Where to write: a C-contiguous float array of ``shape``, such as the memory map
        that :func:`delvol.atomic.atomic_npy` opens. The samples arrive in pieces of
        :data:`PIECE_SAMPLES` and a memory map's pages are written out and dropped after
        each, so that the client holds about one piece rather than the grid.

    Returns
    -------
    ndarray
        ``out``, or a new float64 array.
    """
    shape = grid_shape(shape)
    field = nan_grid(shape, out)
    runner = scene.runner
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    parts = {
        b: runner.submit(sample_block, scene.job, b, f, lower, upper, shape, name=f"grid-{b:05d}")
        for b, f in scene.futures.items()
    }
    write_block_samples(runner, parts, field)
    return field


def nan_grid(shape: tuple[int, int, int], out: np.ndarray | None) -> np.ndarray:
    """``out`` (checked to be a C-contiguous array of ``shape``), or a new float64 array, filled with NaN.

    Cells that no block samples (beyond the data, when the extent is larger) stay NaN. A
    memory map is filled a slab at a time, its pages dropped after each.
    """
    field = np.empty(shape) if out is None else out
    if field.shape != shape or not field.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous array of shape {shape}, got {field.shape}")
    for slab in in_slabs(field):
        slab[...] = np.nan
    return field


def write_block_samples(runner: Any, parts: dict[int, Any], field: np.ndarray) -> None:
    """Write each block's samples, a future of (flat indices, values) on a worker, into ``field`` as it finishes.

    A block in a void owns a large share of the grid: fetched in pieces of
    :data:`PIECE_SAMPLES`, the client holds one piece of its samples at a time, whatever
    the blocks' sizes, and a memory map's pages are written out and dropped after each.
    """
    flat = field.reshape(-1)
    for _, block, _ in runner.completed(parts, "grid"):
        samples = parts.pop(block)  # popped: the worker frees it once its pieces are here
        n_samples = runner.submit(_count, samples, name=f"grid-count-{block:05d}").result()
        pieces = [
            runner.submit(_samples_slice, samples, start, start + PIECE_SAMPLES, name=f"grid-piece-{block:05d}")
            for start in range(0, n_samples, PIECE_SAMPLES)
        ]
        del samples
        while pieces:
            index, values = pieces.pop(0).result()
            flat[index] = values
            del index, values  # else they live on while the next piece arrives: two at the peak
            release_pages(field)


def _count(samples: tuple[np.ndarray, np.ndarray]) -> int:
    return len(samples[0])


def _samples_slice(samples: tuple[np.ndarray, np.ndarray], start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    return samples[0][start:stop], samples[1][start:stop]


def grid_array(
    scene: BlockedScene,
    shape: tuple[int, int, int],
    lower: np.ndarray,
    upper: np.ndarray,
    chunks: Any = "auto",
) -> Any:
    """The density grid of a blocked scene as a :class:`dask.array.Array` computed on the workers.

    Nothing runs until the array (or a part of it) is computed. Then each block that the
    part needs samples its cells once on a worker (:func:`sample_block`), and each chunk
    is put together there from the pieces of the blocks it meets. The chunks are a
    regular grid, as dask.array needs, and the blocks are k-d boxes, which meet several
    chunks each: cutting a block's samples into pieces where they lie moves only the
    cells a chunk needs between workers.

    The array belongs to the scene's Dask client: compute it with that client (under
    ``scene.runner.client.as_current()``, as :func:`density_grid_array` does) and while
    the scene is open, or ``persist`` it there to keep it.

    Parameters
    ----------
    scene, shape, lower, upper
        As for :func:`blocked_grid`.
    chunks : optional
        Any chunk specification :func:`dask.array.core.normalize_chunks` takes; default
        ``"auto"``, dask's ``array.chunk-size``.

    Returns
    -------
    dask.array.Array
        float64, of ``shape``; NaN outside the hull.
    """
    import dask
    import dask.array as da
    from dask.array.core import normalize_chunks
    from dask.base import tokenize

    shape = grid_shape(shape)
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    token = tokenize(scene.job.folder, shape, lower, upper)
    samples, spans = {}, {}
    for b, future in scene.futures.items():
        samples[b] = dask.delayed(sample_block, pure=True)(
            scene.job, b, future, lower, upper, shape, dask_key_name=f"grid-block-{b:05d}-{token}"
        )
        axes = _candidate_axes(scene.job, b, lower, upper, shape)
        spans[b] = [(a[0], a[-1] + 1) if len(a) else (0, 0) for a in axes]
    edges = [np.cumsum((0, *c)) for c in normalize_chunks(chunks, shape, dtype=np.float64)]

    def chunk(ijk: tuple[int, int, int]) -> Any:
        start = np.array([edges[k][ijk[k]] for k in range(3)])
        stop = np.array([edges[k][ijk[k] + 1] for k in range(3)])
        name = "-".join(map(str, ijk))
        pieces = [
            dask.delayed(_piece, pure=True)(
                samples[b], start, stop, shape, dask_key_name=f"grid-piece-{b}-{name}-{token}"
            )
            for b, span in spans.items()
            if all(lo < hi and lo < stop[k] and hi > start[k] for k, (lo, hi) in enumerate(span))
        ]
        size = tuple(int(n) for n in stop - start)
        assembled = dask.delayed(_chunk, pure=True)(size, *pieces, dask_key_name=f"grid-chunk-{name}-{token}")
        return da.from_delayed(assembled, shape=size, dtype=np.float64)

    counts = [len(e) - 1 for e in edges]
    return da.block(
        [[[chunk((i, j, k)) for k in range(counts[2])] for j in range(counts[1])] for i in range(counts[0])]
    )


def _piece(
    samples: tuple[np.ndarray, np.ndarray], start: np.ndarray, stop: np.ndarray, shape: tuple[int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The samples of one block inside one chunk: flat indices within the chunk, and values."""
    index, values = samples
    cell = np.stack(np.unravel_index(index, shape), axis=-1)
    inside = np.all((cell >= start) & (cell < stop), axis=1)
    local = np.ravel_multi_index(tuple((cell[inside] - start).T), tuple(stop - start))
    return local, values[inside]


def _chunk(size: tuple[int, int, int], *pieces: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """One chunk of the grid from its blocks' pieces; NaN where no block owns a cell."""
    out = np.full(size, np.nan)
    flat = out.reshape(-1)
    for local, values in pieces:
        flat[local] = values
    return out


@contextmanager
def density_grid_array(
    source: Any,
    shape: int | tuple[int, int, int] = 128,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    *,
    chunks: Any = "auto",
    **options: Any,
) -> Iterator[Any]:
    """The DTFE density on a regular grid as a :class:`dask.array.Array`, sampled block by block on Dask.

    For grids larger than one machine's memory, or work that should stay on the cluster
    (reductions, ``to_zarr``): the points are built in blocks on the workers, as for
    :func:`tessellate_blocks`, and each block samples the cells it owns there. Inside the
    ``with`` block the array computes on that cluster (``rho.mean().compute()``); the
    cluster (a LocalCluster unless ``scheduler`` is given) and the job close afterwards.

    Parameters
    ----------
    source : path, ndarray (N, 3) or PointSet
    shape : int or (int, int, int)
        Cells along each axis.
    lower, upper : ndarray, shape (3,), optional
        Grid corners; default to the periodic box, or to the bounds of the input points.
    chunks : optional
        The array's chunks (see :func:`grid_array`).
    **options
        Fields of :class:`~delvol.io.LoadOptions` and
        :class:`~delvol.geometry.options.TessellationOptions`, as for
        :func:`delvol.tessellate`: ``blocks`` (default ``"auto"``), ``workers``,
        ``scheduler`` (the address of a running cluster: ``client.scheduler.address``
        of your own client), ``periodic``, ``engine``...

    Yields
    ------
    dask.array.Array
        float64, of ``shape``; NaN outside the hull, equal to
        :func:`~delvol.geometry.interpolate.density_grid` up to rounding.

    Examples
    --------
    >>> from delvol.blocks import density_grid_array
    >>> with density_grid_array("big.npy", 512, blocks=16, workers=2) as rho:
    ...     rho.to_zarr("rho.zarr")
    """
    from delvol.geometry.options import TessellationOptions
    from delvol.io import LoadOptions
    from delvol.options import split_options
    from delvol.scene.description import Scene

    load, tessellation = split_options([LoadOptions, TessellationOptions], {"blocks": "auto", **options})
    scene = Scene(source, load=LoadOptions(**load), tessellation=TessellationOptions(**tessellation))
    with scene.built_blocks() as (_, blocked), blocked.runner.client.as_current():
        lo, hi = blocked.bounds
        lo = lo if lower is None else np.asarray(lower, dtype=np.float64)
        hi = hi if upper is None else np.asarray(upper, dtype=np.float64)
        yield grid_array(blocked, grid_shape(shape), lo, hi, chunks)
