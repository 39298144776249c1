"""Camera maths: projections to known pixels, motion, state round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from delvol.scene import quaternion as quat
from delvol.scene.camera import Camera


def test_quaternion_basics():
    q = quat.from_axis_angle([0, 0, 1], np.pi / 2)
    np.testing.assert_allclose(quat.rotate(q, [1, 0, 0]), [0, 1, 0], atol=1e-12)
    r = quat.from_axis_angle([1, 0, 0], np.pi / 2)
    # multiply(q, r): r first, then q.
    np.testing.assert_allclose(
        quat.rotate(quat.multiply(q, r), [0, 1, 0]), quat.rotate(q, quat.rotate(r, [0, 1, 0])), atol=1e-12
    )
    for q in (quat.from_axis_angle([1, 2, 3], 2.5), quat.from_axis_angle([0, 1, 0], np.pi)):
        back = quat.from_matrix(quat.to_matrix(q))
        assert min(np.abs(back - q).max(), np.abs(back + q).max()) < 1e-12
    half = quat.slerp(quat.IDENTITY, quat.from_axis_angle([0, 0, 1], 1.0), 0.5)
    np.testing.assert_allclose(half, quat.from_axis_angle([0, 0, 1], 0.5), atol=1e-12)


def test_known_points_project_to_known_pixels():
    cam = Camera(up=np.array([0.0, 1.0, 0.0]), fov_y=90.0)
    cam.scene_lower, cam.scene_upper = np.full(3, -1.0), np.full(3, 1.0)
    cam.look_at([0, 0, 5], [0, 0, 0])
    w, h = 200, 100
    px = cam.project(np.array([[0, 0, 0], [2.5, 0, 2.5], [0, 2.5, 2.5]]), w, h)
    # fov 90°: at depth 2.5 the half-height is 2.5 (the top edge) and the half-width 5.
    np.testing.assert_allclose(px, [[100, 50], [150, 50], [100, 0]], atol=1e-9)


def test_orthographic_axis_view_fits_box():
    cam = Camera()
    lower, upper = np.array([0.0, 0.0, 0.0]), np.array([420.0, 210.0, 100.0])
    cam.projection = "orthographic"
    cam.fit(lower, upper, aspect=2.0, view="+z")
    px = cam.project(np.array([[0, 0, 50], [420, 210, 50]]), 400, 200)
    # x to the right, y up on screen; the 420-wide box fills 1/1.04 of the width.
    assert px[0, 0] < px[1, 0] and px[0, 1] > px[1, 1]
    assert (px[1, 0] - px[0, 0]) == pytest.approx(400 / 1.04, rel=1e-9)


@pytest.mark.parametrize("scale", [1.0, 420.0, 1e-3])
def test_fit_sees_whole_box_at_any_scale(scale):
    cam = Camera()
    lower, upper = np.zeros(3), np.full(3, scale)
    cam.fit(lower, upper, aspect=16 / 9, azimuth=30, elevation=20)
    corners = np.array(np.meshgrid(*zip(lower, upper, strict=True), indexing="ij")).reshape(3, -1).T
    px = cam.project(corners, 1600, 900)
    assert (px[:, 0] > 0).all() and (px[:, 0] < 1600).all() and (px[:, 1] > 0).all() and (px[:, 1] < 900).all()
    near, far = cam.clip_planes()
    depth = (corners - cam.position) @ cam.forward
    assert near < depth.min() and far > depth.max()
    assert cam.speed == pytest.approx(0.25 * np.sqrt(3) * scale)


def test_motion_is_frame_rate_independent():
    a, b = Camera(mode="fly"), Camera(mode="fly")
    for cam in (a, b):
        cam.fit(np.zeros(3), np.ones(3))
    for _ in range(60):
        a.move(1, 0.5, 0, dt=1 / 60)
    for _ in range(15):
        b.move(1, 0.5, 0, dt=1 / 15)
    np.testing.assert_allclose(a.position, b.position, rtol=1e-12)


def test_orbit_keeps_focus_and_pitch_never_flips():
    cam = Camera(mode="orbit")
    cam.fit(np.zeros(3), np.ones(3))
    focus = cam.focus.copy()
    for _ in range(100):
        cam.turn(0.1, 0.05)
    np.testing.assert_allclose(cam.focus, focus, atol=1e-9)
    assert np.dot(cam.camera_up, cam.up) > 0  # up stays up even after pitching past the pole
    assert np.degrees(np.arcsin(np.dot(cam.forward, cam.up))) <= 89.0 + 1e-9
    cam.zoom(3)
    np.testing.assert_allclose(cam.focus, focus, atol=1e-9)


def test_state_round_trips_through_json():
    cam = Camera(mode="fly", projection="orthographic")
    cam.fit(np.array([-16.0] * 3), np.array([16.0] * 3))
    cam.turn(0.3, -0.2)
    cam.move(1, 1, 1, dt=0.7)
    back = Camera.from_state(json.loads(cam.to_json()))
    assert back.get_state() == cam.get_state()
    np.testing.assert_array_equal(back.view_projection(1.5), cam.view_projection(1.5))


def test_bad_state_rejected():
    with pytest.raises(ValueError, match="position"):
        Camera().set_state({"position": [1, 2]})
    with pytest.raises(ValueError, match="mode"):
        Camera().set_state({"mode": "warp"})
