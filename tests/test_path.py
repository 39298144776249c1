"""Camera paths: exact keyframes, steady speed, no flips, orbit and dolly, path files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import brentq

from delvol.errors import DelvolError
from delvol.scene import quaternion as quat
from delvol.scene.camera import Camera
from delvol.scene.paths import CameraPath, dolly_path, load_path, orbit_path, save_path
from delvol.scene.paths.base import eased

LOWER, UPPER = np.zeros(3), np.full(3, 10.0)


def keyframes() -> list[dict]:
    """Five keyframes of a fly-through, unevenly spaced, turning and zooming on the way."""
    camera = Camera(mode="fly")
    camera.fit(LOWER, UPPER)
    states = [camera.get_state()]
    for yaw, pitch, forward, right, dt in [
        (0.3, 0.1, 1, 0, 4),
        (-0.5, -0.1, 1, 1, 1),
        (0.8, 0, 1, -1, 6),
        (0.2, 0.2, 0, 1, 2),
    ]:
        camera.turn(yaw, pitch)
        camera.move(forward, right, 0, dt=dt)
        states.append(camera.get_state())
    states[2]["fov_y"] = 30.0
    return states


def column(states: list[dict], key: str) -> np.ndarray:
    return np.array([s[key] for s in states])


def same_rotation(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference between quaternions a and b, either sign of b."""
    return min(np.abs(a - b).max(), np.abs(a + b).max())


def step_angles(states: list[dict]) -> np.ndarray:
    q = column(states, "rotation")
    return 2 * np.arccos(np.clip(np.sum(q[1:] * q[:-1], axis=1), -1, 1))


@pytest.mark.parametrize("ease", [0.0, 0.2])
def test_path_passes_through_every_keyframe(ease):
    keys = keyframes()
    path = CameraPath(keys, ease=ease)
    for key, t in zip(keys, path.times, strict=True):
        u = t if ease == 0 or t in (0.0, 1.0) else brentq(lambda u, t=t: eased(u, ease) - t, 0, 1, xtol=1e-15)
        state = path.state_at(u)
        np.testing.assert_allclose(state["position"], key["position"], rtol=0, atol=1e-9)
        assert same_rotation(np.array(state["rotation"]), np.array(key["rotation"])) < 1e-9
        for name in ("focus_distance", "fov_y", "ortho_height", "speed"):
            assert state[name] == pytest.approx(key[name], rel=1e-9)
        assert state["mode"] == key["mode"] and state["scene_upper"] == key["scene_upper"]


def test_speed_is_steady_and_keyframe_times_follow_arc_length():
    path = CameraPath(keyframes(), ease=0)
    # Frames close enough that a step's chord matches its arc even in the tightest turn.
    positions = column(path.states(1001), "position")
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    assert np.abs(steps / steps.mean() - 1).max() < 0.002
    # Unevenly spaced keyframes are reached at uneven times.
    assert np.ptp(np.diff(path.times)) > 0.1


def test_ease_starts_and_stops_gently_and_cruises_steadily():
    path = CameraPath(keyframes(), ease=0.2)
    positions = column(path.states(1001), "position")
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    cruise = steps[210:790]  # frames inside u = 0.2 .. 0.8
    assert np.abs(cruise / cruise.mean() - 1).max() < 0.002
    assert steps[0] < 0.001 * cruise.mean() and steps[-1] < 0.001 * cruise.mean()
    assert np.all(np.diff(steps[:190]) > 0)


def test_orientation_never_flips_even_with_sign_flipped_keyframes():
    keys = keyframes()
    flipped = [dict(k, rotation=(-np.array(k["rotation"])).tolist()) if i % 2 else k for i, k in enumerate(keys)]
    states = CameraPath(keys, ease=0).states(200)
    states_flipped = CameraPath(flipped, ease=0).states(200)
    for run in (states, states_flipped):
        assert step_angles(run).max() < np.radians(5)  # a flip would be a step of half a turn
        ups = np.array([Camera.from_state(s).camera_up for s in run])
        assert (ups @ np.array([0.0, 0.0, 1.0]) > 0.5).all()
    sign = np.sign(np.dot(states[0]["rotation"], states_flipped[0]["rotation"]))
    np.testing.assert_allclose(column(states, "rotation"), sign * column(states_flipped, "rotation"), atol=1e-12)


def test_scales_interpolate_in_log_space():
    keys = keyframes()[:2]
    keys[0]["fov_y"], keys[1]["fov_y"] = 20.0, 80.0
    path = CameraPath(keys, ease=0)
    assert path.state_at(0.5)["fov_y"] == pytest.approx(40.0)  # the geometric mean
    fovs = column(path.states(50), "fov_y")
    assert np.all(np.diff(fovs) > 0)


