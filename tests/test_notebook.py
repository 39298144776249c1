"""The notebook widget, headless: frames, and jupyter_rfb events as the browser sends them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jupyter_rfb")

import delvol
from delvol.notebook import Viewer, key_name

pytestmark = pytest.mark.gl

SIZE = (160, 90)


@pytest.fixture(scope="module")
def points(sample_points):
    return sample_points[::4]


@pytest.fixture
def viewer(points):
    widget = Viewer(points, size=SIZE)
    yield widget
    widget.release()


def send(widget, kind, **fields):
    """An event as jupyter_rfb's page script sends it, through the widget's own message handler."""
    event = {"type": kind, "timestamp": 0.0, **fields}
    if kind.startswith("pointer") or kind == "wheel":
        event.setdefault("modifiers", [])
        event.setdefault("buttons", [])
    if kind.startswith("pointer"):
        event.update(ntouches=0, touches={})
    widget._rfb_handle_msg(widget, event, [])


def settle(widget, frames=100):
    """Draw frames until every face is in (progressive detail)."""
    for _ in range(frames):
        image = widget.get_frame()
        if widget.state.progress.done >= 1:
            return image
    raise AssertionError("the view never completed")


def azimuth(vector):
    return np.arctan2(vector[1], vector[0])


def test_frames_have_the_canvas_size_and_refine(viewer):
    first = viewer.get_frame()
    assert first.shape == (SIZE[1], SIZE[0], 3) and first.dtype == np.uint8
    assert viewer.state.progress.done < 1 and viewer._rfb_draw_requested  # more frames are coming
    settle(viewer)
    send(viewer, "resize", width=100, height=50, ratio=2.0)
    assert viewer.get_frame().shape == (100, 200, 3)


def test_drag_orbits_the_focus(viewer):
    before = settle(viewer)
    camera = viewer.state.camera
    focus, distance, forward = camera.focus.copy(), camera.focus_distance, camera.forward.copy()
    send(viewer, "pointer_down", x=80, y=45, button=1, buttons=[1])
    send(viewer, "pointer_move", x=120, y=45, button=1, buttons=[1])
    send(viewer, "pointer_up", x=120, y=45, button=1, buttons=[])
    np.testing.assert_allclose(camera.focus, focus, atol=1e-9 * distance)
    assert camera.focus_distance == pytest.approx(distance)
    # 40 pixels to the right swing the camera 40 * 0.006 rad about the up axis, elevation kept.
    turned = np.angle(np.exp(1j * (azimuth(camera.forward) - azimuth(forward))))
    assert turned == pytest.approx(-0.24, abs=1e-6)
    assert camera.forward[2] == pytest.approx(forward[2])
    assert not np.array_equal(settle(viewer), before)


def test_wheel_zooms_in(viewer):
    before = settle(viewer)
    distance = viewer.state.camera.focus_distance
    send(viewer, "wheel", x=80, y=45, dx=0.0, dy=-200.0)  # two notches towards the page top: closer
    assert viewer.state.camera.focus_distance == pytest.approx(distance / 1.2**2)
    after = settle(viewer)
    lit = (before.max(axis=2) > 20).mean(), (after.max(axis=2) > 20).mean()
    assert lit[1] > lit[0]  # the data fill more of the frame


def test_keys_change_the_next_frame(viewer):
    before = settle(viewer)
    send(viewer, "key_down", key="t", modifiers=[])
    send(viewer, "key_up", key="t", modifiers=[])
    assert viewer.state.settings.stretch == "asinh"
    assert not np.array_equal(viewer.get_frame(), before)
    send(viewer, "key_down", key="M", modifiers=["Shift"])  # Shift+M: the previous colormap
    assert viewer.state.settings.colormap == "gray"
    send(viewer, "key_down", key="o", modifiers=[])
    assert viewer.state.camera.projection == "orthographic"
    send(viewer, "key_down", key="h", modifiers=[])
    assert "delvol viewer keys" in viewer.messages[-1]
    send(viewer, "key_down", key="Escape", modifiers=[])  # a widget is not quit
    assert viewer.state.running


def test_snapshot_is_the_full_render(viewer, points):
    viewer.get_frame()  # one partial frame: the snapshot still draws every face
    snapshot = viewer.snapshot().data
    np.testing.assert_array_equal(snapshot, delvol.render(points, size=SIZE))


def test_colour_by_a_field_and_cycle_it(points):
    from delvol.io import PointSet

    cloud = PointSet(points, fields={"x": points[:, 0], "z": points[:, 2]})
    widget = Viewer(cloud, size=SIZE, color_by="x", legend=True)
    try:
        assert widget.state.renderer.field_label is not None
        coloured = settle(widget)
        send(widget, "key_down", key="v", modifiers=[])
        assert widget.messages[-1].startswith("colour: z")
        assert (settle(widget) != coloured).any()
        send(widget, "close")  # the page closed the widget: everything is released
        assert widget._ctx is None
    finally:
        widget.release()


def test_browser_key_names():
    assert [key_name(k) for k in ("W", "ArrowUp", " ", "{", "F12", "!", "Shift")] == [
        "w", "up", "space", "left_bracket", "f12", "1", None,
    ]  # fmt: skip
