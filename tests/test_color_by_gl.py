"""``--color-by``: the density-weighted mean field read back from the float target against a
CPU rasteriser, one hue for a constant field, the field window and the legend."""

from __future__ import annotations

import numpy as np
import pytest
from test_render_gl import SIZE, accumulate, top_view

from delvol.geometry import tessellate
from delvol.render.colormaps import colormap
from delvol.render.legend import legend_image, paste_legend
from delvol.render.offscreen import render_image
from delvol.render.passes import FloatTarget
from delvol.render.renderer import Renderer
from delvol.render.settings import RenderSettings, auto_field_window, field_image

pytestmark = pytest.mark.gl


def field_scene(n=40, seed=2):
    points = np.random.default_rng(seed).random((n, 3))
    tess = tessellate(points)
    field = np.sin(3 * points[:, 0]) + points[:, 1] ** 2 - 0.4  # both signs
    return tess, field


def cpu_accumulation(tess, field, size=SIZE):
    """Sum over faces of rho and rho f at each pixel centre, by brute force, in the ortho top
    view; also how close each pixel centre comes to a face edge (ambiguous coverage)."""
    vp = top_view().view_projection(1.0)
    clip = np.c_[tess.points, np.ones(len(tess.points))] @ vp.T
    xy = (clip[:, :2] / clip[:, 3:] + 1) / 2 * size  # pixel units, y up
    centres = np.stack(np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="xy"), -1).reshape(-1, 2)
    rho_sum = np.zeros(len(centres))
    rho_f_sum = np.zeros(len(centres))
    edge = np.full(len(centres), np.inf)
    for face in tess.faces:
        a, b, c = xy[face]
        m = np.array([b - a, c - a]).T
        det = np.linalg.det(m)
        if abs(det) < 1e-12:
            continue
        lam = np.linalg.solve(m, (centres - a).T).T
        bary = np.column_stack([1 - lam.sum(1), lam])
        # Distance in pixels from each centre to the nearest edge line of the face.
        lengths = np.array([np.linalg.norm(c - b), np.linalg.norm(c - a), np.linalg.norm(b - a)])
        dist = np.abs(bary) * abs(det) / lengths
        inside = (bary >= 0).all(1)
        edge = np.minimum(edge, dist.min(1))
        rho = bary[inside] @ tess.density[face]
        f = bary[inside] @ field[face]
        rho_sum[inside] += rho
        rho_f_sum[inside] += rho * f
    flip = lambda v: v.reshape(size, size)[::-1]  # noqa: E731 -- rows top first, as FloatTarget.read
    return flip(rho_sum), flip(rho_f_sum), flip(edge)


def test_mean_field_matches_a_cpu_rasteriser(ctx):
    tess, field = field_scene()
    renderer = Renderer(ctx, RenderSettings(hide_hull=False))
    renderer.set_tessellation(tess)
    renderer.set_field(field[tess.origin], "f")
    renderer.resize((SIZE, SIZE))
    renderer.clear()
    renderer.accumulate(top_view().view_projection(1.0))
    gpu = renderer.accum.read()
    renderer.release()
    rho, rho_f, edge = cpu_accumulation(tess, field)
    clear = edge > 1e-3  # pixel centres on a face edge may go either way
    assert clear.mean() > 0.95 and (rho[clear] > 0).mean() > 0.3
    np.testing.assert_allclose(gpu[..., 0][clear], rho[clear], rtol=1e-5, atol=1e-6 * rho.max())
    np.testing.assert_allclose(gpu[..., 2][clear], rho_f[clear], rtol=1e-4, atol=1e-5 * np.abs(rho_f).max())
    covered = clear & (rho > 1e-3 * rho.max())
    mean_gpu = field_image(gpu, log=False)[covered]
    np.testing.assert_allclose(mean_gpu, rho_f[covered] / rho[covered], rtol=1e-4, atol=1e-5)
    # The mean lies within the field's range: a convex combination of vertex values.
    assert field.min() - 1e-6 <= mean_gpu.min() and mean_gpu.max() <= field.max() + 1e-6


def test_without_a_field_the_extra_channel_stays_zero(ctx):
    tess, _ = field_scene()
    image = accumulate(ctx, tess)
    assert image[..., 0].max() > 0 and not image[..., 2].any()