def test_single_keyframe_is_a_static_path():
    key = keyframes()[1]
    path = CameraPath([key])
    assert all(s == key for s in path.states(4))
    assert path.state_at(0.5) is not path.state_at(0.5)  # callers may change what they get


def test_two_keyframes_make_a_straight_line_at_constant_speed():
    keys = keyframes()[::4]
    positions = column(CameraPath(keys, ease=0).states(40), "position")
    run = np.subtract(keys[1]["position"], keys[0]["position"])
    off_line = np.cross(positions - positions[0], run / np.linalg.norm(run))
    assert np.abs(off_line).max() < 1e-9
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    np.testing.assert_allclose(steps, np.linalg.norm(run) / 39, rtol=1e-4)


def test_repeated_positions_hold_the_camera_while_it_turns():
    a, b, c = keyframes()[:3]
    turned = dict(a, rotation=quat.multiply(quat.from_axis_angle([0, 0, 1], 1.0), a["rotation"]).tolist())
    keys = [a, turned, b, dict(b, fov_y=20.0), c]
    path = CameraPath(keys, ease=0)
    assert np.all(np.diff(path.times) > 0)
    # The two stationary segments get a quarter of the time each: time by keyframe index.
    np.testing.assert_allclose(np.diff(path.times)[[0, 2]], 0.25)
    states = path.states(81)
    positions = column(states, "position")
    assert np.isfinite(positions).all() and np.isfinite(column(states, "rotation")).all()
    np.testing.assert_array_equal(positions[:21], np.broadcast_to(a["position"], (21, 3)))
    for key, t in zip(keys, path.times, strict=True):
        np.testing.assert_allclose(path.state_at(t)["position"], key["position"], atol=1e-9)
        assert same_rotation(np.array(path.state_at(t)["rotation"]), np.array(key["rotation"])) < 1e-9


def test_pure_rotation_is_timed_by_angle():
    key = keyframes()[0]
    q0 = np.array(key["rotation"])
    turns = [0.0, 0.5, 2.0]  # radians about world up: a 0.5 then a 1.5 radian turn
    keys = [dict(key, rotation=quat.multiply(quat.from_axis_angle([0, 0, 1], a), q0).tolist()) for a in turns]
    path = CameraPath(keys, ease=0)
    np.testing.assert_allclose(path.times, [0.0, 0.25, 1.0])
    states = path.states(41)
    np.testing.assert_array_equal(column(states, "position"), np.broadcast_to(key["position"], (41, 3)))
    np.testing.assert_allclose(step_angles(states), 2.0 / 40, rtol=1e-6)


def test_keyframes_may_leave_out_what_does_not_change():
    base = keyframes()[0]
    path = CameraPath([{"position": [1, 2, 3]}, {"position": [4, 5, 6], "projection": "orthographic"}], base=base)
    assert path.keyframes[0]["scene_upper"] == base["scene_upper"] and path.keyframes[0]["fov_y"] == base["fov_y"]
    assert path.keyframes[1]["rotation"] == base["rotation"]
    assert path.state_at(0.0)["projection"] == "perspective"
    assert path.state_at(1.0)["projection"] == "orthographic"


def test_orbit_returns_to_its_start_at_constant_distance_and_elevation():
    path = orbit_path((LOWER, UPPER), elevation_deg=35, aspect=4 / 3)
    assert path.closed and path.state_at(0.0) == path.state_at(1.0)
    assert path.frame_times(4).tolist() == [0.0, 0.25, 0.5, 0.75]
    centre = (LOWER + UPPER) / 2
    cameras = [Camera.from_state(s) for s in path.states(90)]
    offsets = np.array([c.position for c in cameras]) - centre
    distances = np.linalg.norm(offsets, axis=1)
    np.testing.assert_allclose(distances, distances[0], rtol=1e-12)
    np.testing.assert_allclose(np.degrees(np.arcsin(offsets[:, 2] / distances)), 35.0, atol=1e-9)
    np.testing.assert_allclose(np.array([c.focus for c in cameras]), np.broadcast_to(centre, (90, 3)), atol=1e-9)
    assert step_angles(path.states(90)).max() < np.radians(4.1)
    corners = np.array(np.meshgrid(*zip(LOWER, UPPER, strict=True), indexing="ij")).reshape(3, -1).T
    for camera in cameras:  # the whole box stays in the 400×300 frame all the way round
        px = camera.project(corners, 400, 300)
        assert (px > 0).all() and (px[:, 0] < 400).all() and (px[:, 1] < 300).all()


