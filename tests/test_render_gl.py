"""GL tests on headless EGL: exact numbers read back from small float framebuffers."""

from __future__ import annotations

import numpy as np
import pytest

from delvol.geometry import tessellate
from delvol.gl.passes import FloatTarget, ToneMapPass
from delvol.gl.renderer import Renderer
from delvol.scene.camera import Camera
from delvol.scene.colormaps import colormap
from delvol.scene.settings import RenderSettings

pytestmark = pytest.mark.gl
SIZE = 64


@pytest.fixture(scope="module")
def cloud():
    return np.random.default_rng(7).random((400, 3))


def top_view() -> Camera:
    """Orthographic, looking down z onto the unit cube, x to the right."""
    cam = Camera(projection="orthographic")
    cam.fit(np.zeros(3), np.ones(3), aspect=1.0, view="+z")
    return cam


def accumulate(ctx, tess, settings=None, passes=1, camera=None, size=SIZE):
    renderer = Renderer(ctx, settings or RenderSettings(hide_hull=False))
    renderer.set_tessellation(tess)
    renderer.resize((size, size))
    renderer.clear()
    vp = (camera or top_view()).view_projection(1.0)
    for _ in range(passes):
        renderer.accumulate(vp)
    out = renderer.accum.read()
    renderer.release()
    return out


def test_additivity_exact_counts(ctx, cloud):
    tess = tessellate(cloud)
    tess.density[:] = 1.0  # constant attribute: every fragment adds exactly 1
    once, twice = accumulate(ctx, tess), accumulate(ctx, tess, passes=2)
    assert once[..., 0].max() > 10  # many faces overlap in projection
    np.testing.assert_array_equal(twice[..., 0], 2 * once[..., 0])
    np.testing.assert_array_equal(once[..., 0], np.rint(once[..., 0]))


def test_additivity_real_densities(ctx, cloud):
    tess = tessellate(cloud)
    once, twice = accumulate(ctx, tess), accumulate(ctx, tess, passes=2)
    np.testing.assert_allclose(twice[..., 0], 2 * once[..., 0], rtol=1e-5)


def test_face_order_does_not_matter(ctx, cloud):
    tess = tessellate(cloud)
    base = accumulate(ctx, tess)
    tess.faces = tess.faces[np.random.default_rng(3).permutation(len(tess.faces))]
    shuffled = accumulate(ctx, tess)
    np.testing.assert_allclose(shuffled[..., 0], base[..., 0], rtol=1e-5, atol=1e-6 * base[..., 0].max())


def test_mirror_symmetry(ctx, cloud):
    mirrored = cloud * np.array([-1.0, 1.0, 1.0]) + np.array([1.0, 0.0, 0.0])
    a = accumulate(ctx, tessellate(cloud))[..., 0]
    b = accumulate(ctx, tessellate(mirrored))[..., 0]
    flipped = b[:, ::-1]
    inside = (a > 0) & (flipped > 0)
    assert inside.mean() > 0.5
    np.testing.assert_allclose(flipped[inside], a[inside], rtol=1e-3)


@pytest.mark.parametrize("weighting", ["sum", "length", "area"])
@pytest.mark.parametrize("hide_hull", [False, True])
def test_chunks_sum_to_the_full_frame(ctx, cloud, weighting, hide_hull):
    """Progressive refinement in chunks adds up to one full draw, weights included.

    Each chunk is a separate draw call whose primitive ids restart at 0, so a weight
    looked up without the chunk's offset would land on the wrong face.
    """
    renderer = Renderer(ctx, RenderSettings(hide_hull=hide_hull, weighting=weighting))
    renderer.set_tessellation(tessellate(cloud))
    renderer.resize((SIZE, SIZE))
    vp = top_view().view_projection(1.0)
    renderer.clear()
    for k in range(4):
        renderer.accumulate(vp, k / 4, (k + 1) / 4)
    chunks = renderer.accum.read()[..., 0]
    renderer.clear()
    renderer.accumulate(vp)
    full = renderer.accum.read()[..., 0]
    renderer.release()
    np.testing.assert_allclose(chunks, full, rtol=1e-5, atol=1e-9)
    assert full.max() > 0


