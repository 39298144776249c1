"""``delvol project --field``: the density-weighted mean of a field along the line of sight."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from delvol.cli import main
from delvol.geometry import tessellate
from delvol.geometry.fields import field_at
from delvol.geometry.interpolate import density_at
from delvol.gl.projection import integrated_maps

pytestmark = pytest.mark.gl


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(7)
    pts = np.concatenate([rng.uniform(-1, 1, (250, 3)), rng.normal((0.2, -0.1, 0.3), 0.1, (100, 3))])
    return tessellate(pts)


def test_a_constant_field_maps_to_itself(ctx, clustered):
    sigma, weighted = integrated_maps(ctx, clustered, "z", (16, 12), field=np.full(len(clustered.points), 3.5))
    covered = sigma > 1e-3 * sigma.max()
    np.testing.assert_allclose(weighted[covered] / sigma[covered], 3.5, rtol=1e-5)


def test_the_mean_matches_a_ray_marched_reference(ctx, clustered):
    # f = x + 2 y along x: f varies along every ray, and the DTFE reproduces a linear field exactly.
    values = clustered.points[:, 0] + 2 * clustered.points[:, 1]
    size, extent = (14, 12), (-0.9, 0.9, -0.8, 0.9)
    sigma, weighted = integrated_maps(ctx, clustered, "x", size, extent, field=values)
    u = extent[0] + (np.arange(size[0]) + 0.5) * (extent[1] - extent[0]) / size[0]
    v = extent[2] + (np.arange(size[1]) + 0.5) * (extent[3] - extent[2]) / size[1]
    yy, zz = (a.ravel() for a in np.meshgrid(u, v))
    t = np.linspace(-2, 2, 6000)
    ref_sigma, ref_weighted = np.empty(len(yy)), np.empty(len(yy))
    for i, (y, z) in enumerate(zip(yy, zz, strict=True)):
        ray = np.column_stack([t, np.full_like(t, y), np.full_like(t, z)])
        rho = np.nan_to_num(density_at(clustered, ray))
        f = np.nan_to_num(field_at(clustered, values[: clustered.n_primary], ray))
        ref_sigma[i], ref_weighted[i] = np.trapezoid(rho, t), np.trapezoid(rho * f, t)
    covered = ref_sigma > 1e-2 * ref_sigma.max()
    mean = weighted.ravel()[covered] / sigma.ravel()[covered]
    ref = ref_weighted[covered] / ref_sigma[covered]
    assert np.median(np.abs(mean - ref)) <= 1e-3 * np.abs(ref).max()
    # The line integral of rho * f itself, exactly (rho * f is quadratic on each segment).
    big = np.abs(ref_weighted) > 1e-2 * np.abs(ref_weighted).max()
    rel = np.abs(weighted.ravel() - ref_weighted)[big] / np.abs(ref_weighted[big])
    assert np.median(rel) <= 1e-3


def test_project_field_writes_the_mean_beside_sigma(tmp_path):
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 10, (400, 3))
    table = tmp_path / "pts.csv"
    np.savetxt(table, np.column_stack([pts, 2 + 0 * pts[:, 0]]), delimiter=",", header="x,y,z,t", comments="")
    try:
        assert main(["project", str(table), "--size", "24", "--field", "t", "-o", str(tmp_path / "map.fits")]) == 0
    except SystemExit:
        pytest.skip("no EGL")
    with fits.open(tmp_path / "map.fits") as hdus:
        sigma, mean = hdus[0].data, hdus["T"].data
        assert hdus["T"].header["FIELD"] == "t"
    np.testing.assert_allclose(mean[sigma > 0], 2.0, rtol=1e-5)
    assert np.isnan(mean[sigma == 0]).all()
    assert main(["project", str(table), "--size", "24", "--field", "t", "-o", str(tmp_path / "map.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "map.npy"), sigma)
    np.testing.assert_array_equal(np.load(tmp_path / "map_t.npy"), mean)
    # A field the file does not have: one line, exit 2, no output.
    assert main(["project", str(table), "--field", "nope", "-o", str(tmp_path / "v.fits")]) == 2
    assert not (tmp_path / "v.fits").exists()
