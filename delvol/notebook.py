"""The viewer as a Jupyter widget: rendered offscreen on the kernel's machine, streamed to the page.

:class:`Viewer` is a ``jupyter_rfb`` RemoteFrameBuffer (the widget pygfx uses): the
kernel renders each frame through EGL, with no display, so it works on a remote cluster
node behind JupyterHub, and the browser sends back pointer, wheel and key events. It
drives the same :class:`delvol.app.viewer.Viewer` as ``delvol view``: drag orbits (or
looks around, in fly mode), the wheel zooms, and the viewer's keys work (H prints them).
While the view changes a frame draws a random subset of the faces sized to the frame
budget; when it stops, frames keep coming until every face is drawn.

Needs ``pip install "delvol[notebook]"`` (jupyter_rfb).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import moderngl
import numpy as np
from jupyter_rfb import RemoteFrameBuffer
from jupyter_rfb._utils import Snapshot

from delvol.app.viewer import Viewer as ViewerState
from delvol.app.viewer import scene_viewer
from delvol.gl.build import sprite_failures
from delvol.gl.context import create_offscreen_context
from delvol.gl.offscreen import to_uint8
from delvol.gl.passes import FloatTarget
from delvol.io.galaxy_store import GalaxyStore
from delvol.scene.description import Scene, Source

DEFAULT_SIZE = (800, 450)
"""Width and height of the widget in CSS pixels when none is given."""
WHEEL_STEP = 100.0
"""Wheel delta (CSS pixels) of one zoom step: one notch of a common mouse wheel."""
MAX_DT = 0.25  # seconds: a pause between frames must not fling the camera

# Browser key names (KeyboardEvent.key) that differ from delvol's logical key names.
# Shifted symbols map back to their key, so "Shift+[" arrives as "left_bracket" with Shift.
_KEYS = {
    "Tab": "tab", "Escape": "escape", "Backspace": "backspace", " ": "space",
    "ArrowUp": "up", "ArrowDown": "down", "ArrowLeft": "left", "ArrowRight": "right",
    "=": "equal", "+": "plus", "-": "minus", "_": "minus",
    "[": "left_bracket", "{": "left_bracket", "]": "right_bracket", "}": "right_bracket",
    ".": "period", ">": "period", ",": "comma", "<": "comma",
    ")": "0", "!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9",
}  # fmt: skip


def key_name(key: str) -> str | None:
    """delvol's logical name of a browser key (``"ArrowUp"`` -> ``"up"``, ``"W"`` -> ``"w"``)."""
    if key in _KEYS:
        return _KEYS[key]
    if len(key) == 1 and key.isalnum():
        return key.lower()
    if key[:1] == "F" and key[1:].isdigit():
        return key.lower()
    return None  # modifiers alone, dead keys, ...


