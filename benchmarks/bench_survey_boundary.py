"""Survey-boundary bias of DTFE densities, with and without buffer points.

For each boundary treatment this prints the median DTFE density of galaxies at the
footprint's edge (within one mean spacing of the side of its cone) and of galaxies at the
far distance limit (within one mean spacing of it), each relative to the median density
of interior galaxies (more than three spacings from every boundary). 1.0 is unbiased.

Data sets:

* ``mock``: the AbacusSummit mini snapshot (../shared/data/nbody), tiled 4×4×4, seen from
  the centre, subsampled, and cut to a HEALPix nside-32 footprint with holes and to a
  distance range: clustered like the real universe, with a known exact footprint;
* ``poisson``: uniform random points in the same survey volume;
* ``dr7``: the SDSS DR7 volume-limited catalogue with its one-degree cell mask
  (../shared/data/catalogs), in Planck18 comoving Mpc/h.

Usage::

    python -m benchmarks.bench_survey_boundary [--sets mock,poisson,dr7]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from delvol.geometry import tessellate
from delvol.geometry.survey import Survey, boundary_buffer, edge_depth, unit_vectors
from delvol.io import LoadOptions, load_points
from delvol.io.mask import Footprint, read_mask
from delvol.io.sky import comoving_distance

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
MOCK_NSIDE = 32
MOCK_R = (8.0, 60.0)


def mock_footprint(seed: int = 3) -> Footprint:
    """A 40° cap round (RA, Dec) = (180°, 30°), cut at Dec 5° and with 8 round holes, at nside 32."""
    from astropy_healpix import HEALPix

    hp = HEALPix(MOCK_NSIDE, "ring")
    lon, lat = hp.healpix_to_lonlat(np.arange(hp.npix))
    units = unit_vectors(lon.deg, lat.deg)
    rng = np.random.default_rng(seed)
    centre = unit_vectors(np.array([180.0]), np.array([30.0]))[0]
    inside = (units @ centre > np.cos(np.radians(40))) & (lat.deg > 5)
    for hole in unit_vectors(rng.uniform(150, 210, 8), rng.uniform(15, 50, 8)):
        inside &= units @ hole < np.cos(np.radians(rng.uniform(1.5, 3.0)))
    return Footprint("healpix", MOCK_NSIDE, "ring", inside, "mock nside 32")


def _tiled_abacus() -> np.ndarray:
    box = np.load(SHARED / "nbody" / "mini_n64_l32_z0_pos_float32.npy").astype(np.float64)
    shifts = np.stack(np.meshgrid(*[np.arange(-3, 3) * 32.0 + 16.0] * 3, indexing="ij"), -1).reshape(-1, 3)
    return np.concatenate([box + s for s in shifts])


def _poisson_sphere(radius: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-radius, radius, (int(n * 6 / np.pi * 1.05), 3))
    return pts[np.linalg.norm(pts, axis=1) < radius][:n]


def mock(footprint: Footprint, clustered: bool, n_target: int = 60_000, seed: int = 1):
    """Galaxies in the mock survey, plus every galaxy of the same sample round it.

    The second set holds the first (as its leading rows) and the galaxies beyond the
    survey's boundaries out to ``TRUTH_MARGIN`` spacings: tessellated, it gives each survey
    galaxy the density it would have without the boundary.
    """
    survey = Survey(footprint, *MOCK_R)
    rng = np.random.default_rng(seed)
    fraction = survey.volume / (4 / 3 * np.pi * MOCK_R[1] ** 3)
    n_sphere = int(n_target / fraction)
    pts = _tiled_abacus() if clustered else _poisson_sphere(MOCK_R[1] + 15, int(n_sphere * 1.9), seed)
    pts = pts[np.linalg.norm(pts, axis=1) < MOCK_R[1] + 15]
    inside = survey.contains(pts)
    keep = rng.random(len(pts)) < n_target / inside.sum()
    galaxies, others = pts[keep & inside], pts[keep & ~inside]
    centre = unit_vectors(np.array([180.0]), np.array([30.0]))[0]
    near = others @ centre > np.cos(np.radians(60)) * np.linalg.norm(others, axis=1)
    return galaxies, survey, np.concatenate([galaxies, others[near]])


def dr7() -> tuple[np.ndarray, Survey, None]:
    points = load_points(SHARED / "catalogs" / "vollim_dr7_cbp_102709.fits", LoadOptions())
    footprint = read_mask(SHARED / "catalogs" / "cbpdr7mask.dat")
    from astropy.table import Table

    z = np.asarray(Table.read(SHARED / "catalogs" / "vollim_dr7_cbp_102709.fits")["z"], dtype=np.float64)
    r_min, r_max = comoving_distance(np.array([z.min(), z.max()]))
    survey = Survey(footprint, float(r_min), float(r_max))
    inside = survey.contains(points.positions)
    print(f"dr7: {inside.sum():,} of {len(inside):,} galaxies inside the cell mask; r {r_min:.1f}..{r_max:.1f} Mpc/h")
    return points.positions[inside], survey, None


def ratios(pos: np.ndarray, survey: Survey, treatment: str | None, truth: np.ndarray | None) -> dict[str, float]:
    """Edge / interior and far-limit / interior median densities, buffer size, seconds.

    With ``truth`` (each galaxy's density without the boundary) also the medians of each
    galaxy's density over its true one, edge and far relative to interior.
    """
    t0 = time.perf_counter()
    n_buffer = 0
    work = pos
    if treatment is not None:
        buffer = boundary_buffer(pos, survey, treatment)
        n_buffer = len(buffer.points)
        work = np.concatenate([pos, buffer.points])
    tess = tessellate(work, n_buffer=n_buffer)
    seconds = time.perf_counter() - t0
    rho = tess.density[: len(pos)]
    spacing = float(np.cbrt(survey.volume / len(pos)))
    depth = edge_depth(pos, survey.footprint)
    r = np.linalg.norm(pos, axis=1)
    radial_ok = (r - survey.r_min > 3 * spacing) & (survey.r_max - r > 3 * spacing)
    interior = (depth > 3 * spacing) & radial_ok
    edge = (depth < spacing) & radial_ok
    far = (survey.r_max - r < spacing) & (depth > 3 * spacing)
    out = {"buffer": n_buffer, "seconds": seconds}
    base = np.median(rho[interior])
    out["edge"] = float(np.median(rho[edge]) / base)
    out["far"] = float(np.median(rho[far]) / base)
    if truth is not None:
        # The same ratios over those of the true densities of the same galaxies: what is
        # left is the boundary's bias, without the sample variance of where the edges fall.
        true_base = np.median(truth[interior])
        out["edge/true"] = out["edge"] / float(np.median(truth[edge]) / true_base)
        out["far/true"] = out["far"] / float(np.median(truth[far]) / true_base)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="mock,poisson,dr7")
    args = parser.parse_args()
    footprint = mock_footprint()
    cases = {"mock": lambda: mock(footprint, True), "poisson": lambda: mock(footprint, False), "dr7": dr7}
    columns = ("N", "buffer", "edge", "far", "edge/true", "far/true", "s")
    print(f"{'data':<8} {'treatment':<9} " + " ".join(f"{c:>9}" for c in columns))
    for name in args.sets.split(","):
        pos, survey, everything = cases[name]()
        truth = None if everything is None else tessellate(everything).density[: len(pos)]
        for treatment in (None, "random", "reflect"):
            m = ratios(pos, survey, treatment, truth)
            cells = [f"{len(pos):>9,}", f"{m['buffer']:>9,}"]
            cells += [f"{m[k]:>9.3f}" if k in m else f"{'-':>9}" for k in ("edge", "far", "edge/true", "far/true")]
            print(f"{name:<8} {treatment or 'none':<9} " + " ".join(cells) + f" {m['seconds']:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
