"""The exact modes on the GPU rasteriser against slow CPU references (small images)."""

from __future__ import annotations

import numpy as np
import pytest

from delvol.geometry import tessellate
from delvol.geometry.interpolate import density_at
from delvol.geometry.tetrahedra import linear_field
from delvol.gl.projection import surface_density
from delvol.gl.renderer import Renderer
from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings


def accumulate(ctx, tess, view_proj, size, **settings) -> np.ndarray:
    """The float accumulation (r channel) of one full frame, first row at the top."""
    renderer = Renderer(ctx, RenderSettings(hide_hull=False, **settings))
    try:
        renderer.set_tessellation(tess)
        renderer.resize(size)
        renderer.clear()
        renderer.accumulate(view_proj)
        return renderer.accum.read(4).astype(np.float64)
    finally:
        renderer.release()


def pixel_rays(view_proj: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """World points where each pixel centre's ray enters and leaves the clip volume (rows from the top)."""
    w, h = size
    x = (np.arange(w) + 0.5) / w * 2 - 1
    y = 1 - (np.arange(h) + 0.5) / h * 2
    xx, yy = np.meshgrid(x, y)
    inv = np.linalg.inv(view_proj)
    ends = []
    for z in (-1.0, 1.0):
        ndc = np.stack([xx, yy, np.full_like(xx, z), np.ones_like(xx)], axis=-1).reshape(-1, 4)
        world = ndc @ inv.T
        ends.append(world[:, :3] / world[:, 3:])
    return ends[0], ends[1]


def ray_march(tess, start: np.ndarray, stop: np.ndarray, samples: int = 6000) -> np.ndarray:
    """Trapezoid rule on the interpolated field (scipy point location), 0 outside the hull."""
    t = np.linspace(0, 1, samples)
    out = np.empty(len(start))
    for i, (a, b) in enumerate(zip(start, stop, strict=True)):
        rho = np.nan_to_num(density_at(tess, a + t[:, None] * (b - a)))
        out[i] = np.trapezoid(rho, t) * np.linalg.norm(b - a)
    return out


def exact_integrals(tess, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Every tetrahedron's segment of every ray, in float64: the analytic line integral."""
    field = linear_field(tess.points, tess.tetrahedra, tess.density)
    out = np.empty(len(start))
    for i, (a, b) in enumerate(zip(start, stop, strict=True)):
        lam = np.einsum("tkj,tj->tk", field.planes, a - field.centroid) + 0.25
        rate = np.einsum("tkj,j->tk", field.planes, b - a)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = -lam / rate
        s_in = np.max(np.where(rate > 0, s, -np.inf), axis=1).clip(0, 1)
        s_out = np.min(np.where(rate < 0, s, np.inf), axis=1).clip(0, 1)
        hit = s_out > s_in
        rho_in = np.einsum("tk,tk->t", np.maximum(lam + s_in[:, None] * rate, 0), field.values)
        rho_out = np.einsum("tk,tk->t", np.maximum(lam + s_out[:, None] * rate, 0), field.values)
        out[i] = np.linalg.norm(b - a) * np.sum(np.where(hit, (s_out - s_in) * (rho_in + rho_out) / 2, 0))
    return out


def median_relative(gl: np.ndarray, ref: np.ndarray) -> float:
    mask = ref > 1e-3 * ref.max()
    return float(np.median(np.abs(gl[mask] - ref[mask]) / ref[mask]))


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(5)
    pts = np.concatenate([rng.uniform(-1, 1, (250, 3)), rng.normal((0.2, -0.1, 0.3), 0.1, (100, 3))])
    return tessellate(pts)


def test_single_tetrahedron_gives_the_analytic_projection(ctx):
    corners = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    tess = tessellate(corners, masses=np.array([1.0, 2.0, 5.0, 3.0]))
    rho = tess.density  # 4 m_i / V, V = 1/6
    size = (37, 29)
    sigma = surface_density(ctx, tess, "z", size, (0.0, 1.0, 0.0, 1.0))
    x = (np.arange(size[0]) + 0.5) / size[0]
    y = (np.arange(size[1]) + 0.5) / size[1]
    xx, yy = np.meshgrid(x, y)  # rows along y, increasing: the FITS convention
    h = np.clip(1 - xx - yy, 0, None)
    analytic = (rho[0] + rho[3]) * h**2 / 2 + (rho[1] * xx + rho[2] * yy) * h
    inside = h > 0.02
    np.testing.assert_allclose(sigma[inside], analytic[inside], rtol=2e-5)
    assert np.abs(sigma[~inside]).max() < 0.05 * analytic.max()


@pytest.mark.parametrize("projection", ["perspective", "orthographic"])
def test_integral_matches_a_ray_marched_reference(ctx, clustered, projection):
    size = (20, 16)
    cam = Camera(projection=projection)
    cam.fit(*clustered.bounds, size[0] / size[1], azimuth=35, elevation=25)
    view_proj = cam.view_projection(size[0] / size[1])
    gl = accumulate(ctx, clustered, view_proj, size, mode="integral")[..., 0].ravel()
    ref = ray_march(clustered, *pixel_rays(view_proj, size))
    assert median_relative(gl, ref) <= 1e-3
    # Against the analytic integral: float32 rounding (a ray grazing a face loses most).
    exact = exact_integrals(clustered, *pixel_rays(view_proj, size))
    rel = np.abs(gl - exact)[exact > 0] / exact[exact > 0]
    assert np.median(rel) < 1e-5 and rel.max() < 1e-2


def test_projection_matches_a_ray_marched_reference(ctx, clustered):
    size = (18, 14)
    extent = (-0.9, 0.9, -0.8, 0.9)
    sigma = surface_density(ctx, clustered, "y", size, extent)  # columns x, rows z
    u = extent[0] + (np.arange(size[0]) + 0.5) * (extent[1] - extent[0]) / size[0]
    v = extent[2] + (np.arange(size[1]) + 0.5) * (extent[3] - extent[2]) / size[1]
    uu, vv = (a.ravel() for a in np.meshgrid(u, v))
    start = np.column_stack([uu, np.full_like(uu, -2.0), vv])
    stop = np.column_stack([uu, np.full_like(uu, 2.0), vv])
    ref = ray_march(clustered, start, stop)
    assert median_relative(sigma.ravel(), ref) <= 1e-3


def test_far_camera_and_a_1e7_density_contrast_keep_the_precision(ctx):
    rng = np.random.default_rng(9)
    centre = np.array([0.31, -0.22, 0.17])
    halo = centre + rng.normal(0, 1.5e-3, (150, 3))
    pts = np.concatenate([rng.uniform(-1, 1, (300, 3)), halo])
    tess = tessellate(pts)
    assert tess.density.max() / np.median(tess.density) > 1e7
    size = (16, 16)
    for distance, fov in ((0.05, 20.0), (1e3, 0.0003)):  # near, then a thousand data sizes away
        cam = Camera(fov_y=fov)
        cam.look_at(centre + distance * np.array([0.6, 0.48, 0.64]), centre)
        cam.scene_lower, cam.scene_upper = tess.bounds
        view_proj = cam.view_projection(1.0)
        gl = accumulate(ctx, tess, view_proj, size, mode="integral")[..., 0].ravel()
        ref = exact_integrals(tess, *pixel_rays(view_proj, size))
        assert median_relative(gl, ref) <= 1e-3


def test_periodic_projection_tiles_the_box_and_holds_its_mass(ctx):
    rng = np.random.default_rng(4)
    pts = np.concatenate([rng.uniform(0, 10, (700, 3)), rng.normal(9.8, 0.3, (150, 3)) % 10])
    tess = tessellate(pts, periodic=10.0)
    for axis in "xyz":
        sigma = surface_density(ctx, tess, axis, (96, 80), supersample=4)
        mass = sigma.sum() * (10 / 96) * (10 / 80)
        assert mass == pytest.approx(len(pts), rel=1e-4)
    # Seamless: the halo straddles the corner and is drawn on both sides of every edge.
    assert sigma[0].max() > 10 * np.median(sigma) and sigma[:, 0].max() > 10 * np.median(sigma)


def test_opacity_zero_equals_the_integral(ctx, clustered):
    size = (24, 20)
    cam = Camera()
    cam.fit(*clustered.bounds, size[0] / size[1])
    view_proj = cam.view_projection(size[0] / size[1])
    integral = accumulate(ctx, clustered, view_proj, size, mode="integral")[..., 0]
    opaque = accumulate(ctx, clustered, view_proj, size, mode="opacity", opacity=0.0)
    np.testing.assert_allclose(opaque[..., 0], integral, rtol=1e-5, atol=1e-6 * integral.max())
    assert np.all(opaque[..., 3] == 0)


def test_opacity_front_and_back_views_differ_where_the_integral_mirrors(ctx):
    # A dense knot in front of (+z) a long, fainter bar.
    rng = np.random.default_rng(2)
    pts = np.concatenate(
        [
            rng.uniform(-1, 1, (300, 3)),
            rng.normal((0.0, 0.0, 0.6), 0.05, (150, 3)),
            rng.normal(0, [0.5, 0.05, 0.05], (150, 3)),
        ]
    )
    tess = tessellate(pts)
    size = (32, 32)
    images = {}
    for mode in ("integral", "opacity"):
        for view in ("+z", "-z"):
            cam = Camera(projection="orthographic")
            cam.fit(*tess.bounds, 1.0, view=view)
            images[mode, view] = accumulate(ctx, tess, cam.view_projection(1.0), size, mode=mode, opacity=20.0)[..., 0]
    # Seen from the other side, an additive image is the mirror image (about one axis or
    # the other, depending on the camera's up): the emission-absorption one is not.
    flips = {"left-right": lambda a: a[:, ::-1], "up-down": lambda a: a[::-1]}
    front, back = images["integral", "+z"], images["integral", "-z"]
    flip = flips[min(flips, key=lambda k: np.abs(front - flips[k](back)).max())]
    np.testing.assert_allclose(front, flip(back), rtol=1e-3, atol=1e-4 * front.max())
    o_front, o_back = images["opacity", "+z"], flip(images["opacity", "-z"])
    assert np.abs(o_front - o_back).max() > 0.2 * o_front.max()


def test_complementary_half_space_cuts_add_up_to_the_whole_integral(ctx, clustered):
    size = (24, 20)
    cam = Camera()
    cam.fit(*clustered.bounds, size[0] / size[1])
    view_proj = cam.view_projection(size[0] / size[1])
    normal = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    whole = accumulate(ctx, clustered, view_proj, size, mode="integral")[..., 0]
    parts = [
        accumulate(ctx, clustered, view_proj, size, mode="integral", cut_mode="half", cut_normal=n, cut_offset=w)
        for n, w in ((normal, 0.35), (-normal, -0.35))  # through the cluster
    ]
    assert parts[0].max() > 0.2 * whole.max() and parts[1].max() > 0.2 * whole.max()
    np.testing.assert_allclose(parts[0][..., 0] + parts[1][..., 0], whole, rtol=1e-4, atol=1e-5 * whole.max())


def test_tiles_read_the_eye_from_their_matrix(ctx, clustered):
    from delvol.gl.offscreen import render_image

    renderer = Renderer(ctx, RenderSettings(mode="integral", clim=(0.0, 3.0)))
    renderer.set_tessellation(clustered)
    cam = Camera()
    cam.fit(*clustered.bounds, 100 / 70)
    whole = render_image(renderer, cam, (100, 70)).astype(int)
    tiled = render_image(renderer, cam, (100, 70), max_tile=32).astype(int)
    renderer.release()
    assert np.abs(whole - tiled).max() <= 2
