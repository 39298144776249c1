"""The tessellation cache and .npz export, and interpolation of the DTFE field."""

from __future__ import annotations

import numpy as np
import pytest

from delvol.errors import DelvolError
from delvol.geometry import ARRAY_KEYS, tessellate
from delvol.geometry.cache import cache_dir, cached_tessellate, clear_cache, load_tessellation, save_tessellation
from delvol.geometry.interpolate import density_at, density_grid


@pytest.fixture(scope="module")
def points():
    return np.random.default_rng(11).random((3000, 3)) * 50.0


def test_npz_round_trip_exact(points, tmp_path):
    tess = tessellate(points, periodic=50.0)
    save_tessellation(tess, tmp_path / "t.npz")
    back = load_tessellation(tmp_path / "t.npz")
    for key in (*ARRAY_KEYS, "origin"):
        a, b = getattr(tess, key), getattr(back, key)
        assert a.dtype == b.dtype and np.array_equal(a, b), key
    assert back.box_size == 50.0 and np.array_equal(back.box_lower, tess.box_lower)
    assert back.info == tess.info
    with np.load(tmp_path / "t.npz", allow_pickle=False) as data:
        assert data["tetrahedra"].dtype == np.int32 and data["hull"].dtype == bool


def test_cache_hit_and_invalidation(points):
    clear_cache()
    first = cached_tessellate(points)
    assert "cache" not in first.info
    assert len(list(cache_dir().glob("*.npz"))) == 1
    second = cached_tessellate(points)
    assert "cache" in second.info
    assert np.array_equal(first.density, second.density)
    assert np.array_equal(first.faces, second.faces)
    # Changed options, masses or points each make a new entry.
    periodic = cached_tessellate(points, periodic=50.0)
    assert "cache" not in periodic.info
    cached_tessellate(points, np.full(len(points), 2.0))
    moved = points.copy()
    moved[0, 0] += 1e-9
    cached_tessellate(moved)
    assert len(list(cache_dir().glob("*.npz"))) == 4
    assert clear_cache()[0] == 4


def test_no_cache_writes_nothing(points):
    clear_cache()
    cached_tessellate(points, use_cache=False)
    assert not list(cache_dir().glob("*.npz"))


def test_damaged_cache_entry_is_rebuilt(points):
    clear_cache()
    cached_tessellate(points)
    entry = next(cache_dir().glob("*.npz"))
    entry.write_bytes(b"garbage")
    again = cached_tessellate(points)
    assert "cache" not in again.info and len(again.faces) > 0


def test_load_rejects_other_files(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_text("not a zip")
    with pytest.raises(DelvolError, match=r"x\.npz"):
        load_tessellation(bad)
    np.savez(tmp_path / "y.npz", a=np.zeros(3))
    with pytest.raises(DelvolError, match="missing"):
        load_tessellation(tmp_path / "y.npz")


def test_interpolation_at_vertices_and_centroids(points):
    tess = tessellate(points)
    inner = ~tess.hull
    np.testing.assert_allclose(density_at(tess, tess.points[inner]), tess.density[inner], rtol=1e-9)
    centroids = tess.points[tess.tetrahedra[:200]].mean(axis=1)
    expect = tess.density[tess.tetrahedra[:200]].mean(axis=1)
    np.testing.assert_allclose(density_at(tess, centroids), expect, rtol=1e-9)
    assert np.isnan(density_at(tess, np.array([[-10.0, 0, 0], [25, 25, 1e3]]))).all()


def test_interpolation_after_cache_load_and_periodic_wrap(points, tmp_path):
    tess = tessellate(points, periodic=50.0)
    save_tessellation(tess, tmp_path / "p.npz")
    back = load_tessellation(tmp_path / "p.npz")
    q = np.random.default_rng(3).random((500, 3)) * 50.0
    a = density_at(tess, q)
    assert np.isfinite(a).all()
    np.testing.assert_allclose(density_at(back, q), a, rtol=1e-9)
    np.testing.assert_allclose(density_at(back, q + 50.0), a, rtol=1e-9)


def test_grid_integral_matches_mass(points):
    tess = tessellate(points, periodic=50.0)
    grid = density_grid(tess, 48)
    assert grid.shape == (48, 48, 48) and np.isfinite(grid).all()
    assert grid.mean() * 50.0**3 == pytest.approx(len(points), rel=0.05)
