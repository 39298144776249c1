"""The Python API: delvol.load, tessellate, render (pixel for pixel what the CLI writes) and show."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE
from PIL import Image

import delvol
from delvol.cli import main
from delvol.errors import DelvolError
from delvol.geometry import Tessellation
from delvol.io import PointSet

pytestmark = pytest.mark.gl

CASES = {
    "sample": ([], {}),
    "periodic": (
        ["--periodic", "100", "--view", "+z", "--ortho", "--zoom", "1.5", "--cut", "slab", "--cut-width", "20",
         "--colormap", "viridis", "--stretch", "asinh", "--points", "--supersample", "2"],
        {"periodic": 100.0, "view": "+z", "ortho": True, "zoom": 1.5, "cut_mode": "slab", "cut_width": 20.0,
         "colormap": "viridis", "stretch": "asinh", "show_points": True, "supersample": 2},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_render_equals_cli_output(tmp_path, capsys, case):
    flags, options = CASES[case]
    out = tmp_path / "cli.png"
    assert main(["render", str(SAMPLE), "-o", str(out), "--size", "240x135", *flags]) == 0
    capsys.readouterr()
    cli = np.asarray(Image.open(out).convert("RGB"))
    image = delvol.render(str(SAMPLE), size=(240, 135), **options)
    assert image.shape == (135, 240, 3) and image.dtype == np.uint8
    assert image.std() > 5  # a picture, not a blank frame
    np.testing.assert_array_equal(image, cli)


def test_every_source_kind_gives_one_picture(sample_points):
    subset = sample_points[::8]
    tess = delvol.tessellate(subset)
    assert isinstance(tess, Tessellation) and tess.n_primary == len(subset)
    from_array = delvol.render(subset, size=(64, 48))
    for source in (PointSet(subset), tess):
        np.testing.assert_array_equal(delvol.render(source, size=(64, 48)), from_array)


def test_load_and_options(tmp_path):
    points = delvol.load(str(SAMPLE), max_points=1000, seed=3)
    assert isinstance(points, PointSet) and len(points) == 1000
    with pytest.raises(TypeError, match="colour"):
        delvol.render(points, colour="red")
    with pytest.raises(ValueError, match="zoom"):
        delvol.render(points, zoom=-1)
    with pytest.raises(DelvolError, match="box size"):
        delvol.tessellate(points, periodic=True)


def test_show_outside_a_notebook_is_a_picture(sample_points):
    picture = delvol.show(sample_points[::16], size=(80, 60))
    assert isinstance(picture, Image.Image) and picture.size == (80, 60)


def test_top_level_import_stays_light():
    import subprocess
    import sys

    code = "import sys, delvol; print('numpy' in sys.modules, 'moderngl' in sys.modules, delvol.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["False", "False"]
