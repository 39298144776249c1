"""One block's share of the tessellation: its core points plus a certified ghost shell.

A block gathers every point (and, when periodic, every image) inside its core box grown
by a ghost shell, tessellates them, and certifies each core point: every tetrahedron
touching it must have an empty circumsphere, and every hull face touching it must be on
the hull of the whole set. A sphere inside the padded box is empty (the block holds every
point there); one reaching beyond it is searched in the cells it meets.

A core point that fails is redone in a small patch: the points it fails with, its
current neighbours, and the points found inside its spheres (or beyond its open hull
faces). Once a patch holds a point's true neighbours, the point's star is the single
run's; until then each round finds more of the points that are missing, so a few failures
cost a few small engine runs, not another run of the whole block.

Then each tetrahedron and face is emitted by exactly one block: the one owning its vertex
with the smallest input index (unshifted, when periodic), so that the union of the
blocks' output is the single run's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from delvol.blocks.certify import beyond_global_hull, circumspheres, hull_faces, probes
from delvol.blocks.job import Job
from delvol.blocks.lookup import (
    IMAGE_SHIFTS,
    Known,
    PointSet,
    cells_of,
    deepest,
    extent,
    in_spheres,
    padded,
    points_in,
    read_rows,
    translates,
)
from delvol.blocks.region import Region, local_spacing
from delvol.geometry.dtfe import contiguous_voronoi_volumes, dtfe_density, tetrahedron_volumes
from delvol.geometry.engines import ENGINES, Triangulation, engine_frame
from delvol.geometry.engines.failure import check_count
from delvol.geometry.faces import OPPOSITE, hull_sides
from delvol.geometry.periodic import in_padding
from delvol.geometry.tessellation import faces_of, hull_candidates, representatives
from delvol.memory import peak_rss

_CODE_TABLE = np.zeros(27, dtype=np.int64)  # image code by (sx + 1) * 9 + (sy + 1) * 3 + (sz + 1)
_CODE_TABLE[(IMAGE_SHIFTS + 1).astype(int) @ np.array([9, 3, 1])] = np.arange(27)
MAX_ROUNDS = 24
"""Patch rounds before the last, which holds every point (and so is exact by construction)."""
_SPHERES_PER_CHUNK = 1 << 18  # circumspheres computed at once: bounds their temporaries
_PROBES = 48  # an open face's probe sphere doubles its height this many times at most


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
        The padded box's :meth:`~delvol.blocks.region.Region.state`, to rebuild the
        block's point set (for sampling a grid).
    stats : dict
        ``n_core``, ``n_ghost`` (points tessellated besides the core, over all rounds),
        ``rounds``, ``failed`` (core points failing each round), ``n_found`` (points
        found beyond the shell), ``seconds``, ``peak_rss_mb`` (the worker process's
        high-water mark), ``n_duplicates``, ``n_faces``.
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


def without_simplices(result: BlockResult) -> BlockResult:
    """A block result without its tetrahedra and faces, to gather the per-point arrays cheaply."""
    return BlockResult(
        result.block,
        result.core,
        result.density,
        result.cell_volume,
        result.hull,
        np.zeros(0, dtype=np.int64),
        np.zeros((0, 3)),
        np.zeros((0, 4), dtype=np.int32),
        np.zeros(0),
        np.zeros((0, 3), dtype=np.int32),
        result.stats,
    )


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
    if np.all(box[0] <= lo) and np.all(box[1] >= hi):
        region.everything = True
    return region


def gather(job: Job, block: int, region: Region, *, hull: bool = False) -> tuple[PointSet, int]:
    """The block's core points, then every other point or image in the region; and the core count.

    With ``hull``, the vertices of the global hull join the ghosts, so that the block's
    hull is the global one (for locating grid samples anywhere in the data).
    """
    index, position, mass = (np.asarray(a) for a in job.core(block))
    ghosts = points_in(job, region.bounding_box(), region.contains, skip=block)
    parts = [PointSet(index, position, position, mass), ghosts]
    if hull:
        far = ~region.contains(job.hull_points) & (job.layout.assign(job.hull_points) != block)
        parts.append(PointSet(job.hull_index[far], job.hull_points[far], job.hull_points[far], job.hull_masses[far]))
    return PointSet.concat(parts), len(index)


def gather_shell(job: Job, block: int) -> tuple[PointSet, int, Known]:
    """The block's core points, then its ghost shell; the core count; where it holds every point.

    The shell is made of whole grid cells (those of every block translate near it), each
    taken when it lies within ``job.shell`` *local* mean spacings of the core box, and never
    beyond ``job.shell`` of the block's mean spacings (:func:`initial_shell`). In clustered
    data a cluster at a seam then gives a thin shell, where spheres are small, and a void a
    thick one, where they are large: a shell of the block's mean spacing everywhere took
    up to one ghost per core point at 1.2e6 points in 8 blocks.
    """
    index, position, mass = (np.asarray(a) for a in job.core(block))
    core = PointSet(index, position, position, mass)
    box = job.layout.box_of(block)
    cap = initial_shell(job, block)
    region = initial_region(job, block)
    cell, origin = job.cell_size, job.layout.bounds[0]
    spacing = local_spacing(region.counts, region.domain)
    parts, held = [core], {}
    for other, code, offset in translates(job, box[0] - cap, box[1] + cap):
        if other == block and code == 0:
            continue
        start, shape = job.cell_span(other)
        first = np.clip(cells_of(origin, cell, box[0] - cap - offset) - start, 0, shape - 1)
        last = np.clip(cells_of(origin, cell, box[1] + cap - offset) - start, 0, shape - 1)
        local = np.stack(
            np.meshgrid(*(np.arange(first[k], last[k] + 1) for k in range(3)), indexing="ij"), axis=-1
        ).reshape(-1, 3)
        lo = origin + (start + local) * cell + offset
        gap = np.maximum(box[0] - (lo + cell), 0.0) + np.maximum(lo - box[1], 0.0)
        width = np.minimum(job.shell * spacing(lo + cell / 2), cap)
        take = local[np.einsum("ij,ij->i", gap, gap) <= width * width]
        held[(other, code)] = np.sort((take[:, 0] * shape[1] + take[:, 1]) * shape[2] + take[:, 2])
        parts.append(read_rows(job, other, code, job.cell_rows(other, take + start, take + start)))
    return PointSet.concat([core, padded(job, PointSet.concat(parts[1:]))]), len(index), Known(box, held)


@dataclass(eq=False)
class BlockTriangulation:
    """An engine's triangulation of a block's points, with what the certification needs.

    ``points`` are the engine-frame coordinates the engine saw; ``on_hull`` marks the
    points on their convex hull (and those on it to within rounding), as a single run
    marks them. Without the engine's neighbour table, hull faces and unique faces come
    from those marks and the tetrahedra's orientation: matching all 4T faces to build
    the table would double a block's peak memory.
    """

    points: np.ndarray
    simplices: np.ndarray
    on_hull: np.ndarray
    result: Triangulation

    @property
    def dropped(self) -> np.ndarray:
        return self.result.dropped

    def hull(self) -> tuple[np.ndarray, np.ndarray]:
        """The hull triangles, and the fourth vertex of the tetrahedron behind each."""
        if self.result.neighbors is not None:
            return hull_faces(self.simplices, self.result.neighbors)
        try:
            tet, side = hull_sides(self.simplices, self.on_hull)
        except ValueError:  # a hull vertex that Qhull's hull missed: match every face instead
            tet, side = hull_sides(self.simplices, np.ones(len(self.on_hull), dtype=bool))
        return self.simplices[tet[:, None], OPPOSITE[side]], self.simplices[tet, side]

    def faces(self) -> np.ndarray:
        """Every face once."""
        return faces_of(self.result, self.on_hull)


def triangulate(positions: np.ndarray, engine: str) -> BlockTriangulation:
    """Triangulate ``positions`` with the (resolved) ``engine`` in the engines' common frame."""
    check_count(positions)
    framed = engine_frame(positions, positions.mean(axis=0))
    tri = ENGINES[engine].triangulate(framed)
    return BlockTriangulation(framed, tri.tetrahedra, hull_candidates(framed), tri)


