"""One block's share of the tessellation: its core points plus a certified ghost shell.

A block gathers every point (and, when periodic, every image) inside its core box grown
by a ghost shell, tessellates them, and certifies each core point: every tetrahedron
touching it must have its circumsphere inside the region read (or provably empty of the
points beyond it), and every hull face touching it must be on the hull of the whole set.
If any core point fails, the cells that the failing spheres cover are added to the
region and the block is rebuilt, until all pass (or the region holds every point, when
the block's result is trivially exact).

Then each tetrahedron and face is emitted by exactly one block: the one owning its vertex
with the smallest input index (unshifted, when periodic), so that the union of the
blocks' output is the single run's.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from delvol.blocks.certify import beyond_global_hull, circumspheres, hull_faces
from delvol.blocks.job import Job
from delvol.blocks.region import Region
from delvol.geometry.dtfe import contiguous_voronoi_volumes, dtfe_density, tetrahedron_volumes
from delvol.geometry.engines import ENGINES, Triangulation, engine_frame
from delvol.geometry.engines.failure import check_count
from delvol.geometry.faces import neighbors_from_tetrahedra, unique_faces
from delvol.geometry.periodic import SHIFTS, in_padding
from delvol.geometry.tessellation import _representatives

IMAGE_SHIFTS = np.vstack([np.zeros(3), SHIFTS])
"""Shift of each image code: 0 for the input points, then :data:`SHIFTS` as in ``pad_periodic``."""
_CODE_TABLE = np.zeros(27, dtype=np.int64)  # image code by (sx + 1) * 9 + (sy + 1) * 3 + (sz + 1)
_CODE_TABLE[(IMAGE_SHIFTS + 1).astype(int) @ np.array([9, 3, 1])] = np.arange(27)
MAX_ROUNDS = 8
_MAX_GROWTH = 2.0  # a round may add at most this many times the block's points in cells
_CHECK_BUDGET = 4.0  # spheres are checked against the points beyond if at most this many times the block's


@dataclass(eq=False)
class BlockResult:
    """What one block contributes; vertices are named by key ``code * N + input index``.

    Attributes
    ----------
    block : int
    core : ndarray, shape (C,), int64
        Global indices of the block's core points.
    density, cell_volume : ndarray, shape (C,), float64
    hull : ndarray, shape (C,), bool
    vertex_keys : ndarray, shape (V,), int64
        The vertices that the emitted tetrahedra and faces use.
    vertex_position : ndarray, shape (V, 3), float64
    tetrahedra : ndarray, shape (T, 4), int32
        Indices into ``vertex_keys``.
    tet_volume : ndarray, shape (T,), float64
    faces : ndarray, shape (F, 3), int32
        Indices into ``vertex_keys``.
    region : dict
        The certified region's :meth:`~delvol.blocks.region.Region.state`, to rebuild the
        block's point set (for sampling a grid).
    stats : dict
        ``n_core``, ``n_ghost``, ``rounds``, ``failed`` (core points failing each round),
        ``extra_cells`` (region cells added),
        ``seconds``, ``peak_rss_mb`` (the worker process's high-water mark),
        ``n_duplicates``.
    """

    block: int
    core: np.ndarray
    density: np.ndarray
    cell_volume: np.ndarray
    hull: np.ndarray
    vertex_keys: np.ndarray
    vertex_position: np.ndarray
    tetrahedra: np.ndarray
    tet_volume: np.ndarray
    faces: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)
    region: dict[str, Any] | None = None


def initial_shell(job: Job, block: int) -> float:
    """The first ghost shell's width: ``job.shell`` of the block's mean spacings."""
    return float(job.shell * job.layout.mean_spacing(job.counts)[block])


def initial_region(job: Job, block: int) -> Region:
    """The block's core box grown by :func:`initial_shell` on every side."""
    shell = initial_shell(job, block)
    box = (job.layout.lower[block] - shell, job.layout.upper[block] + shell)
    lo, hi = job.layout.bounds
    if job.layout.box_size is not None:
        lo, hi = lo - job.layout.box_size, hi + job.layout.box_size
    region = Region(box, (lo, hi), job.counts_grid)
    region.shell = shell
    if np.all(box[0] <= lo) and np.all(box[1] >= hi):
        region.everything = True
    return region


def gather(
    job: Job, block: int, region: Region, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The block's core points then its ghosts: keys, positions, input positions, masses, core count.

    ``rows`` picks the core points to certify (default: all); the block's other core
    points then count among the ghosts. Ghosts are the points of any block (the block's
    own included, when periodic) whose position, or image position, lies in the region,
    and the vertices of the global hull, so that the block's hull is the global hull. An
    image's position is its point's plus the shift times the box side, computed as
    ``pad_periodic`` does, so that both runs see bit-identical coordinates.
    """
    index, position, mass = (np.asarray(a) for a in job.core(block))
    if rows is None:
        keys, positions, bases, masses = points_in(job, region.bounding_box(), region.contains, skip=block)
    else:
        index, position, mass = index[rows], position[rows], mass[rows]
        keys, positions, bases, masses = points_in(job, region.bounding_box(), region.contains)
        other = ~np.isin(keys, index)
        keys, positions, bases, masses = keys[other], positions[other], bases[other], masses[other]
    far = ~region.contains(job.hull_points) & ~np.isin(job.hull_index, index)
    if rows is None:
        far &= job.layout.assign(job.hull_points) != block
    return (
        np.concatenate([index, keys, job.hull_index[far]]),
        np.concatenate([position, positions, job.hull_points[far]]),
        np.concatenate([position, bases, job.hull_points[far]]),
        np.concatenate([mass, masses, job.hull_masses[far]]),
        len(index),
    )


def points_in(
    job: Job, box: tuple[np.ndarray, np.ndarray], keep: Callable[[np.ndarray], np.ndarray], skip: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keys, positions, input positions and masses of the points and images in ``box`` that ``keep``.

    ``skip`` leaves out one block's unshifted points.
    """
    lower, upper = box
    n = job.n_points
    keys, positions, bases, masses = (
        [np.zeros(0, dtype=np.int64)],
        [np.zeros((0, 3))],
        [np.zeros((0, 3))],
        [np.zeros(0)],
    )
    side = job.layout.box_size
    shifts = [(0, np.zeros(3))] if side is None else list(enumerate(IMAGE_SHIFTS))
    for other in range(job.layout.n_blocks):
        for code, s in shifts:
            if other == skip and code == 0:
                continue
            offset = s * side if side is not None else s
            if np.any(job.layout.lower[other] + offset > upper) or np.any(job.layout.upper[other] + offset < lower):
                continue
            o_index, o_position, o_mass = job.core(other)
            moved = o_position + s * side if side is not None else np.asarray(o_position)
            candidate = np.flatnonzero(np.all((moved >= lower) & (moved <= upper), axis=1))
            inside = candidate[keep(moved[candidate])]
            keys.append(code * n + np.asarray(o_index)[inside])
            positions.append(moved[inside])
            bases.append(np.asarray(o_position)[inside])
            masses.append(np.asarray(o_mass)[inside])
    return np.concatenate(keys), np.concatenate(positions), np.concatenate(bases), np.concatenate(masses)


@dataclass(eq=False)
class BlockTriangulation:
    """An engine's triangulation of a block's points, with what the certification needs.

    ``points`` are the engine-frame coordinates the engine saw; ``neighbors`` are derived
    when the engine gives none.
    """

    points: np.ndarray
    simplices: np.ndarray
    neighbors: np.ndarray
    result: Triangulation

    @property
    def dropped(self) -> np.ndarray:
        return self.result.dropped


def triangulate(positions: np.ndarray, engine: str) -> BlockTriangulation:
    """Triangulate ``positions`` with the (resolved) ``engine`` in the engines' common frame."""
    check_count(positions)
    framed = engine_frame(positions, positions.mean(axis=0))
    tri = ENGINES[engine].triangulate(framed)
    nbrs = tri.neighbors if tri.neighbors is not None else neighbors_from_tetrahedra(tri.tetrahedra)
    return BlockTriangulation(framed, tri.tetrahedra, nbrs, tri)


def _hull_vertices(tetrahedra: np.ndarray, neighbors: np.ndarray, n_points: int) -> np.ndarray:
    """Boolean mask of the points that are vertices of a convex-hull triangle."""
    hull = np.zeros(n_points, dtype=bool)
    hull[hull_faces(tetrahedra, neighbors)[0].ravel()] = True
    return hull


def build_block(job: Job, block: int) -> BlockResult:
    """Tessellate one block, then redo the core points that fail certification until none do.

    The first round tessellates the whole block with its ghost shell. The points that fail
    are redone on their own, with the points in a box around their failing spheres (and
    the cells of the points those spheres held), so a few failures cost a small engine run,
    not a second one of the whole block.
    """
    start = time.perf_counter()
    region = initial_region(job, block)
    first_region = None
    rows = None  # the core points still to certify: all of them at first
    parts, failed_rounds, n_points = [], [], 0
    for rounds in range(1, MAX_ROUNDS + 1):
        keys, positions, bases, masses, n_core = gather(job, block, region, rows)
        n_points += len(keys)
        tri = triangulate(positions, job.engine)
        failing = None if region.everything else _failures(job, region, tri, positions, n_core)
        certified = np.ones(n_core, dtype=bool) if failing is None else ~failing[0]
        parts.append(_part(job, block, keys, positions, bases, masses, tri, certified))
        if first_region is None:
            first_region = region.state()
        if failing is None:
            break
        failed_rounds.append(int(np.count_nonzero(failing[0])))
        all_rows = np.arange(job.counts[block]) if rows is None else rows
        rows = all_rows[failing[0]]
        region = _redo_region(job, region, positions[:n_core][failing[0]], failing[1], failing[2], len(positions))
        if rounds == MAX_ROUNDS - 1:
            region.everything = True  # the last round holds every point, so it is exact
    result = _merge(block, parts)
    result.region = first_region
    result.stats = {
        "n_core": len(result.core),
        "n_ghost": n_points - len(result.core),
        "rounds": rounds,
        "failed": failed_rounds,
        "seconds": time.perf_counter() - start,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_duplicates": sum(p.stats["n_duplicates"] for p in parts),
        "n_faces": len(result.faces),
    }
    return result


def _redo_region(
    job: Job, region: Region, failing: np.ndarray, cells: np.ndarray, spheres: tuple, budget: int
) -> Region:
    """The region for redoing failing points: a box round them, two shells thick.

    The cells of the points their failing spheres held are added. When that box would hold
    more points than the block, the block's region grows by those cells instead.
    """
    lower, upper = failing.min(axis=0) - 2 * region.shell, failing.max(axis=0) + 2 * region.shell
    lower, upper = np.maximum(lower, region.domain[0]), np.minimum(upper, region.domain[1])
    redo = Region((lower, upper), region.domain, region.counts)
    redo.shell = region.shell
    if np.all(np.isfinite(lower)) and np.all(np.isfinite(upper)) and redo.expected(redo.in_box_cells()) <= budget:
        redo.add(cells)
        return redo
    if region.expected(cells) > _MAX_GROWTH * budget:
        # The huge spheres at the edge of a too-thin shell reach everywhere and say
        # little about what is needed: double the shell instead.
        region.widen(region.shell)
        region.shell *= 2
    else:
        region.add(cells)
    return region


def _failures(
    job: Job, region: Region, tri, positions: np.ndarray, n_core: int
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]] | None:
    """None if every core point is certified.

    Otherwise the failing core points, the cells to add and the failing spheres' boxes.
    """
    tets = tri.simplices
    checked = np.flatnonzero((tets < n_core).any(axis=1))
    centres, radii = circumspheres(tri.points, tets[checked], positions.mean(axis=0))
    bad = np.flatnonzero(region.missing(centres, radii))
    want = region.cells_met(centres[bad], radii[bad])
    if len(bad) and np.isfinite(radii[bad]).all() and region.expected(want) <= _CHECK_BUDGET * len(positions):
        # Read the points out there. Spheres holding none of them are certified after all
        # (the large spheres of true tetrahedra in voids and near the hull); for the rest,
        # the cells of the points they hold join the region, and nothing else.
        _, beyond, _, _ = points_in(job, region.bounding_box_of(want), lambda x: region.in_cells(x, want))
        want = np.zeros_like(want)
        if len(beyond):
            held = cKDTree(beyond).query_ball_point(centres[bad], radii[bad])
            holds = np.array([len(h) > 0 for h in held], dtype=bool)
            inside = beyond[np.unique(np.concatenate([np.asarray(h, dtype=np.int64) for h in held]))]
            want[tuple(region.cells_of(inside).T)] = True
            bad = bad[holds]
        else:
            bad = bad[:0]
    failing = np.zeros(len(positions), dtype=bool)
    failing[tets[checked[bad]].ravel()] = True
    faces, inner = hull_faces(tets, tri.neighbors)
    at_core = (faces < n_core).any(axis=1)
    faces, inner = faces[at_core], inner[at_core]
    if job.layout.box_size is None:
        open_face = beyond_global_hull(positions, faces, inner, job.hull_points)
    else:
        open_face = np.ones(len(faces), dtype=bool)
    if open_face.any():  # cannot happen with the global hull among the ghosts; be safe
        failing[faces[open_face].ravel()] = True
        want = region.cells_met(np.zeros((1, 3)), np.array([np.inf]))
    failing = failing[_representatives(tri, len(positions))[:n_core]]  # a dropped duplicate follows its twin
    if not failing.any():
        return None
    lower, upper = centres[bad] - radii[bad, None], centres[bad] + radii[bad, None]
    if job.layout.box_size is None:
        lower, upper = np.maximum(lower, job.layout.bounds[0]), np.minimum(upper, job.layout.bounds[1])
    return failing, want, (lower, upper)


def _part(
    job: Job,
    block: int,
    keys: np.ndarray,
    positions: np.ndarray,
    bases: np.ndarray,
    masses: np.ndarray,
    tri,
    certified: np.ndarray,
) -> BlockResult:
    """One round's output: the certified core points' densities and the simplices they own."""
    tets = tri.simplices.astype(np.int32, copy=False)
    nbrs = tri.neighbors.astype(np.int32, copy=False)
    n_core = len(certified)
    volumes = tetrahedron_volumes(positions, tets)
    cells = contiguous_voronoi_volumes(tets, volumes, len(positions))
    rep = _representatives(tri, len(positions))
    merged = np.bincount(rep, weights=masses, minlength=len(positions))
    owner = np.zeros(len(keys), dtype=bool)
    owner[:n_core] = certified
    result = _emit(job, block, keys, positions, bases, tets, nbrs, volumes, owner)
    core_rep = rep[:n_core][certified]
    result.density = dtfe_density(merged[core_rep], cells[core_rep])
    result.cell_volume = cells[core_rep]
    if job.layout.box_size is None:
        result.hull = _hull_vertices(tets, nbrs, len(positions))[core_rep]
    else:
        result.hull = np.zeros(len(core_rep), dtype=bool)
    result.stats = {"n_duplicates": int(np.count_nonzero(core_rep != np.flatnonzero(certified)))}
    return result


def _merge(block: int, parts: list[BlockResult]) -> BlockResult:
    """One result from the rounds' parts (each core point certified in exactly one)."""
    if len(parts) == 1:
        return parts[0]
    keys, inverse = np.unique(np.concatenate([p.vertex_keys for p in parts]), return_inverse=True)
    position = np.empty((len(keys), 3))
    position[inverse] = np.concatenate([p.vertex_position for p in parts])
    offsets = np.cumsum([0] + [len(p.vertex_keys) for p in parts])
    remap = [inverse[offsets[i] : offsets[i + 1]].astype(np.int32) for i in range(len(parts))]
    return BlockResult(
        block=block,
        core=np.concatenate([p.core for p in parts]),
        density=np.concatenate([p.density for p in parts]),
        cell_volume=np.concatenate([p.cell_volume for p in parts]),
        hull=np.concatenate([p.hull for p in parts]),
        vertex_keys=keys,
        vertex_position=position,
        tetrahedra=np.concatenate([m[p.tetrahedra] for m, p in zip(remap, parts, strict=True)]),
        tet_volume=np.concatenate([p.tet_volume for p in parts]),
        faces=np.concatenate([m[p.faces] for m, p in zip(remap, parts, strict=True)]),
    )


def _emit(
    job: Job,
    block: int,
    keys: np.ndarray,
    positions: np.ndarray,
    bases: np.ndarray,
    tets: np.ndarray,
    nbrs: np.ndarray,
    volumes: np.ndarray,
    is_core: np.ndarray,
) -> BlockResult:
    """The tetrahedra and faces owned by the vertices marked ``is_core``, on a compact vertex list."""
    n = job.n_points
    origin, code = keys % n, keys // n
    owned_tets = _owned(tets, origin, is_core)
    faces = unique_faces(tets, nbrs)
    faces = faces[_owned(faces, origin, is_core)]
    face_keys = keys[faces]
    face_positions = None
    if job.layout.box_size is not None:
        face_keys, face_positions = _translates(job, bases[faces], origin[faces], code[faces])
    tet_keys = keys[tets[owned_tets]]
    vertex_keys, inverse = np.unique(np.concatenate([tet_keys.ravel(), face_keys.ravel()]), return_inverse=True)
    vertex_position = np.empty((len(vertex_keys), 3))
    n_tet_refs = tet_keys.size
    vertex_position[inverse[:n_tet_refs]] = positions[tets[owned_tets]].reshape(-1, 3)
    if face_positions is None:
        vertex_position[inverse[n_tet_refs:]] = positions[faces].reshape(-1, 3)
    else:
        vertex_position[inverse[n_tet_refs:]] = face_positions.reshape(-1, 3)
    return BlockResult(
        block=block,
        core=keys[is_core].copy(),
        density=np.empty(0),
        cell_volume=np.empty(0),
        hull=np.empty(0, dtype=bool),
        vertex_keys=vertex_keys,
        vertex_position=vertex_position,
        tetrahedra=inverse[:n_tet_refs].reshape(-1, 4).astype(np.int32),
        tet_volume=volumes[owned_tets],
        faces=inverse[n_tet_refs:].reshape(-1, 3).astype(np.int32),
    )


def _owned(simplices: np.ndarray, origin: np.ndarray, is_core: np.ndarray) -> np.ndarray:
    """Simplices whose vertex of smallest input index is one of this block's core points."""
    first = np.argmin(origin[simplices], axis=1)
    return is_core[simplices[np.arange(len(simplices)), first]]


def _translates(job: Job, base: np.ndarray, origin: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every translate of each face that reaches into the periodic box, as the single run has them.

    The single run draws each face of its padded tessellation whose bounding box meets the
    box, so a face across a side appears once per side it crosses.
    """
    box, width = job.layout.box_size, job.periodic_width
    if box is None or width is None:
        raise ValueError("translates exist only in a periodic box")
    lower = job.layout.bounds[0]
    n = job.n_points
    shift = IMAGE_SHIFTS[code]  # (F, 3, 3)
    out_keys, out_positions = [], []
    for t in product((-1.0, 0.0, 1.0), repeat=3):
        moved_shift = shift + np.array(t)
        ok = np.all(np.abs(moved_shift) <= 1, axis=(1, 2))
        moved = base + moved_shift * box
        ok &= np.all(moved.max(axis=1) >= lower, axis=1) & np.all(moved.min(axis=1) <= lower + box, axis=1)
        ok &= np.all(in_padding(base - lower, moved_shift, box, width), axis=1)
        if not ok.any():
            continue
        codes = _CODE_TABLE[(moved_shift[ok] + 1).astype(int) @ np.array([9, 3, 1])]
        out_keys.append(codes * n + origin[ok])
        out_positions.append(moved[ok])
    if not out_keys:
        return np.zeros((0, 3), dtype=np.int64), np.zeros((0, 3, 3))
    return np.concatenate(out_keys), np.concatenate(out_positions)
