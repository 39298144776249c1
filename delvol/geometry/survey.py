"""Survey geometry: the volume a redshift survey observed, and buffer points round it.

A survey sees a cone of the sky (its angular footprint, :class:`~delvol.io.mask.Footprint`)
between two distances (its redshift limits), with the observer at the origin. Delaunay
cells of galaxies at the edges of that volume reach out into what was not observed, so
their DTFE densities come out too low. The textbook remedy surrounds the volume with
random buffer points at the survey's mean density; on clustered data that is not enough
(a galaxy in a filament at the edge then sees a void-like neighbourhood beyond it).

:func:`boundary_buffer` instead *reflects* the galaxies near each boundary across it, so
the buffer carries the local clustering of the galaxies it borders:

- **Angular**: a galaxy within ``width`` (comoving) of the footprint's edge is mirrored
  across the nearest edge point ``b`` on the sky (``u' = 2 (u·b) b - u``, same distance
  from the observer). An image is kept only when it lands outside the footprint and no
  other part of the footprint is nearer to it than ``b``, so images from the two sides of
  a hole or a gap meet in its middle instead of piling up.
- **Radial**: galaxies (and angular images) within ``width`` of a distance limit are
  mirrored across it at equal enclosed volume (``r'^3 = 2 r_lim^3 - r^3``), which keeps a
  uniform density uniform.

``treatment="random"`` gives the textbook buffer instead, for comparison
(``benchmarks/bench_survey_boundary.py``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from delvol.io.mask import Footprint

TREATMENTS = ("reflect", "random")
DEFAULT_WIDTH = 3.0
"""Buffer thickness in mean galaxy spacings: enough to close every edge galaxy's cell."""
_MAX_SAMPLE_NSIDE = 512
_SAMPLES_Q = 4  # sky samples per mask element, across
_BISECTIONS = 20
_SPACING_NEIGHBOURS = 8
_JITTER_TRIES = 8
JITTER = 0.65
"""Random move of each reflected image, in units of its galaxy's local spacing."""


@dataclass(frozen=True)
class Survey:
    """The observed volume: a footprint between comoving distances ``r_min`` and ``r_max``."""

    footprint: Footprint
    r_min: float
    r_max: float

    def contains(self, positions: np.ndarray) -> np.ndarray:
        """Whether each point (observer at the origin) lies in the observed volume."""
        r, ra, dec = to_sky(positions)
        return (r >= self.r_min) & (r <= self.r_max) & self.footprint.contains(ra, dec)

    @property
    def volume(self) -> float:
        return self.footprint.area_sr / 3 * (self.r_max**3 - self.r_min**3)


