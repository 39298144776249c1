"""Build a Delaunay tessellation and its DTFE density field from a point set."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
from scipy.spatial import Delaunay, QhullError

from delvol.errors import DegenerateInputError
from delvol.geometry.dtfe import contiguous_voronoi_volumes, dtfe_density, tetrahedron_volumes
from delvol.geometry.faces import hull_vertices, unique_faces
from delvol.geometry.periodic import DEFAULT_PADDING, MIN_PADDING, PeriodicImages, owned_tetrahedra, pad_periodic
from delvol.progress import QUIET, StageLog

QHULL_OPTIONS = "Qbb Qc Qz Q12 Qt"
"""SciPy's default for 3-D Delaunay, kept because no alternative was reliably faster.

``Qc`` is required: it reports the duplicate points that Qhull leaves out, so that their
masses can be merged. ``python -m benchmarks.bench_qhull_options`` measured CPU time
relative to this string, interleaved, median over rounds (1e5: 5 rounds; 1e6: 3):

===================  ===============  =============  ===============
options              1e5 clustered    1e5 Poisson    1e6 clustered
===================  ===============  =============  ===============
Qbb Qc Q12 Qt        1.03             0.99           1.01
Qc Qz Q12 Qt         1.00             0.97           1.54
Qbb Qc Qz Qt         1.00             0.97           1.01
Qbb Qc Qz Q12 Qt Qx  1.01             1.05           1.03
Qt Qc                1.00             0.98           0.99
===================  ===============  =============  ===============

Rounds scattered by up to ±10%, and every candidate passed the exact-lattice, duplicate and
real-snapshot checks. Adding Q3, Q5, Q8, Q10 or Q14 changed nothing (0.998–1.036, 1e5
Poisson). Single large outliers like the 1.54 say little about the options: Qhull's time on
one input swings that much with a mere shift of the coordinates (the 1e6 clustered set took
55 s as generated, 35 s shifted by 1e-3 or centred), so only gains on every data set count.
"""

# Exact lattices are co-spherical everywhere, and Qhull then splits each cube of eight
# points into tetrahedra by arbitrary tie-breaking, which gives neighbouring lattice points
# different cell volumes (27% scatter on a cubic lattice). Triangulating a slightly sheared
# copy breaks every tie the same way in every cell, because a linear map keeps a lattice a
# lattice, so the triangulation is translation invariant and a lattice gets exactly uniform
# density. Volumes are always measured on the unsheared points. For points in general
# position the shear changes nothing, except for configurations within 1e-6 (relative) of
# co-sphericity, where either triangulation is equally Delaunay.
SHEAR = np.eye(3) + 1e-6 * np.array(
    [[0.0, 0.3183098862, 0.1414213562], [0.2718281828, 0.0, 0.1732050808], [0.1154700538, 0.2236067977, 0.0]]
)

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
    """A triangulation for point location: Qhull's result, the input point each of its
    vertices stands for (periodic images map to their originals), and the frame centre."""

    tri: Delaunay
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
        periodic boundaries, where that neighbour's kept copy lies across the box.
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
    neighbors: np.ndarray
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
    # tessellate() keeps its Qhull result here, for density_at() and field_at(). benchmarks/bench_tessellate.py
    # puts that at ~295 bytes per point held (Qhull's equations and sheared points) next to
    # ~480 for the arrays above, and at nothing in peak memory, which Qhull's own ~2.4 kB
    # per point sets; dropping it would make the first interpolation rerun Qhull, ~95% of a
    # build, on top of the held tessellation.
    _locator: Locator | None = field(default=None, repr=False)

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
            options = self.info.get("qhull_options", QHULL_OPTIONS)
            if self.box_size is None:
                self._locator = Locator(
                    _delaunay(self.points, options), np.arange(len(self.points)), self.points.mean(axis=0)
                )
            else:
                images = pad_periodic(self.points[: self.n_primary], self.box_size, MIN_PADDING)
                self._locator = Locator(_delaunay(images.points, options), images.origin, images.points.mean(axis=0))
        return self._locator

    def arrays(self) -> dict[str, np.ndarray]:
        """The export arrays under :data:`ARRAY_KEYS`, plus ``origin``."""
        out = {key: getattr(self, key) for key in ARRAY_KEYS}
        out["origin"] = self.origin
        return out


def qhull_frame(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Map points into the centred, sheared frame that Qhull triangulates."""
    return (points - centre) @ SHEAR.T


def _delaunay(points: np.ndarray, options: str) -> Delaunay:
    if len(points) < 4:
        raise DegenerateInputError(f"DTFE needs at least 4 points, got {len(points)}")
    try:
        tri = Delaunay(qhull_frame(points, points.mean(axis=0)), qhull_options=options)
    except QhullError as exc:
        raise _explain_failure(points, exc) from exc
    if len(tri.simplices) == 0:
        raise _explain_failure(points, None)
    return tri


