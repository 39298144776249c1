"""``delvol project``, ``delvol iso`` and ``render --mode`` end to end."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE

from delvol.cli import main
from delvol.io.obj import load_obj

pytestmark = pytest.mark.gl


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def box_file(tmp_path_factory):
    rng = np.random.default_rng(8)
    path = tmp_path_factory.mktemp("exact") / "box.npy"
    np.save(path, np.concatenate([rng.uniform(0, 8, (900, 3)), rng.normal(4, 0.4, (300, 3))]))
    return path


def test_project_writes_a_fits_map_with_its_header(tmp_path, capsys, box_file):
    from astropy.io import fits

    out = tmp_path / "map.fits"
    code, err = run_cli(capsys, "project", box_file, "--periodic", "8", "--axis", "x", "--size", "40x32", "-o", out)
    assert code == 0, err
    with fits.open(out) as hdul:
        data, header = hdul[0].data, hdul[0].header
    assert data.shape == (32, 40)
    assert header["CTYPE1"] == "Y" and header["CTYPE2"] == "Z" and header["LOSAXIS"] == "x"
    assert header["CDELT1"] == pytest.approx(8 / 40) and header["CDELT2"] == pytest.approx(8 / 32)
    assert (header["XMIN"], header["XMAX"], header["YMIN"], header["YMAX"]) == (0.0, 8.0, 0.0, 8.0)
    assert header["MASSCONV"] == "unit mass per point" and header["ORIGIN"].startswith("delvol ")
    assert data.sum() * 0.2 * 0.25 == pytest.approx(1200, rel=1e-3)
    assert header["MAPMASS"] == pytest.approx(data.sum() * 0.2 * 0.25)


def test_project_npy_extent_defaults_to_the_data_bounds(tmp_path, capsys):
    out = tmp_path / "map.npy"
    code, err = run_cli(capsys, "project", SAMPLE, "--size", "24", "--supersample", "1", "-o", out)
    assert code == 0, err
    image = np.load(out)
    assert image.shape == (24, 24)
    # The hull touches every side of the exact data bounds: no empty margin.
    assert image[0].max() > 0 and image[-1].max() > 0 and image[:, 0].max() > 0 and image[:, -1].max() > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "map.png"], "must be a .fits or .npy"),
        (["--extent", "1", "0", "0", "1", "-o", "map.npy"], "X0 < X1"),
    ],
)
def test_project_bad_options_are_one_line_errors(tmp_path, capsys, args, message):
    args = [str(tmp_path / a) if a.startswith("map.") else a for a in args]
    code, err = run_cli(capsys, "project", SAMPLE, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_iso_writes_an_obj_that_loads_back(tmp_path, capsys, box_file):
    out = tmp_path / "halo.obj"
    code, err = run_cli(capsys, "iso", box_file, "--level", "20,60", "-o", out)
    assert code == 0, err
    mesh = load_obj(out)
    assert len(mesh.triangles) > 100
    assert np.linalg.norm(mesh.vertices - 4, axis=1).max() < 4 * np.sqrt(3)
    with pytest.raises(SystemExit) as exc:  # argparse refuses a level that is not a positive density
        run_cli(capsys, "iso", box_file, "--level", "0", "-o", tmp_path / "other.obj")
    assert exc.value.code == 2 and not (tmp_path / "other.obj").exists()


def test_render_modes_and_iso(tmp_path, capsys, box_file):
    from PIL import Image

    pictures = {}
    for mode in ("integral", "opacity"):
        out = tmp_path / f"{mode}.png"
        code, err = run_cli(capsys, "render", box_file, "--mode", mode, "--iso", "60", "--size", "96x64", "-o", out)
        assert code == 0, err
        with Image.open(out) as im:
            pictures[mode] = np.asarray(im).astype(int)
        assert pictures[mode].std() > 10
    assert np.abs(pictures["integral"] - pictures["opacity"]).max() > 20


def test_api_project_and_isosurface_match_the_commands(tmp_path, capsys, box_file):
    import delvol

    out = tmp_path / "map.npy"
    args = ("--periodic", "8", "--size", "20x16", "--engine", "scipy")
    code, err = run_cli(capsys, "project", box_file, *args, "-o", out)
    assert code == 0, err
    sigma = delvol.project(box_file, periodic=8.0, size=(20, 16), engine="scipy")
    assert sigma.extent == (0.0, 8.0, 0.0, 8.0) and sigma.pixel == pytest.approx((0.4, 0.5))
    np.testing.assert_array_equal(sigma.image, np.load(out))
    assert sigma.mass == pytest.approx(1200, rel=1e-3)
    with pytest.raises(ValueError, match="extent needs X0 < X1"):
        delvol.project(box_file, extent=(1, 0, 0, 1))
    obj = tmp_path / "halo.obj"
    assert run_cli(capsys, "iso", box_file, "--level", "20,60", "-o", obj)[0] == 0
    surface = delvol.isosurface(box_file, (20, 60))
    assert len(surface.triangles) == len(load_obj(obj).triangles)