@dataclass(eq=False)
class _Check:
    """One round's verdict: which of the points to certify fail, and what was missing.

    ``failing`` is over the points to certify; ``rows`` are known points (rows of the
    block's known set) that belong in the next patch; ``found`` are new points.
    """

    failing: np.ndarray
    rows: np.ndarray
    found: PointSet


def build_block(job: Job, block: int) -> BlockResult:
    """Tessellate one block, then redo the core points that fail certification in patches.

    The first round tessellates the whole block with its ghost shell. A patch holds the
    points still to certify first, then their current neighbours and the points missing
    around them; the last round, if ever reached, holds every point.
    """
    start = time.perf_counter()
    region = initial_region(job, block)
    if region.everything:  # the shell would hold every point: no need to certify
        known, n_core = gather(job, block, region)
        read = None
    else:
        known, n_core, read = gather_shell(job, block)
    patch, n_todo = np.arange(len(known)), n_core
    parts, failed_rounds, n_points, n_found = [], [], 0, 0
    for rounds in range(1, MAX_ROUNDS + 1):
        points = known.take(patch)
        n_points += len(patch)
        tri = triangulate(points.positions, job.engine)
        # Few points per failing sphere at first, more each round: most failures need only
        # one or two, but a wide lens along the hull needs many.
        check = None
        if read is not None and rounds < MAX_ROUNDS:
            check = _check(job, read, known, patch, n_todo, tri, 4 ** min(rounds, 4))
        certified = np.ones(n_todo, dtype=bool) if check is None else ~check.failing
        parts.append(_part(job, block, points, tri, certified))
        if check is None or not check.failing.any():
            break
        failed_rounds.append(int(np.count_nonzero(check.failing)))
        n_found += len(check.found)
        todo = patch[:n_todo][check.failing]
        if rounds == 1:  # the first patch: the failing points' neighbours; later ones only grow
            local = np.flatnonzero(np.concatenate([check.failing, np.zeros(len(patch) - n_todo, dtype=bool)]))
            kept = patch[np.unique(tri.simplices[np.isin(tri.simplices, local).any(axis=1)])]
        else:
            kept = patch
        del tri
        rows = np.concatenate([kept, check.rows, len(known) + np.arange(len(check.found))])
        known = PointSet.concat([known, check.found])
        if rounds == MAX_ROUNDS - 1:  # the last round holds every point, so it is exact
            everything = points_in(job, extent(job), lambda x: np.ones(len(x), dtype=bool))
            rows = len(known) + np.arange(len(everything))
            known = PointSet.concat([known, everything])
        others = np.setdiff1d(rows, todo)
        others = others[~np.isin(known.keys[others], known.keys[todo])]
        others = others[np.unique(known.keys[others], return_index=True)[1]]
        patch, n_todo = np.concatenate([todo, others]), len(todo)
    result = _merge(block, parts)
    result.region = region.state()
    result.stats = {
        "n_core": len(result.core),
        "n_ghost": n_points - len(result.core),
        "rounds": rounds,
        "failed": failed_rounds,
        "n_found": n_found,
        "seconds": time.perf_counter() - start,
        "peak_rss_mb": peak_rss() / 2**20,
        "n_duplicates": sum(p.stats["n_duplicates"] for p in parts),
        "n_faces": len(result.faces),
    }
    return result