def test_weights_scale_each_face(ctx):
    """Two triangles of areas 1 and 4 (relative): ``area`` weights them 1:4, ``length`` 1:2."""
    pts = np.array(
        [
            [0.1, 0.1, 0.2],
            [0.3, 0.1, 0.2],
            [0.1, 0.3, 0.2],
            [0.5, 0.5, 0.8],
            [0.9, 0.5, 0.8],
            [0.5, 0.9, 0.8],
            [0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0],
        ]
    )
    tess = tessellate(pts)
    tess.faces = np.array([[0, 1, 2], [3, 4, 5]], dtype=np.int32)
    tess.density[:] = 1.0
    tess.hull[:] = False
    values = {}
    for weighting in ("sum", "length", "area"):
        image = accumulate(ctx, tess, RenderSettings(hide_hull=False, weighting=weighting))[..., 0]
        values[weighting] = (image[int(0.8 * SIZE), int(0.18 * SIZE)], image[int(0.4 * SIZE), int(0.6 * SIZE)])
    small, large = values["sum"]
    assert small == large == 1.0
    area_small, area_large = values["area"]
    assert area_large / area_small == pytest.approx(4.0, rel=1e-5)
    length_small, length_large = values["length"]
    assert length_large / length_small == pytest.approx(2.0, rel=1e-5)


def test_hull_faces_hidden(ctx, cloud):
    tess = tessellate(cloud)
    shown = accumulate(ctx, tess, RenderSettings(hide_hull=False))[..., 1]
    hidden = accumulate(ctx, tess, RenderSettings(hide_hull=True))[..., 1]
    assert hidden.sum() < shown.sum()
    # Near the outline only hull-touching faces exist, so the covered area shrinks.
    assert (hidden > 0).sum() < 0.95 * (shown > 0).sum()
    assert ((hidden > 0) & (shown == 0)).sum() == 0


def test_cut_plane_half_and_slab(ctx, cloud):
    tess = tessellate(cloud)
    side = Camera(projection="orthographic")
    side.fit(np.zeros(3), np.ones(3), aspect=1.0, view="-y")  # x to the right, z up
    full = accumulate(ctx, tess, RenderSettings(hide_hull=False), camera=side)[..., 0]
    half = RenderSettings(hide_hull=False, cut_mode="half", cut_normal=np.array([0.0, 0.0, 1.0]), cut_offset=0.5)
    cut = accumulate(ctx, tess, half, camera=side)[..., 0]
    rows_above = slice(0, int(SIZE * 0.4))  # image top = high z, cut away
    assert cut[rows_above].max() == 0 and full[rows_above].max() > 0
    lower_rows = slice(int(SIZE * 0.6), int(SIZE * 0.9))
    np.testing.assert_allclose(cut[lower_rows], full[lower_rows], rtol=1e-5)
    slab = RenderSettings(
        hide_hull=False, cut_mode="slab", cut_normal=np.array([0.0, 0.0, 1.0]), cut_offset=0.5, cut_width=0.2
    )
    thin = accumulate(ctx, tess, slab, camera=side)[..., 0]
    rows = np.flatnonzero(thin.max(axis=1) > 0)
    assert 0.15 * SIZE < len(rows) < 0.3 * SIZE


def test_tonemap_monotonic_and_colormap_endpoints(ctx):
    values = np.logspace(-3, 3, SIZE * SIZE, dtype=np.float32).reshape(SIZE, SIZE)
    accum = FloatTarget(ctx, (SIZE, SIZE))
    accum.texture.write(np.stack([values, 0 * values, 0 * values, 0 * values], -1).astype(np.float32).tobytes())
    out = FloatTarget(ctx, (SIZE, SIZE))
    tonemap = ToneMapPass(ctx)
    table = colormap("viridis")
    for stretch in ("linear", "log", "asinh"):
        out.fbo.use()
        tonemap.draw(accum, RenderSettings(stretch=stretch, colormap="viridis"), (-2.0, 2.0), 1.0)
        rgb = out.read(3)[::-1].reshape(-1, 3)  # back to texture order, ascending values
        index = np.argmin(((rgb[:, None, :] - table[None, :, :]) ** 2).sum(-1), axis=1)
        assert (np.diff(index) >= 0).all(), stretch
        np.testing.assert_allclose(rgb[0], table[0], atol=1e-6)  # below the window floor
        np.testing.assert_allclose(rgb[-1], table[-1], atol=1e-6)  # above the window top
        assert index[values.reshape(-1) < 1e-2].max() == 0 and index[values.reshape(-1) > 1e2].min() == 255
    tonemap.release()
    accum.release()
    out.release()


