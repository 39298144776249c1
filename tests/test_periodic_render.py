"""A periodic box renders as a clean cube with no edge bias."""

from __future__ import annotations

import numpy as np
import pytest

from delvol.geometry import tessellate
from delvol.gl.renderer import Renderer
from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings

pytestmark = pytest.mark.gl
PIXELS = 64


def test_periodic_poisson_projects_flat_to_the_box_edges(ctx):
    points = np.random.default_rng(5).random((6000, 3)) * 10.0
    tess = tessellate(points, periodic=10.0)
    renderer = Renderer(ctx, RenderSettings())
    renderer.set_tessellation(tess)
    camera = Camera(projection="orthographic")
    camera.fit(np.zeros(3), np.full(3, 10.0), aspect=1.0, view="+z")
    camera.ortho_height = 10.0  # the box fills the image exactly
    renderer.resize((PIXELS, PIXELS))
    renderer.clear()
    renderer.accumulate(camera.view_projection(1.0))
    image = renderer.accum.read(2)
    renderer.release()
    assert (image[..., 1] > 0).all()  # every pixel of the box is covered: no ragged outline
    # Faces crossed per ray: tight, a doubled or missing band at the edges would be +-50%.
    # Summed density: DTFE of Poisson points is heavy-tailed, so its profile is noisier.
    for channel, tolerance in ((1, 0.03), (0, 0.1)):
        values = image[..., channel]
        for profile in (values.mean(axis=0), values.mean(axis=1)):  # along x, along y
            assert profile[:3].mean() == pytest.approx(profile.mean(), rel=tolerance)
            assert profile[-3:].mean() == pytest.approx(profile.mean(), rel=tolerance)


def test_periodic_clip_discards_faces_outside_box(ctx):
    points = np.random.default_rng(6).random((3000, 3)) * 10.0
    tess = tessellate(points, periodic=10.0)
    assert tess.points.min() < 0 and tess.points.max() > 10  # images outside the box
    renderer = Renderer(ctx, RenderSettings())
    renderer.set_tessellation(tess)
    camera = Camera(projection="orthographic")
    camera.fit(np.full(3, -5.0), np.full(3, 15.0), aspect=1.0, view="+z")  # a view twice the box
    renderer.resize((PIXELS, PIXELS))
    renderer.clear()
    renderer.accumulate(camera.view_projection(1.0))
    covered = renderer.accum.read(1)[..., 0] > 0
    renderer.release()
    rows, cols = np.nonzero(covered)
    px = camera.project(np.array([[0.0, 10.0, 5.0], [10.0, 0.0, 5.0]]), PIXELS, PIXELS)
    assert cols.min() >= np.floor(px[0, 0]) and cols.max() <= np.ceil(px[1, 0])
    assert rows.min() >= np.floor(px[0, 1]) and rows.max() <= np.ceil(px[1, 1])
