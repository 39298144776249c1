"""The viewer driven headlessly, key by key, through EGL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from delvol.app.viewer import Viewer
from delvol.geometry import tessellate
from delvol.gl.passes import FloatTarget
from delvol.gl.renderer import Renderer
from delvol.scene.camera import Camera
from delvol.scene.paths import load_path
from delvol.scene.settings import RenderSettings

pytestmark = pytest.mark.gl
SIZE = (96, 64)


@pytest.fixture
def viewer(ctx, tmp_path):
    pts = np.random.default_rng(2).random((2000, 3)) * 10
    renderer = Renderer(ctx, RenderSettings())
    renderer.set_tessellation(tessellate(pts))
    camera = Camera()
    camera.fit(np.zeros(3), np.full(3, 10.0), aspect=SIZE[0] / SIZE[1])
    lines = []
    v = Viewer(
        renderer,
        camera,
        len(pts),
        tmp_path,
        reset=lambda c: c.fit(np.zeros(3), np.full(3, 10.0)),
        echo=lines.append,
        path_out=tmp_path / "path.json",
        duration=2.0,
    )
    v.lines = lines
    target = FloatTarget(ctx, SIZE)
    v.target = target
    yield v
    target.release()
    renderer.release()


def image(v):
    return v.target.read(3)


def test_progressive_frames_build_the_full_image(viewer, ctx):
    viewer.progress.rate = 100.0  # pretend the machine is slow: a few faces per frame
    viewer.frame(viewer.target.fbo, 1 / 60)
    assert 0 < viewer.progress.done < 0.1
    for _ in range(200):
        viewer.frame(viewer.target.fbo, 1 / 60)
        if viewer.progress.done >= 1:
            break
    assert viewer.progress.done == 1.0
    progressive = image(viewer)
    full = FloatTarget(ctx, SIZE)
    viewer.renderer.render(full.fbo, viewer.view_projection)
    np.testing.assert_allclose(progressive, full.read(3), atol=2e-6)
    full.release()


def test_held_key_moves_by_speed_times_dt(viewer):
    start = viewer.camera.position.copy()
    viewer.key("w", True)
    for _ in range(30):
        viewer.frame(viewer.target.fbo, 1 / 30)
    viewer.key("w", False)
    moved = np.linalg.norm(viewer.camera.position - start)
    assert moved == pytest.approx(viewer.camera.speed * 1.0, rel=1e-9)
    viewer.frame(viewer.target.fbo, 1 / 30)  # key up: the camera stays where it is
    np.testing.assert_allclose(np.linalg.norm(viewer.camera.position - start), moved)


def test_keys_change_the_look(viewer):
    viewer.frame(viewer.target.fbo, 0.0)
    before = image(viewer).copy()
    viewer.key("t", True)
    assert viewer.settings.stretch == "asinh"
    viewer.key("m", True)
    assert viewer.settings.colormap == "inferno"
    viewer.key("m", True, shift=True)
    assert viewer.settings.colormap == "magma"
    viewer.key("equal", True)
    assert viewer.settings.exposure == 0.25
    viewer.key("left_bracket", True, shift=True)
    _, hi = viewer.settings.clim
    assert hi == pytest.approx(viewer.renderer.auto_clim[1] - 0.1)
    viewer.frame(viewer.target.fbo, 0.0)
    assert not np.array_equal(before, image(viewer))
    viewer.key("1", True)
    viewer.frame(viewer.target.fbo, 0.0)
    assert np.ptp(image(viewer).reshape(-1, 3), axis=0).max() == 0  # faces off: only background
    viewer.key("h", True)
    assert "save a screenshot" in viewer.lines[-1]


def test_cut_plane_key_faces_the_view(viewer):
    viewer.key("x", True)
    s = viewer.settings
    assert s.cut_mode == "half"
    np.testing.assert_allclose(s.cut_normal, -viewer.camera.forward)
    offset = s.cut_offset
    viewer.key("period", True)
    assert s.cut_offset < offset
    viewer.key("x", True)
    assert s.cut_mode == "slab"


def test_screenshot_is_full_resolution_png(viewer):
    viewer.frame(viewer.target.fbo, 0.0)
    path = viewer.screenshot()
    assert path.exists() and str(path.resolve()) in viewer.lines[-1]
    with Image.open(path) as im:
        assert im.size == SIZE and im.mode == "RGB"
        assert np.asarray(im).std() > 1


def test_keyframes_save_and_play(viewer):
    viewer.key("k", True)
    viewer.camera.turn(0.5, 0.1)
    viewer.camera.move(1, 0, 0, dt=2.0)
    end = viewer.camera.get_state()
    viewer.key("k", True)
    assert viewer.renderer.path is not None
    viewer.key("s", True, ctrl=True)
    saved = load_path(viewer.path_out)
    assert len(saved.keyframes) == 2
    assert json.loads(viewer.path_out.read_text())["version"] == 1
    viewer.key("backspace", True)
    assert len(viewer.keyframes) == 1
    viewer.key("k", True)
    viewer.key("l", True)
    for _ in range(2 * 30 + 1):
        viewer.frame(viewer.target.fbo, 1 / 30)
    assert viewer.playing is None
    np.testing.assert_allclose(viewer.camera.position, end["position"], atol=1e-9)


def test_mode_keys_cycle_the_volume_and_opacity_refines_to_the_exact_composite(viewer):
    v = viewer
    v.key("z", True)
    assert v.settings.mode == "integral"
    v.frame(v.target.fbo, 0.0)
    while v.progress.done < 1.0:
        v.frame(v.target.fbo, 0.0)
    assert image(v).std() > 0.01
    v.key("z", True)
    assert v.settings.mode == "opacity"
    v.key("w", True)
    v.frame(v.target.fbo, 0.05)  # moving: a sorted subset, scaled up
    moving = image(v)
    v.key("w", False)
    v.frame(v.target.fbo, 0.0)
    v.frame(v.target.fbo, 0.0)  # at rest: the whole exact composite in one frame
    assert v.progress.done == 1.0
    assert moving.std() > 0.01 and image(v).std() > 0.01
    kappa = v.settings.opacity
    v.key("b", True)
    v.key("b", True, shift=True)
    v.key("b", True, shift=True)
    assert v.settings.opacity == pytest.approx(kappa / 2)
    assert v.progress.dirty
    v.key("z", True)
    assert v.settings.mode == "faces"


def test_iso_key_cycles_the_levels(viewer):
    v = viewer
    v.key("n", True)
    assert "--iso" in v.lines[-1]
    v.settings.iso_levels = (1000.0, 2000.0)
    for expected in (0, 1, -1, 0):
        v.key("n", True)
        assert v.settings.iso_shown == expected


def test_keys_cycle_the_colour_field_and_move_its_colour_limits(ctx, tmp_path):
    from delvol.geometry.fields import FieldCache, FieldSpec

    pts = np.random.default_rng(2).random((600, 3)) * 10
    tess = tessellate(pts)
    vel = pts @ np.diag([1.0, -2.0, 0.5])  # divergence -0.5 everywhere
    fields = FieldCache(tess, {"vel": vel, "t": pts[:, 2]}, {"units": "Mpc/h", "field_units": {"vel": "km/s"}})
    renderer = Renderer(ctx, RenderSettings(legend=True))
    renderer.set_tessellation(tess)
    camera = Camera()
    camera.fit(np.zeros(3), np.full(3, 10.0), aspect=SIZE[0] / SIZE[1])
    lines = []
    v = Viewer(renderer, camera, 600, tmp_path, echo=lines.append, fields=fields)
    target = FloatTarget(ctx, SIZE)
    try:
        assert v.field_choices[0] is None and FieldSpec("vel", derived="divergence") in v.field_choices
        assert FieldSpec("t") in v.field_choices and len(v.field_choices) == 1 + 6 + 1
        v.frame(target.fbo, 0.0)
        assert renderer.color_clim is None
        v.key("v", True)  # vel:x
        assert lines[-1] == "colour: vel:x (km/s)"
        v.progress.rate = 1e9
        v.frame(target.fbo, 0.0)
        lo, hi = renderer.color_clim
        assert 0 < lo < 2 and 8 < hi < 10  # x from 0 to 10, percentiles 2 and 98 of the pixels
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        v.key("f", True)
        assert renderer.color_clim == pytest.approx((centre - 1.25 * half, centre + 1.25 * half))
        v.key("j", True, shift=True)
        step = 0.25 * half
        assert renderer.color_clim == pytest.approx((centre - 1.25 * half + step, centre + 1.25 * half + step))
        for _ in range(3):
            v.key("v", True)
        assert lines[-1] == "colour: vel:divergence (km/s per Mpc/h)"
        assert v.settings.color_clim is None  # each field starts from its own colour limits
        v.frame(target.fbo, 0.0)
        mean = renderer.accum.read(3)
        covered = mean[..., 0] > 0
        np.testing.assert_allclose(mean[..., 2][covered] / mean[..., 0][covered], -0.5, rtol=1e-4)
        for _ in range(4):
            v.key("v", True, shift=True)
        assert lines[-1] == "colour: density" and renderer.field_label is None
        v.key("u", True)
        assert lines[-1] == "log10 colour: on" and renderer.settings.color_log
        v.key("v", True)  # vel:x = x, positive: log stays on
        assert renderer.settings.color_log
        v.key("v", True)  # vel:y = -2 y, negative: log goes off
        assert lines[-1].startswith("log10 colour off") and not renderer.settings.color_log
        v.key("7", True)
        assert lines[-1] == "legend: off"
    finally:
        target.release()
        renderer.release()


def test_every_bound_command_is_in_the_dispatch_table(ctx):
    from delvol.app.keymap import COMMANDS

    renderer = Renderer(ctx)
    try:
        viewer = Viewer(renderer, Camera(), 0)
        assert {command for _, command, _ in COMMANDS} == set(viewer.commands)
    finally:
        renderer.release()


def test_saving_onto_a_device_is_reported_not_fatal(viewer):
    viewer.path_out = Path(os.devnull)
    viewer.key("k", True)
    viewer.key("s", True, ctrl=True)
    assert viewer.lines[-1].startswith("saving the path failed") and "not a regular file" in viewer.lines[-1]
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)