def test_overlay_triangle_lands_on_expected_pixels(ctx):
    renderer = Renderer(ctx, RenderSettings(show_faces=False))
    tess = tessellate(np.random.default_rng(0).random((50, 3)))
    renderer.set_tessellation(tess)
    triangle = np.array([[0.2, 0.2, 0.5], [0.8, 0.2, 0.5], [0.2, 0.8, 0.5]])
    overlay = renderer.add_overlay(triangle, np.array([[0, 1, 2]]), np.zeros((0, 2)), (1.0, 0.0, 0.0), "surface")
    overlay.surface_alpha = 1.0
    cam = Camera(projection="orthographic")
    cam.scene_lower, cam.scene_upper = np.zeros(3), np.ones(3)
    cam.up = np.array([0.0, 1.0, 0.0])
    cam.look_at([0.5, 0.5, 3.0], [0.5, 0.5, 0.5])
    cam.ortho_height = 1.0
    target = FloatTarget(ctx, (SIZE, SIZE))
    renderer.render(target.fbo, cam.view_projection(1.0))
    image = target.read(3)
    px = cam.project(triangle, SIZE, SIZE)
    np.testing.assert_allclose(px, [[0.2 * SIZE, 0.8 * SIZE], [0.8 * SIZE, 0.8 * SIZE], [0.2 * SIZE, 0.2 * SIZE]])
    rows, cols = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    inside = (
        (cols > 0.2 * SIZE + 1)
        & (rows < 0.8 * SIZE - 1)
        & ((cols - 0.2 * SIZE) + (0.8 * SIZE - rows) < 0.6 * SIZE - 1.5)
    )
    outside = (
        (cols < 0.2 * SIZE - 1)
        | (rows > 0.8 * SIZE + 1)
        | ((cols - 0.2 * SIZE) + (0.8 * SIZE - rows) > 0.6 * SIZE + 1.5)
    )
    np.testing.assert_allclose(image[inside], [[1.0, 0.0, 0.0]] * int(inside.sum()))
    background = colormap(renderer.settings.colormap)[0]
    np.testing.assert_allclose(image[outside], np.broadcast_to(background, (int(outside.sum()), 3)), atol=1e-6)
    target.release()
    renderer.release()


def test_debug_mode_names_the_failing_step(ctx, cloud):
    renderer = Renderer(ctx, RenderSettings(), debug=True)
    renderer.set_tessellation(tessellate(cloud))
    renderer.resize((SIZE, SIZE))
    renderer.clear()
    renderer.accumulate(top_view().view_projection(1.0))  # clean: no error raised
    ctx.blend_func = (0x7FFF, 0x7FFF)  # an invalid blend factor leaves GL_INVALID_ENUM behind
    with pytest.raises(RuntimeError, match="GL_INVALID_ENUM after accumulating faces"):
        renderer.accumulate(top_view().view_projection(1.0))
    renderer.release()


@pytest.mark.real_data
@pytest.mark.parametrize(("mesh", "scale"), [("meshes/4769castalia_radar.obj", 20.0), ("meshes/spot.obj", 30.0)])
def test_real_meshes_overlay_where_their_vertices_project(ctx, mesh, scale):
    from conftest import shared_file

    from delvol.io.obj import load_obj

    obj = load_obj(shared_file(mesh), scale=scale, offset=(50.0, 50.0, 50.0))
    renderer = Renderer(ctx, RenderSettings(show_faces=False))
    renderer.set_tessellation(tessellate(np.random.default_rng(1).random((100, 3)) * 100))
    renderer.add_overlay(obj.vertices, obj.triangles, obj.lines, (1.0, 1.0, 1.0), "wire")
    cam = Camera(projection="orthographic")
    cam.fit(np.zeros(3), np.full(3, 100.0), aspect=1.0, view="+z")
    target = FloatTarget(ctx, (128, 128))
    renderer.render(target.fbo, cam.view_projection(1.0))
    drawn = target.read(3).min(axis=-1) > 0.99  # white wireframe pixels
    target.release()
    renderer.release()
    px = np.floor(cam.project(obj.vertices, 128, 128)).astype(int)
    assert drawn[px[:, 1], px[:, 0]].mean() > 0.9  # the vertices sit on drawn lines
    rows, cols = np.nonzero(drawn)
    assert rows.min() >= px[:, 1].min() - 1 and rows.max() <= px[:, 1].max() + 1
    assert cols.min() >= px[:, 0].min() - 1 and cols.max() <= px[:, 0].max() + 1
