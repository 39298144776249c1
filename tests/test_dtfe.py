"""DTFE correctness: exact identities, symmetries and agreement with brute force."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_file

from delvol.geometry import DegenerateInputError, tessellate
from delvol.geometry.dtfe import integrated_mass


def relative_mass_error(tess, total):
    return abs(integrated_mass(tess.tetrahedra, tess.tet_volume, tess.density) - total) / total


@pytest.fixture(scope="module")
def poisson():
    return np.random.default_rng(1).random((20_000, 3))


def test_mass_conservation_random(poisson):
    assert relative_mass_error(tessellate(poisson), len(poisson)) < 1e-10


def test_mass_conservation_clustered(sample_points):
    assert relative_mass_error(tessellate(sample_points), len(sample_points)) < 1e-10


def test_mass_conservation_weighted(poisson):
    masses = np.random.default_rng(2).lognormal(0.0, 2.0, len(poisson))
    assert relative_mass_error(tessellate(poisson, masses), masses.sum()) < 1e-10


def test_mass_conservation_periodic(sample_points):
    tess = tessellate(sample_points, periodic=100.0)
    assert relative_mass_error(tess, len(sample_points)) < 1e-10
    # One copy of each periodic tetrahedron tiles exactly one box.
    assert tess.tet_volume.sum() == pytest.approx(100.0**3, rel=1e-10)


@pytest.mark.real_data
@pytest.mark.slow
def test_mass_conservation_real_snapshot():
    points = np.load(shared_file("nbody/mini_n64_l32_z0_pos_float32.npy"))
    tess = tessellate(points)
    assert tess.info["n_duplicates"] == 9
    assert np.isfinite(tess.density).all()
    assert relative_mass_error(tess, len(points)) < 1e-10
    assert tess.tet_volume.sum() == pytest.approx(np.prod(np.ptp(points, axis=0)), rel=0.01)


def test_poisson_interior_mean_density(poisson):
    """The volume-averaged DTFE field in the interior matches N/V.

    (The plain average over points is biased high by Jensen's inequality, since rho = 4/W
    is convex in W; the field integral is the estimator's real mean.)
    """
    tess = tessellate(poisson)
    centroid = tess.points[tess.tetrahedra].mean(axis=1)
    interior = np.all((centroid > 0.15) & (centroid < 0.85), axis=1)
    v = tess.tet_volume[interior]
    mean_field = np.dot(v, tess.density[tess.tetrahedra[interior]].mean(axis=1)) / v.sum()
    assert mean_field == pytest.approx(len(poisson), rel=0.03)


def test_scaling_and_translation(poisson):
    base = tessellate(poisson[:3000])
    scaled = tessellate(poisson[:3000] * 7.5)
    moved = tessellate(poisson[:3000] + np.array([1e3, -2e3, 5e2]))
    np.testing.assert_allclose(scaled.density, base.density * 7.5**-3, rtol=1e-9)
    np.testing.assert_allclose(moved.density, base.density, rtol=1e-6)


def test_brute_force_agrees(poisson):
    pts = poisson[:400]
    masses = np.random.default_rng(3).uniform(0.5, 2.0, len(pts))
    tess = tessellate(pts, masses)
    for i in range(len(pts)):
        w = 0.0
        for tet in tess.tetrahedra:
            if i in tet:
                a, b, c, d = pts[tet]
                w += abs(np.linalg.det(np.array([b - a, c - a, d - a]))) / 6
        assert tess.cell_volume[i] == pytest.approx(w, rel=1e-12)
        assert tess.density[i] == pytest.approx(4 * masses[i] / w, rel=1e-12)


def test_faces_unique_and_euler(poisson):
    tess = tessellate(poisson[:5000])
    faces = np.sort(tess.faces, axis=1)
    assert len(np.unique(faces, axis=0)) == len(faces)
    # Every face of every tetrahedron is among the unique faces, used by at most 2 tetrahedra.
    tet_faces = np.sort(tess.tetrahedra[:, [[1, 2, 3], [0, 2, 3], [0, 1, 3], [0, 1, 2]]].reshape(-1, 3), axis=1)
    uniq, counts = np.unique(tet_faces, axis=0, return_counts=True)
    assert len(uniq) == len(faces) and counts.max() == 2
    # 4T = 2 F_interior + F_hull, and the hull is a triangulated sphere: F_hull = 2 V_hull - 4.
    n_hull = int(tess.hull.sum())
    assert len(faces) == 2 * len(tess.tetrahedra) + n_hull - 2
    edges = np.unique(np.sort(faces[:, [[0, 1], [1, 2], [0, 2]]].reshape(-1, 2), axis=1), axis=0)
    assert len(tess.points) - len(edges) + len(faces) - len(tess.tetrahedra) == 1  # Euler for a ball


def test_periodic_lattice_uniform():
    n = 12
    lattice = (np.stack(np.meshgrid(*[np.arange(n) + 0.5] * 3, indexing="ij"), -1).reshape(-1, 3)) * 2.0
    tess = tessellate(lattice, periodic=2.0 * n)
    rho = tess.density[: tess.n_primary]
    np.testing.assert_allclose(rho, 1 / 8.0, rtol=1e-9)  # one point per 2³ cell
    assert not tess.hull.any()


def test_periodic_removes_edge_bias(poisson):
    tess = tessellate(poisson, periodic=1.0)
    rho = tess.density[: tess.n_primary]
    edge = np.any((poisson < 0.05) | (poisson > 0.95), axis=1)
    assert np.median(rho[edge]) == pytest.approx(np.median(rho[~edge]), rel=0.03)
    open_tess = tessellate(poisson)
    assert np.median(open_tess.density[open_tess.hull]) < 0.8 * np.median(open_tess.density[~open_tess.hull])


def test_periodic_wraps_points_outside_box():
    pts = np.random.default_rng(4).random((3000, 3)) * 10 - 5
    pts[0] = [5.0000002, 0, 0]  # float32 rounding puts a few particles on the upper face
    tess = tessellate(pts, periodic=10.0)
    assert tess.points[0, 0] == pytest.approx(-5.0)
    assert relative_mass_error(tess, len(pts)) < 1e-10


def test_exact_lattice_open_boundaries():
    n = 8
    lattice = np.stack(np.meshgrid(*[np.arange(n, dtype=float)] * 3, indexing="ij"), -1).reshape(-1, 3)
    tess = tessellate(lattice, engine="scipy")
    assert tess.tet_volume.min() > 0  # the shear leaves Qhull no flat tetrahedra (test_engines: the others)
    assert tess.tet_volume.sum() == pytest.approx((n - 1) ** 3)
    interior = ~tess.hull
    np.testing.assert_allclose(tess.density[interior], 1.0, rtol=1e-9)


def test_duplicates_merge_mass():
    rng = np.random.default_rng(5)
    pts = rng.random((500, 3))
    dup = np.vstack([pts, pts[[7, 7, 42]]])
    masses = np.ones(len(dup))
    masses[-1] = 3.0
    tess = tessellate(dup, masses)
    assert tess.info["n_duplicates"] == 3
    assert np.isfinite(tess.density).all()
    assert relative_mass_error(tess, masses.sum()) < 1e-10
    assert tess.density[500] == tess.density[501] == tess.density[7]
    assert tess.density[502] == tess.density[42]
    single = tessellate(pts)
    assert tess.density[7] == pytest.approx(3 * single.density[7], rel=1e-9)
    assert tess.density[42] == pytest.approx(4 * single.density[42], rel=1e-9)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (np.random.default_rng(0).random((3, 3)), "at least 4 points"),
        (np.repeat(np.random.default_rng(0).random((3, 3)), 5, axis=0), "only 3 distinct points"),
        (np.column_stack([np.random.default_rng(0).random((50, 2)), np.zeros(50)]), "plane"),
        (np.outer(np.arange(20.0), [1.0, 2.0, 3.0]), "plane or on a line"),
        (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, np.nan], [1, 1, 1]], float), "NaN or inf"),
        (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, np.inf], [1, 1, 1]], float), "row 3"),
        (np.zeros((10, 2)), "shape"),
    ],
)
def test_degenerate_inputs(points, message):
    with pytest.raises(DegenerateInputError, match=message):
        tessellate(points)


def test_bad_periodic_box():
    pts = np.random.default_rng(0).random((100, 3)) * 10
    with pytest.raises(DegenerateInputError, match="periodic box"):
        tessellate(pts, periodic=5.0)
    with pytest.raises(DegenerateInputError, match=r"at least 3\.4"):
        tessellate(pts, periodic=10.0, padding=2.0)
