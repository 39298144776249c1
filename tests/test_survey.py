"""Survey geometry, sky views, framing and redshift space."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import shared_file

from delvol.geometry import tessellate
from delvol.geometry.survey import Survey, boundary_buffer, edge_depth, unit_vectors
from delvol.io import LoadOptions, load_points
from delvol.io.mask import Footprint, read_mask
from delvol.scene.camera import AXIS_VIEWS, Camera


def _cap_footprint() -> Footprint:
    from astropy_healpix import HEALPix

    hp = HEALPix(16, "ring")
    lon, lat = hp.healpix_to_lonlat(np.arange(hp.npix))
    units = unit_vectors(lon.deg, lat.deg)
    centre = unit_vectors(np.array([180.0]), np.array([30.0]))[0]
    return Footprint("healpix", 16, "ring", units @ centre > np.cos(np.radians(35)), "cap")


@pytest.mark.parametrize("treatment", ["reflect", "random"])
def test_poisson_survey_edges_within_5_percent(treatment):
    footprint = _cap_footprint()
    survey = Survey(footprint, 5.0, 40.0)
    rng = np.random.default_rng(4)
    pts = rng.uniform(-40, 40, (120_000, 3))
    pos = pts[survey.contains(pts)][:15_000]
    buffer = boundary_buffer(pos, survey, treatment, seed=1)
    tess = tessellate(np.concatenate([pos, buffer.points]), n_buffer=len(buffer.points))
    assert tess.n_primary == len(pos) and tess.buffer.sum() == len(buffer.points)
    assert not tess.face_on_buffer.all() and tess.masses[len(pos) :].sum() == 0
    # The mass identity holds: buffers add no mass.
    mass = np.sum(tess.tet_volume * tess.density[tess.tetrahedra].mean(axis=1))
    assert mass == pytest.approx(len(pos), rel=1e-10)
    rho = tess.density[: len(pos)]
    s = np.cbrt(survey.volume / len(pos))
    depth = edge_depth(pos, footprint)
    r = np.linalg.norm(pos, axis=1)
    radial = (r - 5 > 3 * s) & (40 - r > 3 * s)
    base = np.median(rho[(depth > 3 * s) & radial])
    assert np.median(rho[(depth < s) & radial]) / base == pytest.approx(1.0, abs=0.05)
    assert np.median(rho[(40 - r < s) & (depth > 3 * s)]) / base == pytest.approx(1.0, abs=0.05)


def test_masks_read(tmp_path):
    cells = tmp_path / "cells.dat"
    cells.write_text("# ra dec\n10 20\n11 20\n")
    fp = read_mask(cells)
    assert fp.contains(np.array([10.5, 11.9, 12.1]), np.array([20.5, 20.0, 20.5])).tolist() == [True, True, False]
    from astropy.io import fits

    for order in ("RING", "NESTED"):
        values = np.zeros(12 * 4**2)
        values[5] = 1
        hdu = fits.BinTableHDU.from_columns([fits.Column("T", "E", array=values)])
        hdu.header.update(NSIDE=4, ORDERING=order)
        path = tmp_path / f"{order}.fits"
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
        fp = read_mask(path)
        from astropy import units as u
        from astropy_healpix import HEALPix

        lon, lat = HEALPix(4, order.lower()).healpix_to_lonlat([5])
        assert fp.contains(lon.to_value(u.deg), lat.to_value(u.deg)).tolist() == [True]
        assert np.count_nonzero(fp.inside) == 1


def _bounds_fill(cam: Camera, pts: np.ndarray, w: int, h: int) -> float:
    px = cam.project(pts, w, h)
    return max((px[:, 0].max() - px[:, 0].min()) / w, (px[:, 1].max() - px[:, 1].min()) / h)


@pytest.mark.parametrize("projection", ["perspective", "orthographic"])
@pytest.mark.parametrize("view", [None, *AXIS_VIEWS])
def test_fitted_views_fill_the_frame(view, projection):
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(2000, 3)) * [3, 1, 0.5] + [10, 0, 0]
    pts = pts[np.linalg.norm(pts - [10, 0, 0], axis=1) < 4]  # a rounded cloud, whose box corners are empty
    cam = Camera(projection=projection)
    cam.fit(pts.min(axis=0), pts.max(axis=0), 16 / 9, view=view, points=pts)
    fill = _bounds_fill(cam, pts, 1600, 900)
    assert 0.9 <= fill <= 1.0


def test_redshift_space_moves_by_v_over_aH_and_wraps(tmp_path):
    path = tmp_path / "snap.hdf5"
    pos = np.array([[0.0, 0.0, 1.0], [1.0, 2.0, 15.5], [3.0, -4.0, -10.0], [5.0, 5.0, 5.0]])
    vel = np.array([[0.0, 0.0, 100.0], [0.0, 0.0, 300.0], [50.0, 0.0, -200.0], [0.0, 0.0, 0.0]])
    with h5py.File(path, "w") as f:
        f["pos"], f["vel"] = pos, vel
        f.attrs.update(BoxSize=32.0, Redshift=0.5, Omega_M=0.3, units_pos="comoving Mpc/h")
    moved = load_points(path, LoadOptions(redshift_space="z")).positions
    a_hubble = 100 * np.sqrt(0.3 * 1.5**3 + 0.7) / 1.5
    expected = pos.copy()
    expected[:, 2] += vel[:, 2] / a_hubble
    expected[1, 2] -= 32.0  # 15.5 + 3.46 wraps round the box [-16, 16)
    np.testing.assert_allclose(moved, expected, rtol=0, atol=1e-10)


@pytest.mark.real_data
def test_dr7_mask_covers_the_catalogue():
    mask = read_mask(shared_file("catalogs/cbpdr7mask.dat"))
    points = load_points(shared_file("catalogs/vollim_dr7_cbp_102709.fits"), LoadOptions(max_points=5000))
    r = np.linalg.norm(points.positions, axis=1)
    survey = Survey(mask, float(r.min()), float(r.max()))
    assert survey.contains(points.positions).all()
    assert 7000 < mask.area_sr * (180 / np.pi) ** 2 < 9500


def _sky_survey(tmp_path, n):
    """A uniform sky catalogue of ``n`` galaxies in RA 150..170, Dec 0..15, z 0.02..0.05, and its cell mask."""
    rng = np.random.default_rng(2)
    ra, dec = rng.uniform(150, 170, n), np.degrees(np.arcsin(rng.uniform(np.sin(0.0), np.sin(np.radians(15)), n)))
    z = np.cbrt(rng.uniform(0.02**3, 0.05**3, n))
    catalog = tmp_path / "sky.csv"
    catalog.write_text("ra,dec,redshift\n" + "\n".join(f"{a},{d},{r}" for a, d, r in zip(ra, dec, z, strict=True)))
    mask = tmp_path / "mask.dat"
    mask.write_text("# ra dec\n" + "\n".join(f"{i} {j}" for i in range(150, 170) for j in range(15)))
    return catalog, mask


def test_survey_and_view_options_reach_the_python_api(tmp_path):
    import delvol
    from delvol.scene.description import Scene

    catalog, mask = _sky_survey(tmp_path, 1000)
    tess = delvol.tessellate(catalog, mask=mask, zmax=0.05, buffer="random", cache=False)
    assert tess.n_primary == 1000 and tess.buffer[1000:].all() and len(tess.buffer) > 1000
    scene = Scene.from_options(
        catalog, mask=mask, where=("ra>155",), view="observer", wedge_width=4.0, obj_rotate="90,0,0", obj_units="kpc"
    )
    assert scene.survey.mask == mask and scene.load.where == ("ra>155",) and scene.camera.view == "observer"
    points, tess = scene.read()
    assert (np.degrees(np.arctan2(points.positions[:, 1], points.positions[:, 0])) % 360 > 155).all()
    assert "buffer points" in points.metadata["boundary"] and tess.buffer.any()
    with pytest.raises(ValueError, match="zmin needs a mask"):
        Scene.from_options(catalog, zmin=0.02)
    with pytest.raises(ValueError, match="wedge_width"):
        Scene.from_options(catalog, wedge_width=0)


def test_masked_export_puts_massless_buffers_after_the_galaxies(tmp_path, capsys):
    from delvol.cli import main

    n = 3000
    catalog, mask = _sky_survey(tmp_path, n)
    out = tmp_path / "t.npz"
    args = ["--mask", str(mask), "--zmin", "0.02", "--zmax", "0.05", "--no-cache"]
    assert main(["tessellate", str(catalog), "-o", str(out), *args]) == 0
    with np.load(out) as data:
        buffer, masses = data["buffer"], data["masses"]
        assert not buffer[:n].any() and buffer[n:].all() and len(buffer) > n
        assert masses[buffer].sum() == 0 and masses[:n].sum() == n
    capsys.readouterr()
    assert main(["info", str(catalog), *args]) == 0
    out_text = capsys.readouterr().out
    assert "boundary      survey mask RA/Dec one-degree cells, 297 deg²" in out_text and "buffer points" in out_text
    assert main(["info", str(catalog), "--zmin", "0.02"]) == 2
    assert "--zmin needs a mask" in capsys.readouterr().err


def _fill(cam: Camera, points: np.ndarray, size: tuple[int, int]) -> float:
    px = cam.project(points, *size)
    return max(np.ptp(px[:, 0]) / size[0], np.ptp(px[:, 1]) / size[1])


@pytest.mark.parametrize("extra", [[], ["--ortho"], *([f"--view={v}"] for v in AXIS_VIEWS), ["--elevation", "60"]])
def test_default_renders_and_orbit_starts_fill_the_frame(extra, sample_points):
    from delvol.cli import build_parser
    from delvol.cli.fly import build_path
    from delvol.cli.render_options import scene_from_args

    tess = tessellate(sample_points[::8])
    args = build_parser().parse_args(["render", "x.npy", "-o", "x.png", "--size", "1280x720", *extra])
    cam = scene_from_args(args).camera.fit(tess, 1280 / 720)
    assert 0.9 <= _fill(cam, tess.points, (1280, 720)) <= 1.0
    fly = build_parser().parse_args(["fly", "x.npy", "--orbit", "-o", "x.mp4", *extra])
    fly_camera = scene_from_args(fly).camera
    start = Camera.from_state(build_path(fly, fly_camera.fit(tess, 16 / 9), 16 / 9, fly_camera.elevation).state_at(0.0))
    assert 0.9 <= _fill(start, tess.points, (1600, 900)) <= 1.0


@pytest.mark.real_data
def test_sky_catalogue_defaults_to_a_framed_wedge():
    from delvol.scene.description import CameraOptions

    path = shared_file("catalogs/sdss_dr14_skyserver_10k.csv")
    points = load_points(path, LoadOptions(where=("class=GALAXY", "redshift>0.01")))
    tess = tessellate(points.positions)
    options = CameraOptions()
    assert options.view_for(points) == "wedge"
    hidden = options.hidden(tess, points)
    assert hidden is not None
    cam = options.fit(tess, 16 / 9, points)
    assert cam.projection == "orthographic" and 0 < hidden.sum() < len(hidden)
    assert 0.9 <= _fill(cam, tess.points[~hidden], (1600, 900)) <= 1.0
    # The observer is at the bottom of the frame, the slice opening upwards.
    apex = cam.project(np.zeros((1, 3)), 1600, 900)[0]
    assert apex[1] > 0.8 * 900


def test_fields_of_a_buffered_survey_are_nan_beyond_the_edges(tmp_path):
    from delvol.geometry.fields import FieldCache, FieldSpec, field_at, point_gradient
    from delvol.scene.description import Scene

    catalog, mask = _sky_survey(tmp_path, 800)
    points, tess = Scene.from_options(catalog, mask=mask, fields=("redshift",), cache=False).read()
    z = points.fields["redshift"]
    assert tess.buffer.any() and len(z) == tess.n_primary
    # At a galaxy the field is its own value, unless it is found in a tetrahedron that
    # touches a buffer point (an edge galaxy): then NaN, as beyond the edge.
    at = field_at(tess, z, points.positions)
    finite = np.isfinite(at)
    assert finite.mean() > 0.5
    np.testing.assert_allclose(at[finite], z[finite], rtol=1e-9)
    assert np.isnan(field_at(tess, z, tess.points[tess.buffer][:5])).all()
    gradient = point_gradient(tess, z)
    assert gradient.shape == (tess.n_primary, 3) and np.isfinite(gradient).mean() > 0.99
    values = FieldCache(tess, points.fields, points.metadata).vertex_values(FieldSpec.parse("redshift"))
    assert len(values) == len(tess.points) and np.isnan(values[tess.buffer]).all()