def _explain_failure(points: np.ndarray, exc: Exception | None) -> DegenerateInputError:
    distinct = len(np.unique(points, axis=0))
    if distinct < 4:
        return DegenerateInputError(f"only {distinct} distinct points; DTFE needs at least 4")
    centred = points - points.mean(axis=0)
    sv = np.linalg.svd(centred[:: max(1, len(points) // 100_000)], compute_uv=False)
    if sv[-1] <= 1e-9 * sv[0]:
        return DegenerateInputError("all points lie in a plane or on a line; DTFE needs 3-D extent")
    first = str(exc).strip().splitlines()[0] if exc is not None else "no tetrahedra"
    return DegenerateInputError(f"Qhull could not tessellate the points ({first})")


def _validate(points: np.ndarray, masses: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    pts = np.ascontiguousarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise DegenerateInputError(f"points must have shape (N, 3), got {pts.shape}")
    bad = ~np.isfinite(pts).all(axis=1)
    if bad.any():
        raise DegenerateInputError(
            f"{int(bad.sum())} of {len(pts)} points have NaN or inf coordinates (first at row {int(np.argmax(bad))})"
        )
    if masses is None:
        return pts, np.ones(len(pts))
    m = np.ascontiguousarray(masses, dtype=np.float64).reshape(-1)
    if len(m) != len(pts):
        raise DegenerateInputError(f"{len(m)} masses for {len(pts)} points")
    if not (np.isfinite(m).all() and (m >= 0).all()):
        raise DegenerateInputError("masses must be finite and non-negative")
    return pts, m


def _representatives(tri: Delaunay, n_points: int) -> np.ndarray:
    """For every point, the vertex whose cell stands for it (itself unless Qhull dropped it)."""
    rep = np.arange(n_points)
    if len(tri.coplanar):
        rep[tri.coplanar[:, 0]] = tri.coplanar[:, 2]
    return rep


def tessellate(
    points: np.ndarray,
    masses: np.ndarray | None = None,
    *,
    periodic: float | None = None,
    padding: float = DEFAULT_PADDING,
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
    n_buffer : int
        The last ``n_buffer`` points are buffer points (see :attr:`Tessellation.buffer`):
        their masses are taken as 0, so they close cells without adding mass. Not with
        ``periodic``.
    qhull_options : str
        Passed to :class:`scipy.spatial.Delaunay`; must include ``Qc``.
    log : StageLog
        Receives stage timings (and prints them when verbose).

    Returns
    -------
    Tessellation

    Raises
    ------
    DegenerateInputError
        NaN or inf coordinates, fewer than 4 distinct points, or points with no 3-D extent.
    """
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
    with log.stage("Delaunay (Qhull)"):
        tri = _delaunay(work, qhull_options)
    with log.stage("DTFE densities"):
        tets = tri.simplices.astype(np.int32, copy=False)
        volumes = tetrahedron_volumes(work, tets)
        cells = contiguous_voronoi_volumes(tets, volumes, len(work))
        origin = np.arange(len(work)) if images is None else images.origin
        # Every input point is represented by an input point (images map back to their
        # original), so its cell, merged mass and density all index the first n rows.
        rep = origin[_representatives(tri, len(work))[:n]]
        merged = np.bincount(rep, weights=m, minlength=n)
        rho = dtfe_density(merged, cells[:n])[rep]
        w = cells[:n][rep]
    with log.stage("faces"):
        if images is None:
            nbrs = tri.neighbors.astype(np.int32, copy=False)
            hull = hull_vertices(tets, nbrs, n)[rep]
            faces = unique_faces(tets, nbrs)
            used = np.arange(n)
        else:
            tets, nbrs, volumes, faces, used = _keep_owned(tets, tri.neighbors, volumes, images)
            hull = np.zeros(len(used), dtype=bool)
    origin = origin[used]  # per-vertex arrays: inputs first, then images repeating their originals
    info = {
        "n_input": n,
        "qhull_options": qhull_options,
        "periodic": periodic,
        "padding": padding if periodic is not None else None,
        "n_duplicates": int(np.count_nonzero(rep != np.arange(n))),
        "n_images": int(len(used) - n),
        "n_buffer": int(n_buffer),
    }
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
        _locator=Locator(tri, np.arange(n) if images is None else images.origin, work.mean(axis=0)),
    )


def _keep_owned(
    tets: np.ndarray, neighbors: np.ndarray, volumes: np.ndarray, images: PeriodicImages
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep one copy of each periodic tetrahedron, pick the faces in the box, renumber.

    Returns the kept tetrahedra and neighbours (a neighbour that was dropped becomes -1),
    their volumes, the faces, and the padded-point index of each new vertex: all input
    points first, then the images that kept tetrahedra or the faces use.

    The faces are those of the padded triangulation that reach into the box, not those
    of the kept tetrahedra: the kept set tiles one period with a ragged outline, while
    these faces, clipped to the box when drawn, show every face of the periodic
    tessellation inside the box exactly once.
    """
    keep = owned_tetrahedra(tets, images)
    new_tet = np.cumsum(keep, dtype=np.int64) - 1
    nbrs = neighbors[keep]
    valid = nbrs >= 0
    valid[valid] = keep[nbrs[valid]]
    nbrs = np.where(valid, new_tet[np.maximum(nbrs, 0)], -1).astype(np.int32)
    kept = tets[keep]
    faces = _faces_in_box(unique_faces(tets, neighbors), images)
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