def _check(
    job: Job,
    read: Known,
    known: PointSet,
    patch: np.ndarray,
    n_todo: int,
    tri: BlockTriangulation,
    keep: int,
) -> _Check:
    """Certify the first ``n_todo`` points of a patch (rows ``patch`` of ``known``).

    A tetrahedron touching one of them is certified when its circumsphere holds no point
    of ``known`` outside the patch and none where the block has not read every point
    (outside ``read``); a hull face, when it is on the global hull. The points found inside
    failing spheres, or inside probe spheres grown beyond open faces, join the next patch:
    ``keep`` of them per sphere, those nearest its centre.
    """
    positions = known.positions[patch]
    tets = tri.simplices
    checked = np.flatnonzero((tets < n_todo).any(axis=1))
    centre = positions.mean(axis=0)
    in_patch = np.zeros(len(known), dtype=bool)
    in_patch[patch] = True
    patch_only = len(patch) == len(known)
    known_keys = np.sort(known.keys)
    bounds = extent(job)
    bad = np.zeros(len(checked), dtype=bool)
    rows, found = [np.zeros(0, dtype=np.int64)], [PointSet.empty()]
    for begin in range(0, len(checked), _SPHERES_PER_CHUNK):
        part = slice(begin, begin + _SPHERES_PER_CHUNK)
        centres, radii = circumspheres(tri.points, tets[checked[part]], centre)
        finite = np.isfinite(radii) & np.all(np.isfinite(centres), axis=1)
        bad[part] = ~finite
        lower = np.maximum(centres - radii[:, None], bounds[0])
        upper = np.minimum(centres + radii[:, None], bounds[1])
        beyond = np.flatnonzero(finite & ~np.all((lower >= read.box[0]) & (upper <= read.box[1]), axis=1))
        extra, holds = in_spheres(job, centres[beyond], radii[beyond], read, known_keys, keep)
        found.append(extra)
        bad[part][beyond[holds]] = True
        if not patch_only:
            near = _known_inside(known, in_patch, centres[finite], radii[finite], keep)
            bad[part][np.flatnonzero(finite)[near[1]]] = True
            rows.append(near[0])
    failing = np.zeros(len(patch), dtype=bool)
    failing[tets[checked[bad]].ravel()] = True
    faces, inner = tri.hull()
    at_todo = (faces < n_todo).any(axis=1)
    faces, inner = faces[at_todo], inner[at_todo]
    if job.layout.box_size is None:
        # An open face has a vertex of the global hull beyond it: the farthest joins the
        # patch (a patch holding it cannot keep that face), and its own failing spheres
        # then pull in the points between.
        beyond = beyond_global_hull(positions, faces, inner, job.hull_points)
        open_face = beyond >= 0
        hull = np.unique(beyond[open_face])
        missing = PointSet(job.hull_index[hull], job.hull_points[hull], job.hull_points[hull], job.hull_masses[hull])
        have = np.isin(known.keys, missing.keys)
        rows.append(np.flatnonzero(have & ~in_patch))
        found.append(missing.take(np.flatnonzero(~np.isin(missing.keys, known.keys))))
    else:
        open_face = np.ones(len(faces), dtype=bool)
        if open_face.any():
            probe_rows, probe_found = _probe(
                job, read, known_keys, positions, faces[open_face], inner[open_face], known, in_patch, keep
            )
            rows.append(probe_rows)
            found.append(probe_found)
    failing[faces[open_face].ravel()] = True
    failing = failing[representatives(tri.result, len(positions))[:n_todo]]  # a dropped duplicate follows its twin
    new = PointSet.concat(found)
    new = new.take(np.unique(new.keys, return_index=True)[1])
    return _Check(failing, np.unique(np.concatenate(rows)), new)