class Viewer(RemoteFrameBuffer):
    """An interactive Delaunay volume in a notebook.

    Parameters
    ----------
    source : path, ndarray (N, 3), PointSet or Tessellation
    size : (int, int)
        Width and height in CSS pixels; the page may resize the widget afterwards.
    **options
        Any scene option, as for :func:`delvol.render` (``colormap``, ``view``,
        ``periodic``, ``sprites``, ...).

    Examples
    --------
    >>> viewer = delvol.notebook.Viewer("data/sample.npy", periodic=100)
    >>> viewer                          # the last line of a cell shows it
    >>> image = viewer.snapshot().data  # the full-quality (h, w, 3) uint8 image
    """

    def __init__(self, source: Source, size: tuple[int, int] = DEFAULT_SIZE, **options: Any) -> None:
        scene = Scene.from_options(source, **options)
        scene.check()
        points, tess = scene.read()
        width, height = (int(v) for v in size)
        super().__init__(css_width=f"{width}px", css_height=f"{height}px")
        self._ctx: moderngl.Context | None = create_offscreen_context()
        self._store = GalaxyStore(scene.path) if scene.sprites.sprites and scene.path is not None else None
        try:
            self.state: ViewerState = scene_viewer(
                self._ctx, scene, points, tess, (width, height), self._store, echo=self._echo
            )
        except BaseException:
            self._release_context()
            raise
        self._target: FloatTarget | None = None
        self._size = (width, height)
        self._ratio = 1.0
        self._pointer: tuple[float, float] | None = None
        self._last_frame = time.perf_counter()
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "resize": self._on_resize,
            "pointer_down": self._on_pointer_down,
            "pointer_move": self._on_pointer_move,
            "pointer_up": self._on_pointer_up,
            "wheel": self._on_wheel,
            "key_down": self._on_key,
            "key_up": self._on_key,
        }
        self.messages: list[str] = []
        """Lines the viewer printed (key map, picked galaxies, screenshot paths), newest last."""

    # -- frames ------------------------------------------------------------------------

    @property
    def frame_size(self) -> tuple[int, int]:
        """Width and height of the frames in device pixels (CSS size times the pixel ratio)."""
        return max(1, round(self._size[0] * self._ratio)), max(1, round(self._size[1] * self._ratio))

    def get_frame(self) -> np.ndarray:
        """Draw the next frame: (height, width, 3) uint8 (jupyter_rfb calls it for each draw)."""
        with self._current():
            if self._target is None or self._target.size != self.frame_size:
                if self._target is not None:
                    self._target.release()
                self._target = FloatTarget(self.context, self.frame_size)
            now = time.perf_counter()
            dt, self._last_frame = min(now - self._last_frame, MAX_DT), now
            self.state.frame(self._target.fbo, dt)
            pixels = to_uint8(self._target.read(3))
        state = self.state
        if state.progress.done < 1 or state.controller.moving or state.playing is not None or state.progress.dirty:
            self.request_draw()  # more faces to add, or the camera is still moving
        self.title = state.title
        return pixels

    @property
    def context(self) -> moderngl.Context:
        """The widget's own offscreen OpenGL context."""
        if self._ctx is None:
            raise RuntimeError("the viewer has been released")
        return self._ctx

    @contextmanager
    def _current(self) -> Iterator[None]:
        # Other contexts (a delvol.render call, another viewer) may have been made current
        # on this thread since the last frame.
        with self.context:
            yield

    def snapshot(self, pixel_ratio: float | None = None) -> Snapshot:
        """The current view with every face drawn, as a display object whose ``data`` is the image.

        ``snapshot().data`` is a (height, width, 3) uint8 array at the widget's size in
        device pixels; with no colour limits set, they come from this full view,
        as ``delvol.render`` picks it. ``pixel_ratio`` is ignored (jupyter_rfb's signature).
        """
        state = self.state
        state.size = self.frame_size
        state.renderer.resize(state.size)
        if state.settings.clim is None:
            state.renderer.auto_clim = None
        with self._current():
            image = state.full_frame()
        return Snapshot(image, *self._size, "snapshot", f"snapshot-rfb model{self._model_id}")

    # -- events (jupyter_rfb's event spec) ---------------------------------------------

    def handle_event(self, event: dict[str, Any]) -> None:
        """Apply one jupyter_rfb event to the viewer and ask for a new frame.

        The widget's context is made current first: a key may upload (V a field, a click a
        picked galaxy's picture).
        """
        kind = event.get("type") or event.get("event_type", "")
        if kind == "close":
            self.release()
            return
        handler = self._handlers.get(kind)
        if handler is not None and self._ctx is not None:
            with self._current():
                handler(event)
            self.request_draw()

    def _on_resize(self, event: dict[str, Any]) -> None:
        self._size = (max(1, int(event["width"])), max(1, int(event["height"])))
        self._ratio = float(event.get("ratio", event.get("pixel_ratio", 1.0)))
        self.state.invalidate()

    def _device(self, event: dict[str, Any]) -> tuple[float, float]:
        return event["x"] * self._ratio, event["y"] * self._ratio

    def _on_pointer_down(self, event: dict[str, Any]) -> None:
        if event.get("button") == 1:
            self._pointer = self._device(event)
            self.state.mouse_press()

    def _on_pointer_move(self, event: dict[str, Any]) -> None:
        if self._pointer is None or 1 not in event.get("buttons", ()):
            return
        x, y = self._device(event)
        self.state.drag(x - self._pointer[0], y - self._pointer[1])
        self._pointer = (x, y)

    def _on_pointer_up(self, event: dict[str, Any]) -> None:
        if event.get("button") == 1 and self._pointer is not None:
            self._pointer = None
            self.state.mouse_release(*self._device(event))

    def _on_wheel(self, event: dict[str, Any]) -> None:
        self.state.scroll(-float(event["dy"]) / WHEEL_STEP)  # the page scrolls down for positive dy

    def _on_key(self, event: dict[str, Any]) -> None:
        name = key_name(str(event.get("key", "")))
        if name is None or name == "escape":  # a notebook widget is not quit
            return
        modifiers = event.get("modifiers", ())
        pressed = (event.get("type") or event.get("event_type")) == "key_down"
        self.state.key(name, pressed, "Shift" in modifiers, "Control" in modifiers or "Meta" in modifiers)

    def _echo(self, line: str) -> None:
        self.messages.append(line)
        self.print(line)

    # -- resources -----------------------------------------------------------------------

    def release(self) -> None:
        """Free the GL context, the renderer and the galaxy store (closing the widget does it)."""
        if self._ctx is None:
            return
        warning = sprite_failures(self.state.renderer)
        if warning:
            self.messages.append(warning)
        with self._current():
            self.state.renderer.release()
            if self._target is not None:
                self._target.release()
                self._target = None
        self._release_context()

    def _release_context(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._ctx is not None:
            self._ctx.release()
            self._ctx = None