def test_a_constant_field_gives_a_single_hue(ctx):
    tess, _ = field_scene(200)
    settings = RenderSettings(hide_hull=False, field_colormap="RdBu_r")
    renderer = Renderer(ctx, settings)
    renderer.set_tessellation(tess)
    renderer.set_field(np.full(len(tess.points), 7.5), "constant")
    target = FloatTarget(ctx, (SIZE, SIZE))
    renderer.render(target.fbo, top_view().view_projection(1.0))
    rgb = target.read(3).reshape(-1, 3).astype(np.float64)
    window = renderer.field_window
    target.release()
    renderer.release()
    assert window[0] < 7.5 < window[1]
    lit = rgb.max(axis=1) > 0.05
    assert lit.mean() > 0.3
    hue = rgb[lit] / np.linalg.norm(rgb[lit], axis=1, keepdims=True)
    centre = colormap("RdBu_r")[128].astype(np.float64)
    np.testing.assert_allclose(hue, np.broadcast_to(centre / np.linalg.norm(centre), hue.shape), atol=2e-3)
    # Brightness still follows the density: many distinct levels.
    assert len(np.unique(np.round(rgb[lit, 0], 3))) > 20


def test_a_field_gradient_across_the_image_runs_through_the_colormap(ctx):
    tess, _ = field_scene(300)
    x = tess.points[:, 0]
    settings = RenderSettings(hide_hull=False, field_window=(0.0, 1.0), field_colormap="coolwarm", legend=True)
    renderer = Renderer(ctx, settings)
    renderer.set_tessellation(tess)
    renderer.set_field(x, "x")
    image = render_image(renderer, top_view(), (SIZE * 4, SIZE * 4))
    plain = render_image(renderer, top_view(), (SIZE * 4, SIZE * 4))
    renderer.settings.legend = False
    bare = render_image(renderer, top_view(), (SIZE * 4, SIZE * 4))
    renderer.release()
    np.testing.assert_array_equal(image, plain)
    legend = legend_image("coolwarm", (0.0, 1.0), "x", scale=0.5)  # render_image's scale at 256 pixels
    h, w = legend.shape[:2]
    changed = (image != bare).any(axis=2)
    assert changed[-12 - h : -12, 12 : 12 + w].mean() > 0.5 and not changed[: -12 - h].any()
    row = bare[bare.shape[0] // 2].astype(float)
    lit = row.max(axis=1) > 40
    blue_minus_red = row[lit, 2] - row[lit, 0]
    # Left (x = 0) is blue, right (x = 1) red.
    assert blue_minus_red[: lit.sum() // 4].mean() > 0 > blue_minus_red[-lit.sum() // 4 :].mean()


def test_auto_field_window_is_symmetric_when_it_straddles_zero():
    accum = np.zeros((4, 4, 3), dtype=np.float32)
    accum[..., 0] = 2.0
    accum[..., 2] = 2.0 * np.linspace(-1, 3, 16).reshape(4, 4)
    assert auto_field_window(field_image(accum, False), (0, 100)) == pytest.approx((-3.0, 3.0))
    accum[..., 2] = 2.0 * np.linspace(10, 1000, 16).reshape(4, 4)
    assert auto_field_window(field_image(accum, True), (0, 100)) == pytest.approx((1.0, 3.0))
    accum[0, 0, 0] = 0.0  # an empty pixel has no mean
    assert np.isnan(field_image(accum, False)[0, 0])


def test_legend_image_shows_the_colormap_and_window():
    legend = legend_image("coolwarm", (-2.0, 2.0), "vel:divergence (km/s per Mpc/h)")
    assert legend.dtype == np.uint8 and legend.shape[2] == 4
    table = (colormap("coolwarm") * 255).round()
    rgb = legend[..., :3].reshape(-1, 3).astype(float)
    for end in (table[0], table[-1]):
        assert (np.abs(rgb - end).max(axis=1) <= 1).any()
    canvas = np.zeros((200, 400, 3), dtype=np.uint8)
    pasted = paste_legend(canvas, legend)
    assert pasted[:100].max() == 0 and pasted[-40:, 20:200].max() > 100
    with pytest.raises(ValueError, match="field colormap"):
        RenderSettings(field_colormap="magma")