def test_orbit_of_a_camera_keeps_its_distance_and_moves_it_to_the_elevation():
    camera = Camera()
    camera.fit(LOWER, UPPER, azimuth=70, elevation=10)
    path = orbit_path(camera, elevation_deg=-30, turns=-2)
    start = Camera.from_state(path.state_at(0.0))
    offset = start.position - (LOWER + UPPER) / 2
    assert np.linalg.norm(offset) == pytest.approx(camera.focus_distance)
    assert np.degrees(np.arcsin(offset[2] / np.linalg.norm(offset))) == pytest.approx(-30)
    np.testing.assert_allclose(path.state_at(0.5)["position"], start.position, atol=1e-12)
    quarter = np.array(path.state_at(0.125)["position"]) - (LOWER + UPPER) / 2
    assert np.cross(offset, quarter)[2] < 0  # negative turns go clockwise seen from above
    camera.look_at((LOWER + UPPER) / 2 + [0, 0, 30], (LOWER + UPPER) / 2)  # straight above
    level = Camera.from_state(orbit_path(camera, elevation_deg=0).state_at(0.0))
    assert level.position[2] == pytest.approx(5) and np.dot(level.camera_up, level.up) > 0.999
    with pytest.raises(ValueError, match="elevation"):
        orbit_path(camera, elevation_deg=90)
    with pytest.raises(ValueError, match="turns"):
        orbit_path(camera, turns=0)


def test_dolly_runs_straight_at_constant_speed_keeping_the_target_in_view():
    start, end, target = np.array([-20.0, 5, 5]), np.array([-5.0, 5, 8]), UPPER / 2
    path = dolly_path((LOWER, UPPER), start, end, look_at=target, ease=0)
    states = path.states(31)
    positions = column(states, "position")
    np.testing.assert_allclose(positions, start + np.linspace(0, 1, 31)[:, None] * (end - start), atol=1e-12)
    for state in states:
        camera = Camera.from_state(state)
        np.testing.assert_allclose(camera.focus, target, atol=1e-9)
        np.testing.assert_allclose(camera.project(target, 200, 100), [[100, 50]], atol=1e-6)
    assert step_angles(states).max() < np.radians(5)
    ahead = dolly_path((LOWER, UPPER), start, end).states(3)
    assert ahead[0]["rotation"] == ahead[2]["rotation"]
    direction = (end - start) / np.linalg.norm(end - start)
    np.testing.assert_allclose(Camera.from_state(ahead[1]).forward, direction, atol=1e-12)
    with pytest.raises(ValueError, match="different"):
        dolly_path((LOWER, UPPER), start, start)
    with pytest.raises(ValueError, match="on its run"):
        dolly_path((LOWER, UPPER), start, end, look_at=(start + end) / 2)


def test_path_file_round_trips(tmp_path):
    path = CameraPath(keyframes(), ease=0.1)
    save_path(tmp_path / "fly.json", path)
    back = load_path(tmp_path / "fly.json")
    assert back.keyframes == path.keyframes and back.ease == 0.1
    assert back.states(7) == path.states(7)
    (tmp_path / "bare.json").write_text(json.dumps(keyframes()))
    assert load_path(tmp_path / "bare.json").keyframes == path.keyframes


STATE = {"position": [1.0, 2.0, 3.0], "rotation": [0.0, 0.0, 0.0, 1.0]}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"version": 1, "keyframes": [', "not valid JSON"),
        ('[{"position": [NaN, 0, 0]}]', "non-finite number NaN"),
        ('[{"fov_y": 1e999}]', "fov_y must be a positive finite number"),
        ('[{"fov_y": -5}]', "fov_y"),
        ('{"keyframes": []}', "at least one keyframe"),
        ("[]", "at least one keyframe"),
        ('{"version": 2, "keyframes": [{}]}', "unsupported path version 2"),
        ('{"keyframe": [{}]}', "unknown key 'keyframe'"),
        ('{"ease": 0.1}', 'missing "keyframes"'),
        ('{"keyframes": {"position": [0, 0, 0]}}', "must be a list"),
        ("42", "expected a JSON object"),
        ("[1, 2]", "keyframe 0 must be a camera state object"),
        ('[{}, {"position": [1, 2]}]', "keyframe 1: camera position must be 3 finite numbers"),
        ('[{"rotation": [0, 0, 0, "w"]}]', "keyframe 0"),
        ('[{"mode": "warp"}]', "keyframe 0: camera mode"),
        ('[{"speed": null}]', "keyframe 0"),
        ('{"keyframes": [{}], "ease": 2}', "ease must be"),
    ],
)
def test_bad_path_file_gets_one_line_error_naming_it(tmp_path, text, problem):
    file = tmp_path / "bad path.json"
    file.write_text(text)
    with pytest.raises(DelvolError) as info:
        load_path(file)
    message = str(info.value)
    assert message.startswith(f"{file}: ") and problem in message and "\n" not in message


def test_missing_path_file_is_named(tmp_path):
    with pytest.raises(DelvolError, match="no such file") as info:
        load_path(tmp_path / "nowhere.json")
    assert str(tmp_path / "nowhere.json") in str(info.value)
