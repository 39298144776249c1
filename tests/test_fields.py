"""DTFE fields: exact linear reproduction, exact velocity gradients, the two weightings,
duplicates and periodic images, and the per-point field loaders on real snapshots."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_file

from delvol.geometry import tessellate
from delvol.geometry.fields import (
    FieldSpec,
    derive,
    field_at,
    field_grid,
    gradient_at,
    point_field,
    point_gradient,
    point_values,
    tet_gradient,
)
from delvol.io import LoadOptions, load_points
from delvol.io.fields import MEAN_MOLECULAR_WEIGHT, temperature

RNG = np.random.default_rng(11)
A = np.array([[0.3, -1.2, 0.5], [2.0, 0.7, -0.4], [0.1, 0.9, -1.6]])
B = np.array([0.5, -2.0, 3.0])


@pytest.fixture(scope="module")
def cloud():
    points = RNG.random((300, 3))
    return points, tessellate(points)


def inside_hull(tess, n=500):
    """Random positions well inside the unit cube (so inside the hull of 300 points)."""
    return 0.15 + 0.7 * np.random.default_rng(3).random((n, 3))


def test_linear_scalar_field_is_reproduced_exactly(cloud):
    points, tess = cloud
    a, b = np.array([1.5, -0.7, 2.2]), 0.3
    q = inside_hull(tess)
    got = field_at(tess, points @ a + b, q)
    np.testing.assert_allclose(got, q @ a + b, rtol=0, atol=1e-10)
    grid = field_grid(tess, points @ a + b, 6, np.full(3, 0.2), np.full(3, 0.8))
    centres = 0.2 + (np.arange(6) + 0.5) * 0.1
    expect = np.einsum("i,ijk->ijk", a[0] * centres, np.ones((6, 6, 6)))
    expect += (a[1] * centres)[None, :, None] + (a[2] * centres)[None, None, :] + b
    np.testing.assert_allclose(grid, expect, rtol=0, atol=1e-10)
    assert np.isnan(field_at(tess, points @ a, np.array([[2.0, 2.0, 2.0]]))).all()


def test_linear_velocity_gives_exact_gradients_in_every_tetrahedron(cloud):
    points, tess = cloud
    v = points @ A.T + B
    J = tet_gradient(tess, v)
    assert J.shape == (len(tess.tetrahedra), 3, 3)
    np.testing.assert_allclose(J, np.broadcast_to(A, J.shape), rtol=0, atol=1e-10)
    np.testing.assert_allclose(derive(J, "divergence"), np.trace(A), rtol=0, atol=1e-10)
    omega = np.array([A[2, 1] - A[1, 2], A[0, 2] - A[2, 0], A[1, 0] - A[0, 1]])
    np.testing.assert_allclose(derive(J, "vorticity"), np.broadcast_to(omega, (len(J), 3)), atol=1e-10)
    np.testing.assert_allclose(derive(J, "vorticity_magnitude"), np.linalg.norm(omega), atol=1e-10)
    sigma = 0.5 * (A + A.T) - np.trace(A) / 3 * np.eye(3)
    np.testing.assert_allclose(derive(J, "shear"), np.broadcast_to(sigma, J.shape), atol=1e-10)
    np.testing.assert_allclose(derive(J, "shear_magnitude"), np.sqrt((sigma**2).sum()), atol=1e-10)
    # Per point (any weighting of a constant is that constant) and on grids.
    np.testing.assert_allclose(point_gradient(tess, v), np.broadcast_to(A, (300, 3, 3)), atol=1e-10)
    np.testing.assert_allclose(point_gradient(tess, v, "mass"), np.broadcast_to(A, (300, 3, 3)), atol=1e-10)
    q = inside_hull(tess, 50)
    np.testing.assert_allclose(gradient_at(tess, v, q), np.broadcast_to(A, (50, 3, 3)), atol=1e-9)
    div = field_grid(tess, v, 4, np.full(3, 0.3), np.full(3, 0.7), derived="divergence")
    np.testing.assert_allclose(div, np.trace(A), atol=1e-9)
    assert field_grid(tess, v, 4, np.full(3, 0.3), np.full(3, 0.7), derived="vorticity").shape == (4, 4, 4, 3)


def test_mass_and_volume_weighting_agree_on_constants_and_differ_as_predicted(cloud):
    _, tess = cloud
    q = inside_hull(tess)
    const = np.full(300, 4.25)
    np.testing.assert_allclose(field_at(tess, const, q, "mass"), 4.25, rtol=1e-13)
    np.testing.assert_allclose(field_at(tess, const, q, "volume"), 4.25, rtol=1e-13)
    # f = rho: volume gives sum(l rho); mass gives sum(l rho^2) / sum(l rho), larger by
    # exactly the l-weighted variance of rho over its l-weighted mean.
    rho = tess.density[:300]
    vol, mass = field_at(tess, rho, q, "volume"), field_at(tess, rho, q, "mass")
    second = field_at(tess, rho**2, q, "volume")
    np.testing.assert_allclose(mass - vol, (second - vol**2) / vol, rtol=1e-9, atol=1e-12)
    assert (mass >= vol - 1e-12).all() and (mass - vol).max() > 0.05 * vol.mean()
    # Anti-correlated (f = 1 / rho): the mass-weighted mean is the smaller.
    assert (field_at(tess, 1 / rho, q, "mass") <= field_at(tess, 1 / rho, q, "volume") + 1e-12).all()


def test_duplicates_share_the_mass_weighted_mean_of_their_group():
    points = RNG.random((60, 3))
    points = np.vstack([points, points[:2]])  # rows 60, 61 duplicate rows 0, 1
    masses = np.ones(62)
    masses[60] = 3.0
    tess = tessellate(points, masses)
    assert tess.info["n_duplicates"] == 2
    f = np.arange(62.0)
    merged = point_values(tess, f)
    np.testing.assert_allclose(merged[[0, 60]], (0 * 1 + 60 * 3) / 4)
    np.testing.assert_allclose(merged[[1, 61]], (1 + 61) / 2)
    np.testing.assert_array_equal(merged[2:60], f[2:60])
    np.testing.assert_allclose(field_at(tess, f, points[[0]]), merged[0])


def test_periodic_fields_wrap_and_images_carry_their_originals_values():
    points = RNG.random((400, 3)) * 10
    tess = tessellate(points, periodic=10.0, padding=3.4)
    # A periodic field: f = sin(2 pi x / L); images repeat it, so interpolation is
    # continuous across the box faces and a shift by L changes nothing.
    f = np.sin(2 * np.pi * points[:, 0] / 10)
    q = np.random.default_rng(4).random((200, 3)) * 10
    a, b = field_at(tess, f, q), field_at(tess, f, q + np.array([10.0, -10.0, 20.0]))
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # A uniform velocity has zero gradient everywhere, images included.
    v = np.tile([1.0, 2.0, 3.0], (400, 1))
    np.testing.assert_allclose(tet_gradient(tess, v), 0.0, atol=1e-9)
    # Images add their tetrahedra to their original's star: per-point weights total W_i.
    np.testing.assert_allclose(point_gradient(tess, points[:, :1] * 0 + 1.0), 0.0, atol=1e-9)
    # Gauss: a continuous periodic field has no net divergence, so sum_T V_T div_T = 0 for
    # any velocities, which holds only if every image carries its original's value.
    random_v = np.random.default_rng(5).normal(size=(400, 3))
    div = derive(tet_gradient(tess, random_v), "divergence")
    assert abs(tess.tet_volume @ div) < 1e-10 * (tess.tet_volume @ np.abs(div))


def test_field_specs_and_point_fields(cloud):
    points, tess = cloud
    v = points @ A.T + B
    assert FieldSpec.parse("vel") == FieldSpec("vel")
    assert FieldSpec.parse("vel:y") == FieldSpec("vel", component=1)
    assert FieldSpec.parse("vel:vorticity-magnitude") == FieldSpec("vel", derived="vorticity_magnitude")
    assert str(FieldSpec.parse("Velocities:Divergence")) == "Velocities:divergence"
    with pytest.raises(ValueError, match="unknown field suffix"):
        FieldSpec.parse("vel:curl")
    np.testing.assert_allclose(point_field(tess, {"vel": v}, FieldSpec("vel", derived="divergence")), np.trace(A))
    np.testing.assert_array_equal(point_field(tess, {"vel": v}, FieldSpec("vel", component=2)), v[:, 2])
    with pytest.raises(ValueError, match="3-vector"):
        point_field(tess, {"t": v[:, 0]}, FieldSpec("t", derived="divergence"))


def test_temperature_for_a_stated_mean_molecular_weight():
    # u = 1.5 k T / (mu m_p): 1e4 K at mu = 0.588 is ~ 210 (km/s)^2.
    u = 1.5 * 1.380649e-16 * 1e4 / (MEAN_MOLECULAR_WEIGHT * 1.67262192369e-24) / 1e10
    assert temperature(np.array([u]))[0] == pytest.approx(1e4, rel=1e-12)
    assert temperature(np.array([u]), 1.22)[0] == pytest.approx(1e4 * 1.22 / MEAN_MOLECULAR_WEIGHT, rel=1e-12)


def test_abacus_velocities_load_with_shape_and_units():
    path = shared_file("nbody/mini_n64_l32_z0_particles.hdf5")
    points = load_points(path, LoadOptions(fields=("vel",), max_points=20_000))
    vel = points.fields["vel"]
    assert vel.shape == (20_000, 3) and vel.dtype == np.float64
    assert points.metadata["field_units"]["vel"] == "km/s"  # the file's units_vel, to its first parenthesis
    assert points.metadata["units"] == "Mpc/h"  # the length unit of the file's "comoving Mpc/h, ..."
    # Dark matter at z = 0 in a 32 Mpc/h box: a few hundred km/s per component.
    assert 100 < vel.std(axis=0).min() and vel.std(axis=0).max() < 500
    assert abs(vel.mean(axis=0)).max() < 50


def test_gadget_gas_internal_energy_and_temperature_load():
    path = shared_file("nbody/gadget_z00.dat")
    gas = load_points(path, LoadOptions(ptypes=[0], fields=("u", "temperature", "vel")))
    assert len(gas) == 9160
    assert gas.fields["u"].shape == (9160,) and gas.fields["vel"].shape == (9160, 3)
    assert gas.metadata["field_units"]["u"] == "(km/s)^2 per unit mass"
    assert gas.metadata["field_units"]["temperature"].startswith("K (mu = 0.588")
    t = gas.fields["temperature"]
    np.testing.assert_allclose(t, temperature(gas.fields["u"]))
    assert 10 < np.median(t) < 1e6 and t.max() < 1e9  # photo-ionised to shock-heated gas
    everything = load_points(path, LoadOptions(fields=("vel",)))
    assert everything.fields["vel"].shape == (20_560, 3)
    from delvol.errors import DelvolError

    with pytest.raises(DelvolError, match="gas particles only"):
        load_points(path, LoadOptions(fields=("temperature",)))
    with pytest.raises(DelvolError, match="no field 'rho'"):
        load_points(path, LoadOptions(ptypes=[0], fields=("rho",)))


def test_fields_by_name_from_every_table_and_container(tmp_path):
    from astropy.table import Table

    from delvol.errors import DelvolError

    pos = RNG.random((20, 3))
    vel = RNG.normal(size=(20, 3))
    g_r = RNG.random(20)
    csv = tmp_path / "cat.csv"
    table = np.column_stack([pos, vel, g_r])
    rows = ["x,y,z,vx,vy,vz,g_r"] + [",".join(f"{x:.17g}" for x in row) for row in table]
    csv.write_text("\n".join(rows) + "\n")
    points = load_points(csv, LoadOptions(fields=("vel", "G_R")))
    np.testing.assert_allclose(points.fields["vel"], vel)
    np.testing.assert_allclose(points.fields["G_R"], g_r)
    assert points.metadata["field_units"] == {"vel": "as stored", "G_R": "as stored"}
    fits = tmp_path / "cat.fits"
    Table({"x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2], "mag": g_r}).write(fits)
    np.testing.assert_allclose(load_points(fits, LoadOptions(fields=("mag",))).fields["mag"], g_r)
    npz = tmp_path / "p.npz"
    np.savez(npz, pos=pos, Velocities=vel)
    np.testing.assert_allclose(load_points(npz, LoadOptions(fields=("vel",))).fields["vel"], vel)
    with pytest.raises(DelvolError, match="no field 'mag'"):
        load_points(npz, LoadOptions(fields=("mag",)))
    # Cuts keep each field row with its point.
    cut = load_points(csv, LoadOptions(fields=("g_r",), max_points=7, seed=2))
    keep = [int(np.flatnonzero((pos == p).all(axis=1))[0]) for p in cut.positions]
    np.testing.assert_allclose(cut.fields["g_r"], g_r[keep])
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y,z,t\n0,0,0,1\n1,0,0,\n0,1,0,2\n0,0,1,3\n")
    with pytest.raises(DelvolError, match=r"non-finite values of field 't'.*row 1"):
        load_points(bad, LoadOptions(fields=("t",)))


def test_gadget4_hdf5_velocities_are_scaled_by_sqrt_a(tmp_path):
    import h5py

    path = tmp_path / "snap.hdf5"
    vel = RNG.normal(size=(10, 3))
    with h5py.File(path, "w") as f:
        f.create_group("Header").attrs.update({"Time": 0.25, "Redshift": 3.0, "BoxSize": 1.0, "MassTable": [0, 1.0]})
        group = f.create_group("PartType1")
        group["Coordinates"] = RNG.random((10, 3))
        group["Velocities"] = vel
    points = load_points(path, LoadOptions(fields=("vel",)))
    np.testing.assert_allclose(points.fields["vel"], 0.5 * vel)
    assert points.metadata["field_units"]["vel"] == "km/s (peculiar)"


def test_galaxy_store_columns_are_fields(tmp_path):
    from galaxy_store import build_store, solid_jpeg

    db = build_store(tmp_path, {k: solid_jpeg((9, 9, 9), 8) for k in range(1, 9)}, {"g_r": [0.1 * k for k in range(8)]})
    points = load_points(db, LoadOptions(fields=("g_r",)))
    np.testing.assert_allclose(points.fields["g_r"], 0.1 * np.arange(8))


def test_gadget_velocity_convention():
    from delvol.io.fields import velocity_factor

    assert velocity_factor(0.25, 3.0) == 0.5  # cosmological: v_pec = sqrt(a) w
    assert velocity_factor(1.0, 0.0) == 1.0
    assert velocity_factor(5.0, 0.0) == 1.0  # a Newtonian run's Time is a time, not a