@dataclass
class Buffer:
    """Buffer points round a survey and how they were made.

    Attributes
    ----------
    points : ndarray, shape (M, 3)
    treatment : str
        One of :data:`TREATMENTS`.
    width : float
        Thickness of the buffer layer (comoving, the points' units).
    spacing : float
        The survey's mean galaxy spacing, (volume / N)^(1/3).
    counts : dict
        Buffer points by origin (``angular``, ``far``, ``near`` for reflections; ``random``).
    """

    points: np.ndarray
    treatment: str
    width: float
    spacing: float
    counts: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for ``delvol info``."""
        parts = ", ".join(f"{k} {v:,}" for k, v in self.counts.items())
        how = "galaxies reflected across the edges" if self.treatment == "reflect" else "random at the mean density"
        return (
            f"{len(self.points):,} buffer points ({how}: {parts}), {self.width:.3g} thick "
            f"({self.width / self.spacing:.3g} mean spacings of {self.spacing:.3g})"
        )


def to_sky(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance, RA and Dec (degrees) of Cartesian positions, x towards RA = Dec = 0, z north."""
    p = np.asarray(positions, dtype=np.float64)
    r = np.linalg.norm(p, axis=1)
    ra = np.degrees(np.arctan2(p[:, 1], p[:, 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(p[:, 2] / np.where(r > 0, r, 1.0), -1.0, 1.0)))
    return r, ra, dec


def unit_vectors(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Unit vectors towards (RA, Dec) in degrees."""
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def boundary_buffer(
    positions: np.ndarray,
    survey: Survey,
    treatment: str = "reflect",
    width: float = DEFAULT_WIDTH,
    seed: int = 0,
) -> Buffer:
    """Buffer points outside ``survey`` that close the cells of its edge galaxies.

    Parameters
    ----------
    positions : ndarray, shape (N, 3)
        The galaxies, all inside the survey volume, observer at the origin.
    survey : Survey
    treatment : {"reflect", "random"}
        Mirror images of the edge galaxies (the default), or Poisson points at the mean
        density.
    width : float
        Buffer thickness in mean galaxy spacings.
    seed : int
        Seed of the random treatment.
    """
    if treatment not in TREATMENTS:
        raise ValueError(f"treatment must be one of {', '.join(TREATMENTS)}, got {treatment!r}")
    pos = np.asarray(positions, dtype=np.float64)
    spacing = float(np.cbrt(survey.volume / len(pos)))
    thickness = width * spacing
    edge = _SkyEdge(survey.footprint)
    if treatment == "random":
        points = _random_buffer(survey, edge, len(pos) / survey.volume, thickness, seed)
        return Buffer(points, treatment, thickness, spacing, {"random": len(points)})
    angular, source = _reflect_across_edges(pos, edge, thickness)
    both = np.concatenate([pos, angular])
    both_source = np.concatenate([np.arange(len(pos)), source])
    r = np.linalg.norm(both, axis=1)
    parts = {"angular": (angular, source)}
    images, index = _reflect_radially(both, r, survey.r_max, thickness)
    parts["far"] = (images, both_source[index])
    if survey.r_min > 0:
        images, index = _reflect_radially(both, r, survey.r_min, thickness)
        parts["near"] = (images, both_source[index])
    points = np.concatenate([images for images, _ in parts.values()])
    sources = np.concatenate([src for _, src in parts.values()])
    # An exact mirror image is not a fair sample: measured on Poisson points, galaxies
    # next to a mirror get DTFE densities ~8% low. Moving each image at random by a
    # fraction of its galaxy's local spacing keeps the clustering on larger scales and
    # removes that bias; an image the move would carry back into the survey stays put.
    rng = np.random.default_rng(seed)
    sigma = JITTER * local_spacing(pos)[sources]
    pending = np.arange(len(points))
    for _ in range(_JITTER_TRIES):  # a move that lands back in the survey is drawn again
        moved = points[pending] + rng.normal(size=(len(pending), 3)) * sigma[pending, None]
        back = survey.contains(moved)
        points[pending[~back]] = moved[~back]
        pending = pending[back]
    # Mirrors across a curved edge crowd their images (into a hole) or thin them (off a
    # convex rim). Images then keep the density of their galaxies where they crowd: each
    # survives with the ratio of the local densities, measured on galaxies and images.
    union = cKDTree(np.concatenate([pos, points]))
    d_image = union.query(points, k=_SPACING_NEIGHBOURS + 1)[0][:, -1]
    d_source = union.query(pos, k=_SPACING_NEIGHBOURS + 1)[0][:, -1][sources]
    keep = rng.random(len(points)) < (d_image / d_source) ** 3
    kind = np.repeat(np.arange(len(parts)), [len(images) for images, _ in parts.values()])
    counts = {key: int(np.count_nonzero(keep & (kind == i))) for i, key in enumerate(parts)}
    return Buffer(points[keep], treatment, thickness, spacing, counts)


class _SkyEdge:
    """The footprint's edge, sampled on a HEALPix grid finer than the mask.

    ``edge`` holds unit vectors halfway between each observed sample and its unobserved
    neighbours; ``inside`` the observed samples. Both are k-d trees of unit vectors.
    """

    def __init__(self, footprint: Footprint) -> None:
        from astropy_healpix import HEALPix

        self.footprint = footprint
        nside = 1
        while (
            nside < _MAX_SAMPLE_NSIDE
            and np.degrees(np.sqrt(4 * np.pi / (12 * nside**2))) > footprint.resolution_deg / _SAMPLES_Q
        ):
            nside *= 2
        hp = HEALPix(nside, "nested")
        lon, lat = hp.healpix_to_lonlat(np.arange(hp.npix))
        ra, dec = lon.deg, lat.deg
        observed = footprint.contains(ra, dec)
        inner = np.flatnonzero(observed)
        with np.errstate(invalid="ignore"):  # astropy-healpix compares NaNs for the 8 pixels with 7 neighbours
            neighbours = np.asarray(hp.neighbours(inner))  # (8, n); -1 where a pixel has only 7
        valid = neighbours >= 0
        outside = valid & ~observed[np.maximum(neighbours, 0)]
        a = np.broadcast_to(inner, neighbours.shape)[outside]
        b = neighbours[outside]
        units = unit_vectors(ra, dec)
        mid = units[a] + units[b]
        self.pixel = float(np.sqrt(4 * np.pi / hp.npix))  # radians
        self.edge = cKDTree(mid / np.linalg.norm(mid, axis=1)[:, None]) if len(mid) else None
        self.inside = cKDTree(units[inner])

    def contains(self, units: np.ndarray) -> np.ndarray:
        _, ra, dec = to_sky(units)
        return self.footprint.contains(ra, dec)


def edge_depth(positions: np.ndarray, footprint: Footprint) -> np.ndarray:
    """Comoving distance from each point inside the footprint's cone to the cone's side."""
    edge = _SkyEdge(footprint)
    pos = np.asarray(positions, dtype=np.float64)
    r = np.linalg.norm(pos, axis=1)
    if edge.edge is None:
        return np.full(len(pos), np.inf)
    chord, _ = edge.edge.query(pos / np.where(r > 0, r, 1.0)[:, None])
    theta = _angle(chord)
    return np.where(theta < np.pi / 2, r * np.sin(theta), r)


def _angle(chord: np.ndarray) -> np.ndarray:
    return 2 * np.arcsin(np.clip(chord / 2, 0.0, 1.0))


def _reflect_across_edges(pos: np.ndarray, edge: _SkyEdge, thickness: float) -> tuple[np.ndarray, np.ndarray]:
    """Angular mirror images, and the index of the galaxy each one mirrors."""
    if edge.edge is None:  # the whole sky
        return np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    r = np.linalg.norm(pos, axis=1)
    u = pos / np.where(r > 0, r, 1.0)[:, None]
    chord, nearest = edge.edge.query(u)
    theta = _angle(chord)
    depth = np.where(theta < np.pi / 2, r * np.sin(theta), r)  # distance to the edge's cone
    near = np.flatnonzero((depth < thickness) & (r > 0) & (theta > 0))
    b = edge.edge.data[nearest[near]]
    # The sampled edge point gives the direction to the edge; the crossing itself is found
    # exactly on the footprint along that great circle, by bisection.
    toward = b - u[near] * np.sum(u[near] * b, axis=1)[:, None]
    toward /= np.linalg.norm(toward, axis=1)[:, None]
    lo, hi = np.zeros(len(near)), theta[near] + edge.pixel
    outside_at_hi = ~edge.contains(_along(u[near], toward, hi))
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        out = ~edge.contains(_along(u[near], toward, mid))
        hi = np.where(out, mid, hi)
        lo = np.where(out, lo, mid)
    crossing = np.where(outside_at_hi, hi, theta[near])
    image = _along(u[near], toward, 2 * crossing)
    keep = ~edge.contains(image)
    # Keep an image only when the footprint is nowhere nearer to it than the edge it was
    # mirrored across: in a gap narrower than two buffer widths, each side fills its half.
    gap_chord, _ = edge.inside.query(image)
    keep &= _angle(gap_chord) >= crossing - 0.5 * edge.pixel
    return image[keep] * r[near][keep, None], near[keep]


def _along(u: np.ndarray, toward: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Unit vectors ``angle`` radians from ``u`` along the great circle towards ``toward`` (⟂ u)."""
    return u * np.cos(angle)[:, None] + toward * np.sin(angle)[:, None]


def _reflect_radially(
    points: np.ndarray, r: np.ndarray, limit: float, thickness: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror the points within ``thickness`` of the sphere of radius ``limit`` across it
    at equal enclosed volume; also return which point each image mirrors."""
    near = np.flatnonzero(np.abs(r - limit) < thickness)
    mirrored = 2 * limit**3 - r[near] ** 3
    ok = mirrored > 0
    near = near[ok]
    scale = np.cbrt(mirrored[ok]) / r[near]
    return points[near] * scale[:, None], near


def local_spacing(positions: np.ndarray, k: int = _SPACING_NEIGHBOURS) -> np.ndarray:
    """Each point's local mean spacing, from the distance to its k-th nearest neighbour."""
    d, _ = cKDTree(positions).query(positions, k=k + 1)
    return d[:, -1] * np.cbrt(4 * np.pi / (3 * k))


def _random_buffer(survey: Survey, edge: _SkyEdge, density: float, thickness: float, seed: int) -> np.ndarray:
    """Poisson points at ``density`` within ``thickness`` outside the survey volume."""
    rng = np.random.default_rng(seed)
    r_out = survey.r_max + thickness
    r_in = max(survey.r_min - thickness, 0.0)
    n = rng.poisson(density * 4 / 3 * np.pi * (r_out**3 - r_in**3))
    r = np.cbrt(rng.uniform(r_in**3, r_out**3, n))
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    observed = edge.contains(u)
    depth = np.where(observed, 0.0, np.inf)
    # Nearest-neighbour searches far from every sample are slow, so each shell of
    # distances searches only as far as the buffer reaches at its inner radius.
    shells = np.quantile(r, np.linspace(0, 1, 9))
    for lo, hi in itertools.pairwise(shells):
        part = np.flatnonzero(~observed & (r >= lo) & (r <= hi))
        reach = np.pi / 2 if lo <= thickness else np.arcsin(thickness / lo)
        chord, _ = edge.inside.query(u[part], distance_upper_bound=2 * np.sin(reach / 2) + edge.pixel)
        theta = _angle(chord)
        depth[part] = np.where(theta < np.pi / 2, r[part] * np.sin(theta), r[part])
    in_range = (r >= survey.r_min) & (r <= survey.r_max)
    keep = (depth < thickness) & ~(observed & in_range)
    return u[keep] * r[keep, None]