def _known_inside(
    known: PointSet, in_patch: np.ndarray, centres: np.ndarray, radii: np.ndarray, keep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Known points outside the patch inside spheres: (the deepest rows, which spheres hold any)."""
    if not len(centres):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    reach = radii[:, None] * (1 + 1e-9)
    x = known.positions
    near = np.all((x >= (centres - reach).min(axis=0)) & (x <= (centres + reach).max(axis=0)), axis=1)
    outside = np.flatnonzero(near & ~in_patch)  # a patch's spheres are local: few known points can be in them
    if not len(outside):
        return np.zeros(0, dtype=np.int64), np.zeros(len(centres), dtype=bool)
    rows, holds = deepest(cKDTree(known.positions[outside]), centres, radii * (1 + 1e-9), keep)
    return outside[rows], holds


def _probe(
    job: Job,
    read: Known,
    known_keys: np.ndarray,
    positions: np.ndarray,
    faces: np.ndarray,
    inner: np.ndarray,
    known: PointSet,
    in_patch: np.ndarray,
    keep: int,
) -> tuple[np.ndarray, PointSet]:
    """Points beyond open hull faces: spheres through each face, grown outwards until one holds some."""
    rows, found = [np.zeros(0, dtype=np.int64)], [PointSet.empty()]
    todo = np.arange(len(faces))
    for height in range(_PROBES):
        if not len(todo):
            break
        centres, radii = probes(positions, faces[todo], inner[todo], 2.0**height)
        extra, holds = in_spheres(job, centres, radii, read, known_keys, keep)
        found.append(extra)
        if not in_patch.all():
            near, near_holds = _known_inside(known, in_patch, centres, radii, keep)
            rows.append(near)
            holds |= near_holds
        todo = todo[~holds]
    return np.unique(np.concatenate(rows)), PointSet.concat(found)


def _part(job: Job, block: int, points: PointSet, tri: BlockTriangulation, certified: np.ndarray) -> BlockResult:
    """One round's output: the certified core points' densities and the simplices they own."""
    keys, positions, bases, masses = points.keys, points.positions, points.bases, points.masses
    tets = tri.simplices.astype(np.int32, copy=False)
    n_core = len(certified)
    volumes = tetrahedron_volumes(positions, tets)
    cells = contiguous_voronoi_volumes(tets, volumes, len(positions))
    rep = representatives(tri.result, len(positions))
    merged = np.bincount(rep, weights=masses, minlength=len(positions))
    owner = np.zeros(len(keys), dtype=bool)
    owner[:n_core] = certified
    result = _emit(job, block, keys, positions, bases, tets, tri.faces(), volumes, owner)
    core_rep = rep[:n_core][certified]
    result.density = dtfe_density(merged[core_rep], cells[core_rep])
    result.cell_volume = cells[core_rep]
    if job.layout.box_size is None:
        result.hull = tri.on_hull[core_rep]
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
    faces: np.ndarray,
    volumes: np.ndarray,
    is_core: np.ndarray,
) -> BlockResult:
    """The tetrahedra and faces owned by the vertices marked ``is_core``, on a compact vertex list."""
    n = job.n_points
    origin, code = keys % n, keys // n
    owned_tets = _owned(tets, origin, is_core)
    faces = faces[_owned(faces, origin, is_core)]
    owned = tets[owned_tets]
    # The vertices used, as a mask over this round's points: np.unique over every corner
    # of every simplex would sort 20 int64 per point and set a block's peak memory.
    used = np.zeros(len(keys), dtype=bool)
    used[owned] = True
    periodic = job.layout.box_size is not None
    if not periodic:
        used[faces] = True
    rows = np.flatnonzero(used)
    if periodic:
        face_keys, face_positions = _face_translates(job, bases[faces], origin[faces], code[faces])
        vertex_keys, inverse = np.unique(np.concatenate([keys[rows], face_keys.ravel()]), return_inverse=True)
        vertex_position = np.empty((len(vertex_keys), 3))
        vertex_position[inverse[: len(rows)]] = positions[rows]
        vertex_position[inverse[len(rows) :]] = face_positions.reshape(-1, 3)
        renumber = inverse[: len(rows)]
        face_index = inverse[len(rows) :].reshape(-1, 3)
    else:
        order = np.argsort(keys[rows])
        rows, renumber = rows[order], np.arange(len(rows))
        vertex_keys, vertex_position = keys[rows], positions[rows]
    new = np.zeros(len(keys), dtype=np.int32)
    new[rows] = renumber
    if not periodic:
        face_index = new[faces]
    return BlockResult(
        block=block,
        core=keys[is_core].copy(),
        density=np.empty(0),
        cell_volume=np.empty(0),
        hull=np.empty(0, dtype=bool),
        vertex_keys=vertex_keys,
        vertex_position=vertex_position,
        tetrahedra=new[owned],
        tet_volume=volumes[owned_tets],
        faces=face_index.astype(np.int32, copy=False),
    )


def _owned(simplices: np.ndarray, origin: np.ndarray, is_core: np.ndarray) -> np.ndarray:
    """Simplices whose vertex of smallest input index is one of this block's core points."""
    first = np.argmin(origin[simplices], axis=1)
    return is_core[simplices[np.arange(len(simplices)), first]]


def _face_translates(job: Job, base: np.ndarray, origin: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
