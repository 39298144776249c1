"""Build a Delaunay tessellation and its DTFE density field from a point set."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from delvol.errors import DegenerateInputError
from delvol.geometry.dtfe import contiguous_voronoi_volumes, dtfe_density, tetrahedron_volumes
from delvol.geometry.engines import ENGINES, Triangulation, engine_frame, locating_engine, resolve_engine
from delvol.geometry.engines.failure import check_count
from delvol.geometry.engines.scipy_qhull import QHULL_OPTIONS
from delvol.geometry.faces import neighbors_from_tetrahedra, oriented_faces, unique_faces
from delvol.geometry.periodic import DEFAULT_PADDING, MIN_PADDING, PeriodicImages, owned_tetrahedra, pad_periodic
from delvol.progress import QUIET, StageLog

ARRAY_KEYS = (
    "points",
    "masses",
    "tetrahedra",
    "neighbors",
    "faces",
    "tet_volume",
    "cell_volume",
    "density",
    "hull",
    "buffer",
)
"""The arrays of a tessellation, under the names used by ``delvol tessellate`` exports."""


class Locator(NamedTuple):
    """A triangulation for point location: the engine's locator (Qhull's or shull's), the input point each of its
    vertices stands for (periodic images map to their originals), and the frame centre."""

    tri: Any
    origin: np.ndarray
    centre: np.ndarray


@dataclass(eq=False)
class Tessellation:
    """A Delaunay tessellation with DTFE densities.

    Attributes
    ----------
    points : ndarray, shape (N, 3), float64
        Vertex positions. With periodic boundaries the first ``n_primary`` rows are the
        input points (wrapped into the box) and the rest are the periodic images that the
        kept tetrahedra use; otherwise ``n_primary == N``.
    masses : ndarray, shape (N,), float64
        Mass of each input point (images repeat their original's mass).
    tetrahedra, neighbors : ndarray, shape (T, 4), int32
        Vertex indices, and the tetrahedron opposite each vertex: -1 on the hull, and, with
        periodic boundaries, where that neighbour's kept copy lies across the box. Engines
        that report no neighbours (gmsh) leave them to be derived on first access.
    faces : ndarray, shape (F, 3), int32
        Every triangle once. With periodic boundaries: every face of the periodic
        tessellation that reaches into the box, once, for drawing clipped to the box.
    tet_volume : ndarray, shape (T,), float64
    cell_volume : ndarray, shape (N,), float64
        W_i, the contiguous Voronoi volume: total volume of the tetrahedra touching i.
        Duplicate points share the cell of the vertex that Qhull kept.
    density : ndarray, shape (N,), float64
        DTFE density 4 m_i / W_i. Duplicates carry the density of their kept twin, whose
        mass includes theirs.
    hull : ndarray, shape (N,), bool
        Points on the convex hull, whose cells are truncated. Always false when periodic.
    buffer : ndarray, shape (N,), bool, optional
        (Default: none.) Buffer points round a survey (:mod:`delvol.geometry.survey`): they come right after
        the input points, close the cells of the galaxies at the survey's edges, have no
        mass and no density, and are never drawn, nor any face that touches them.
    origin : ndarray, shape (N,), int64
        For each vertex, the input point it stands for (the identity without periodicity).
    box_size : float or None
        Side of the periodic box, or None.
    box_lower : ndarray, shape (3,), or None
        Lower corner of the periodic box, or None.
    info : dict
        Options and counts describing how the tessellation was made.
    """

    points: np.ndarray
    masses: np.ndarray
    tetrahedra: np.ndarray
    neighbors: np.ndarray | None = field(repr=False)  # a property below: derived on first use if None
    faces: np.ndarray
    tet_volume: np.ndarray
    cell_volume: np.ndarray
    density: np.ndarray
    hull: np.ndarray
    origin: np.ndarray
    box_size: float | None = None
    box_lower: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # tessellate() keeps the engine's result here when it can locate points (Qhull's or
    # shull's), for density_at() and field_at(). benchmarks/bench_tessellate.py puts Qhull's at ~295 bytes
    # per point held (its equations and sheared points) next to ~480 for the arrays above,
    # and at nothing in peak memory, which Qhull's own ~2.4 kB per point sets; dropping it
    # would make the first interpolation rerun Qhull, ~95% of a build.
    _locator: Locator | None = field(default=None, repr=False)
    _neighbors: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.buffer) != len(self.points):  # none given: no buffer points
            self.buffer = np.zeros(len(self.points), dtype=bool)

    @cached_property
    def n_primary(self) -> int:
        """Number of input points (the leading rows of every per-point array), buffers excluded."""
        return int(np.count_nonzero(self.origin == np.arange(len(self.origin)))) - int(np.count_nonzero(self.buffer))

    @property
    def face_on_buffer(self) -> np.ndarray:
        """Faces with a buffer vertex, which are never drawn."""
        return self.buffer[self.faces].any(axis=1)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The region the data fills: the periodic box, or the bounding box of the inputs."""
        if self.box_size is not None and self.box_lower is not None:
            return self.box_lower, self.box_lower + self.box_size
        primary = self.points[: self.n_primary]
        return primary.min(axis=0), primary.max(axis=0)

    @property
    def face_on_hull(self) -> np.ndarray:
        """Faces with at least one hull vertex: their densities are biased, so hide them."""
        return self.hull[self.faces].any(axis=1)

    @property
    def locator(self) -> Locator:
        """A Delaunay triangulation for point location, and the input point of each vertex.

        Built on first use, unless :func:`tessellate` kept its own. A periodic box is
        padded again so that the triangulation covers the whole box.
        """
        if self._locator is None:
            if self.box_size is None:
                points, origin = self.points, np.arange(len(self.points))
            else:
                images = pad_periodic(self.points[: self.n_primary], self.box_size, MIN_PADDING)
                points, origin = images.points, images.origin
            centre = points.mean(axis=0)
            name = locating_engine(self.info.get("engine", "scipy"))
            options = {"qhull_options": self.info.get("qhull_options", QHULL_OPTIONS)} if name == "scipy" else {}
            tri = ENGINES[name].triangulate(engine_frame(points, centre), **options)
            self._locator = Locator(tri.locator, origin, centre)
        return self._locator

    def arrays(self, *, derive: bool = True) -> dict[str, np.ndarray]:
        """The export arrays under :data:`ARRAY_KEYS`, plus ``origin``.

        With ``derive=False``, neighbours that were never computed are left out instead.
        """
        keys = [key for key in ARRAY_KEYS if derive or key != "neighbors" or self._neighbors is not None]
        out = {key: getattr(self, key) for key in keys}
        out["origin"] = self.origin
        return out


MAX_COORDINATE = 1e150
"""Largest coordinate magnitude tessellated: Qhull squares coordinates, and 1e154 squared overflows."""


def _get_neighbors(self: Tessellation) -> np.ndarray:
    if self._neighbors is None:
        self._neighbors = neighbors_from_tetrahedra(self.tetrahedra)
    return self._neighbors


def _set_neighbors(self: Tessellation, value: np.ndarray | None) -> None:
    self._neighbors = value


# Set after the dataclass is made, so that its __init__ still takes ``neighbors`` (or None)
# and stores it through the setter, while reading it derives the table when it is missing:
# matching faces costs more than gmsh's whole run, and drawing never needs it.
Tessellation.neighbors = property(  # type: ignore[assignment]  # mypy cannot see a property set after the class
    _get_neighbors, _set_neighbors, doc="The neighbour table, derived if needed."
)


def _validate(points: np.ndarray, masses: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    pts = np.ascontiguousarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise DegenerateInputError(f"points must have shape (N, 3), got {pts.shape}")
    bad = ~np.isfinite(pts).all(axis=1)
    if bad.any():
        raise DegenerateInputError(
            f"{int(bad.sum())} of {len(pts)} points have NaN or inf coordinates (first at row {int(np.argmax(bad))})"
        )
    largest = float(np.abs(pts).max(initial=0.0))
    if largest > MAX_COORDINATE:
        raise DegenerateInputError(
            f"coordinates reach {largest:.3g}; beyond ±{MAX_COORDINATE:g} the squared distances Qhull forms "
            "overflow float64, so rescale them"
        )
    if masses is None:
        return pts, np.ones(len(pts))
    m = np.ascontiguousarray(masses, dtype=np.float64).reshape(-1)
    if len(m) != len(pts):
        raise DegenerateInputError(f"{len(m)} masses for {len(pts)} points")
    if not (np.isfinite(m).all() and (m >= 0).all()):
        raise DegenerateInputError("masses must be finite and non-negative")
    return pts, m


def representatives(tri: Triangulation, n_points: int) -> np.ndarray:
    """For every point, the vertex whose cell stands for it (itself unless the engine dropped it)."""
    rep = np.arange(n_points)
    rep[tri.dropped[:, 0]] = tri.dropped[:, 1]
    return rep


def tessellate(
    points: np.ndarray,
    masses: np.ndarray | None = None,
    *,
    periodic: float | None = None,
    padding: float = DEFAULT_PADDING,
    engine: str = "auto",
    n_buffer: int = 0,
    qhull_options: str = QHULL_OPTIONS,
    log: StageLog = QUIET,
) -> Tessellation:
    """Tessellate ``points`` and compute DTFE densities.

    Parameters
    ----------
    points : array_like, shape (N, 3)
    masses : array_like, shape (N,), optional
        Defaults to unit masses.
    periodic : float, optional
        Side length of a periodic box. The points are wrapped into the box, a shell of
        images ``padding`` mean spacings thick is added on every side, and one copy of each
        tetrahedron of the resulting periodic tessellation is kept, so no point is on a hull.
    padding : float
        Shell thickness in mean interparticle spacings (at least 3.4).
    engine : {"auto", "scipy", "shull", "gmsh"}
        The Delaunay engine (see :mod:`delvol.geometry.engines`); ``auto`` is the fastest
        one installed. Every engine gives the same result; ``info["engine"]`` says which ran.
    n_buffer : int
        The last ``n_buffer`` points are buffer points (see :attr:`Tessellation.buffer`):
        their masses are taken as 0, so they close cells without adding mass. Not with
        ``periodic``.
    qhull_options : str
        Passed to :class:`scipy.spatial.Delaunay` by the ``scipy`` engine; must include ``Qc``.
    log : StageLog
        Receives stage timings (and prints them when verbose).

    Returns
    -------
    Tessellation

    Raises
    ------
    DegenerateInputError
        NaN or inf coordinates, fewer than 4 distinct points, or points with no 3-D extent.
    DelvolError
        An unknown engine, or one that is not installed.
    """
    name = resolve_engine(engine)
    pts, m = _validate(points, masses)
    n = len(pts)
    if n_buffer:
        if periodic is not None:
            raise ValueError("buffer points and periodic boundaries exclude each other")
        if not 0 < n_buffer < n:
            raise ValueError(f"{n_buffer} buffer points of {n}")
        m = m.copy()
        m[n - n_buffer :] = 0.0
    images = None
    if periodic is not None:
        with log.stage("periodic padding"):
            images = pad_periodic(pts, float(periodic), padding)
            pts = images.points[:n]
        work = images.points
    else:
        work = pts
    check_count(work)
    centre = work.mean(axis=0)
    framed = engine_frame(work, centre)
    with log.stage(f"Delaunay ({name})"):
        tri = ENGINES[name].triangulate(framed, **({"qhull_options": qhull_options} if name == "scipy" else {}))
    with log.stage("DTFE densities"):
        tets = tri.tetrahedra
        volumes = tetrahedron_volumes(work, tets)
        cells = contiguous_voronoi_volumes(tets, volumes, len(work))
        origin = np.arange(len(work)) if images is None else images.origin
        # Every input point is represented by an input point (images map back to their
        # original), so its cell, merged mass and density all index the first n rows.
        rep = origin[representatives(tri, len(work))[:n]]
        merged = np.bincount(rep, weights=m, minlength=n)
        rho = dtfe_density(merged, cells[:n])[rep]
        w = cells[:n][rep]
        del cells
    with log.stage("faces"):
        on_hull = hull_candidates(framed)
        del framed
        faces = faces_of(tri, on_hull)
        if images is None:
            hull = on_hull[rep]
            nbrs = tri.neighbors
            used = np.arange(n)
        else:
            tets, nbrs, volumes, faces, used = _keep_owned(tri, faces, volumes, images)
            hull = np.zeros(len(used), dtype=bool)
    origin = origin[used]  # per-vertex arrays: inputs first, then images repeating their originals
    info = {
        "n_input": n,
        "engine": name,
        **({"qhull_options": qhull_options} if name == "scipy" else {}),
        "periodic": periodic,
        "padding": padding if periodic is not None else None,
        "n_duplicates": int(np.count_nonzero(rep != np.arange(n))),
        "n_images": int(len(used) - n),
        "n_buffer": int(n_buffer),
    }
    locator = None
    if tri.locator is not None:
        locator = Locator(tri.locator, np.arange(n) if images is None else images.origin, centre)
    buffer = np.zeros(len(used), dtype=bool)
    buffer[n - n_buffer : n] = True
    return Tessellation(
        points=work[used],
        masses=m[origin],
        tetrahedra=tets,
        neighbors=nbrs,
        faces=faces,
        tet_volume=volumes,
        cell_volume=w[origin],
        density=rho[origin],
        hull=hull,
        buffer=buffer,
        origin=origin,
        box_size=None if images is None else images.box_size,
        box_lower=None if images is None else images.lower,
        info=info,
        _locator=locator,
    )


def faces_of(tri: Triangulation, on_hull: np.ndarray) -> np.ndarray:
    """Every face once, from the engine's neighbour table or else from orientation."""
    if tri.neighbors is not None:
        return unique_faces(tri.tetrahedra, tri.neighbors)
    try:
        return oriented_faces(tri.tetrahedra, on_hull)
    except ValueError:  # a hull vertex that Qhull's hull missed: match every face instead
        return oriented_faces(tri.tetrahedra, np.ones(len(on_hull), dtype=bool))


def hull_candidates(framed: np.ndarray) -> np.ndarray:
    """Points on the convex hull to within rounding: its vertices and Qhull's coplanar points.

    The hull flags of every engine, so that they agree: engines with exact predicates see
    the faces of a sheared lattice, flat to within rounding, as slightly dented and leave
    most of their points off the hull, although their cells are as truncated as the rest.
    Qhull's convex hull (not its Delaunay) takes a fraction of a second at 1e6 points, and
    includes every vertex of a hull face of the exact tessellation.
    """
    try:
        hull = ConvexHull(framed, qhull_options="Qc")
    except QhullError:
        return np.ones(len(framed), dtype=bool)
    mask = np.zeros(len(framed), dtype=bool)
    mask[hull.vertices] = True
    mask[hull.coplanar[:, 0]] = True
    return mask


def _keep_owned(
    tri: Triangulation, faces: np.ndarray, volumes: np.ndarray, images: PeriodicImages
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray]:
    """Keep one copy of each periodic tetrahedron, pick the faces in the box, renumber.

    Returns the kept tetrahedra and neighbours (a neighbour that was dropped becomes -1;
    None when the engine gave none, to be derived from the kept tetrahedra, which gives
    the same table), their volumes, the faces, and the padded-point index of each new
    vertex: all input points first, then the images that kept tetrahedra or the faces use.

    The faces are those of the padded triangulation that reach into the box, not those
    of the kept tetrahedra: the kept set tiles one period with a ragged outline, while
    these faces, clipped to the box when drawn, show every face of the periodic
    tessellation inside the box exactly once.
    """
    tets = tri.tetrahedra
    keep = owned_tetrahedra(tets, images)
    nbrs = None
    if tri.neighbors is not None:
        new_tet = np.cumsum(keep, dtype=np.int64) - 1
        nbrs = tri.neighbors[keep]
        valid = nbrs >= 0
        valid[valid] = keep[nbrs[valid]]
        nbrs = np.where(valid, new_tet[np.maximum(nbrs, 0)], -1).astype(np.int32)
    kept = tets[keep]
    faces = _faces_in_box(faces, images)
    n = images.n_primary
    used_images = np.unique(np.concatenate([kept[kept >= n], faces[faces >= n]]))
    used = np.concatenate([np.arange(n), used_images])
    new_vertex = np.full(len(images.points), -1, dtype=np.int64)
    new_vertex[used] = np.arange(len(used))
    return new_vertex[kept].astype(np.int32), nbrs, volumes[keep], new_vertex[faces].astype(np.int32), used


def _faces_in_box(faces: np.ndarray, images: PeriodicImages) -> np.ndarray:
    """The faces whose bounding box overlaps the periodic box."""
    lower = images.lower
    upper = lower + images.box_size
    corners = [images.points[faces[:, k]] for k in range(3)]
    reaches = np.all(np.maximum.reduce(corners) >= lower, axis=1) & np.all(np.minimum.reduce(corners) <= upper, axis=1)
    return faces[reaches]
