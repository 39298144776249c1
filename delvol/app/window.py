"""moderngl-window glue: a pyglet window whose events drive a :class:`Viewer`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from delvol.app.viewer import Viewer
from delvol.errors import DelvolError


def require_display() -> None:
    """Fail with one line, pointing at ``delvol render``, when no display can be opened.

    On X11 this connects to the server named by ``DISPLAY`` and lets go at once, so that a
    stale ``DISPLAY`` (a closed ssh tunnel, ``:77``, an unknown host) is reported plainly
    instead of as a traceback from inside pyglet.
    """
    if not sys.platform.startswith("linux"):
        return
    display = os.environ.get("DISPLAY")
    if not (display or os.environ.get("WAYLAND_DISPLAY")):
        raise DelvolError("no display (DISPLAY is not set); use `delvol render FILE -o out.png` to render offscreen")
    if display and not _x_server_answers(display):
        raise DelvolError(
            f"no display: cannot connect to the X server DISPLAY={display}; "
            "use `delvol render FILE -o out.png` to render offscreen"
        )


def _x_server_answers(display: str) -> bool:
    """Whether Xlib can open ``display`` (True when Xlib itself is missing: pyglet will say)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("X11")
    if name is None:
        return True
    xlib = ctypes.CDLL(name)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    handle = xlib.XOpenDisplay(display.encode())
    if not handle:
        return False
    xlib.XCloseDisplay(handle)
    return True


def key_names(keys: type) -> dict[object, str]:
    """moderngl-window key constants to delvol's logical names (``NUMBER_1`` -> ``"1"``)."""
    names: dict[object, str] = {}
    for attr in dir(keys):
        if attr.isupper() and not attr.startswith("ACTION"):
            name = attr.lower()
            for prefix in ("number_", "numpad_"):
                name = name.removeprefix(prefix)
            names.setdefault(getattr(keys, attr), name)
    return names


def open_window(size: tuple[int, int], title: str, vsync: bool = True):
    """A resizable pyglet window with an OpenGL 3.3 core context."""
    require_display()
    try:
        from moderngl_window.context.pyglet.window import Window

        return Window(title=title, size=size, resizable=True, vsync=vsync, gl_version=(3, 3))
    except Exception as exc:  # pyglet raises NoSuchDisplayException, GL errors, ...
        raise DelvolError(f"cannot open a window ({exc}); use `delvol render` to render offscreen") from exc


def run(window, make_viewer: Callable[[object], Viewer]) -> None:
    """Run the event loop until Esc or the window closes.

    ``make_viewer`` receives the window's moderngl context and returns the viewer.
    The viewer's camera gets the measured frame time as its explicit dt.
    """
    try:
        viewer = make_viewer(window.ctx)
    except BaseException:
        window.destroy()
        raise
    names = key_names(window.keys)

    def on_key(key, action, modifiers) -> None:
        name = names.get(key)
        if name is not None:
            viewer.key(name, action == window.keys.ACTION_PRESS, bool(modifiers.shift), bool(modifiers.ctrl))

    window.key_event_func = on_key
    window.mouse_drag_event_func = lambda x, y, dx, dy: viewer.drag(dx, dy)

    def on_press(x, y, button) -> None:
        if button == window.mouse.left:
            viewer.mouse_press()

    def on_release(x, y, button) -> None:
        if button == window.mouse.left:
            # Events come in window coordinates, the viewer picks in framebuffer pixels (HiDPI).
            viewer.mouse_release(x * window.pixel_ratio, y * window.pixel_ratio)

    window.mouse_press_event_func = on_press
    window.mouse_release_event_func = on_release
    window.mouse_scroll_event_func = lambda dx, dy: viewer.scroll(dy)
    window.resize_func = lambda width, height: viewer.invalidate()
    last = time.perf_counter()
    title_at = last
    try:
        while viewer.running and not window.is_closing:
            now = time.perf_counter()
            dt, last = now - last, now
            viewer.fps = 0.9 * viewer.fps + 0.1 / max(dt, 1e-6) if viewer.fps else 1 / max(dt, 1e-6)
            window.use()
            viewer.frame(window.fbo, min(dt, 0.25))
            if now - title_at > 0.5:
                window.title = viewer.title
                title_at = now
            window.swap_buffers()
    finally:
        viewer.renderer.release()
        window.destroy()
