"""The interactive viewer's state and behaviour, independent of any window.

:class:`Viewer` takes logical input (key names, drags, scrolls) and renders frames into
whatever framebuffer it is given, so the window glue stays thin and tests can drive a
viewer headlessly through EGL, key by key.

Progressive detail keeps a CPU-only machine interactive: while the view changes, each
frame draws only a random subset of the faces sized to the frame budget (scaled up to
the full brightness); once it stops, further frames add the remaining faces chunk by
chunk into the same accumulation, so the full image builds up without freezing input.
The ``integral`` mode does the same with tetrahedra. The ``opacity`` mode cannot add up
chunks, so while the view moves it composites a random subset of the tetrahedra sized to
the budget, sorted exactly among themselves, with emission and extinction scaled up for
the fraction drawn (cheap, and unlike weighted blended transparency it keeps the front of
the cloud in front); once the view rests, one frame sorts and composites them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import moderngl
import numpy as np

from delvol.app.keymap import HELD_MOTIONS, command_for, help_text
from delvol.app.picking import GalaxyPicker
from delvol.blocks.lod import DEFAULT_FACE_BUDGET, BlockFaces
from delvol.errors import DelvolError
from delvol.geometry import Tessellation
from delvol.geometry.fields import FieldCache, FieldSpec
from delvol.gl.build import blocks_renderer, build_renderer
from delvol.gl.offscreen import save_png, to_uint8
from delvol.gl.passes import FloatTarget
from delvol.gl.renderer import Renderer
from delvol.io import PointSet
from delvol.io.galaxy_store import GalaxyStore
from delvol.scene.camera import Camera
from delvol.scene.colormaps import COLORMAPS
from delvol.scene.controller import CameraController
from delvol.scene.description import Scene
from delvol.scene.paths import CameraPath, save_path
from delvol.scene.settings import CUT_MODES, MODES, STRETCHES, WEIGHTINGS, check_clim, cycle

# Seconds of face drawing per frame. While the view changes the budget leaves room for
# the tone map and swap within 50 ms (20 fps); once it stops, larger chunks spend less of
# each frame on that fixed cost, so the full image arrives sooner (still 8+ fps for input).
MOVING_BUDGET = 0.03
REFINE_BUDGET = 0.1
CLICK_SLOP = 4.0  # pixels a press may drag and still count as a click
INITIAL_RATE = 1.0e6  # faces per second before the first measurement (llvmpipe: ~1.4e6)


@dataclass
class Progress:
    """How much of the current view has been accumulated."""

    done: float = 0.0
    dirty: bool = True
    rate: float = INITIAL_RATE


class Viewer:
    """Camera, renderer and the state that input changes.

    Parameters
    ----------
    renderer : Renderer
        With the tessellation and overlays already uploaded.
    camera : Camera
        Fitted to the data.
    n_points : int
        Shown in the title.
    screenshot_dir : path
        Where P / F12 write PNGs.
    reset : callable
        Re-fits the camera to the data (R).
    echo : callable
        Receives the lines the viewer prints (help, screenshot paths).
    path_out : path
        Where Ctrl+S saves the keyframes.
    duration : float
        Seconds that L takes to play the path: the length of the movie ``delvol fly``
        makes from it with the same ``--duration``.
    picker : GalaxyPicker, optional
        Reads the row and picture of a clicked galaxy sprite (a galaxy store's viewer).
    fields : FieldCache, optional
        The per-point fields that V cycles through as the hue, with the density alone
        among the choices.
    field : FieldSpec, optional
        The field the renderer shows at the start (``--color-by``).
    """

    def __init__(
        self,
        renderer: Renderer,
        camera: Camera,
        n_points: int,
        screenshot_dir: str | Path = ".",
        reset: Callable[[Camera], None] | None = None,
        echo: Callable[[str], None] = print,
        path_out: str | Path = "delvol-path.json",
        duration: float = 20.0,
        picker: GalaxyPicker | None = None,
        fields: FieldCache | None = None,
        field: FieldSpec | None = None,
    ) -> None:
        self.renderer = renderer
        self.settings = renderer.settings
        self.camera = camera
        self.controller = CameraController(camera)
        self.n_points = n_points
        self.screenshot_dir = Path(screenshot_dir)
        self._reset = reset
        self.echo = echo
        self.progress = Progress()
        self.size = (1, 1)
        self.fps = 0.0
        self.running = True
        self._clim_done = 0.0
        self.keyframes: list[dict] = []
        self.path_out = Path(path_out)
        self.duration = duration
        self.playing: tuple[CameraPath, float] | None = None  # the path and how far along it (0 to 1)
        self.picker = picker
        self._dragged: float | None = None  # how far the mouse has moved since its press; None when up
        self.fields = fields
        self.field_choices: list[FieldSpec | None] = [None] + (fields.choices(field) if fields else [])
        self.field_index = self.field_choices.index(field)
        # The commands that keymap.COMMANDS binds to keys, by name.
        self.commands: dict[str, Callable[[], None]] = {
            "toggle_mode": self._cmd_toggle_mode,
            "reset": self._cmd_reset,
            "toggle_projection": self._cmd_toggle_projection,
            "exposure_up": partial(self._exposure, 0.25),
            "exposure_down": partial(self._exposure, -0.25),
            "cycle_stretch": self._cmd_cycle_stretch,
            "cycle_colormap": self._cmd_cycle_colormap,
            "cycle_colormap_back": self._cmd_cycle_colormap_back,
            "cycle_render_mode": self._cmd_cycle_render_mode,
            "opacity_up": partial(self._opacity, 2.0),
            "opacity_down": partial(self._opacity, 0.5),
            "cycle_iso": self._cmd_cycle_iso,
            "cycle_weighting": self._cmd_cycle_weighting,
            "clim_floor_down": partial(self._move_clim, -0.1, 0.0),
            "clim_floor_up": partial(self._move_clim, 0.1, 0.0),
            "clim_top_down": partial(self._move_clim, 0.0, -0.1),
            "clim_top_up": partial(self._move_clim, 0.0, 0.1),
            "auto_clim": self._cmd_auto_clim,
            "cycle_field": partial(self._cycle_field, 1),
            "cycle_field_back": partial(self._cycle_field, -1),
            "color_clim_wider": partial(self._set_color_clim, 1.25, 0.0),
            "color_clim_narrower": partial(self._set_color_clim, 0.8, 0.0),
            "color_clim_down": partial(self._set_color_clim, 1.0, -0.1),
            "color_clim_up": partial(self._set_color_clim, 1.0, 0.1),
            "auto_color_clim": self._cmd_auto_color_clim,
            "toggle_color_log": self._cmd_toggle_color_log,
            "toggle_legend": partial(self._toggle, "legend", "legend", False),
            "toggle_faces": partial(self._toggle, "show_faces", "faces", True),
            "toggle_points": partial(self._toggle, "show_points", "points", False),
            "toggle_overlays": partial(self._toggle, "show_overlays", "overlays", False),
            "toggle_hull": partial(self._toggle, "hide_hull", "hide hull faces", True),
            "toggle_path": partial(self._toggle, "show_path", "camera path", False),
            "toggle_sprites": partial(self._toggle, "show_sprites", "galaxy sprites", False),
            "pick_centre": self._cmd_pick_centre,
            "cycle_cut": self._cmd_cycle_cut,
            "cut_forward": partial(self._move_cut, 0.01),
            "cut_forward_fast": partial(self._move_cut, 0.1),
            "cut_back": partial(self._move_cut, -0.01),
            "cut_back_fast": partial(self._move_cut, -0.1),
            "screenshot": self._cmd_screenshot,
            "add_keyframe": self._cmd_add_keyframe,
            "drop_keyframe": self._cmd_drop_keyframe,
            "save_path": self._cmd_save_path,
            "play_path": self._cmd_play_path,
            "help": self._cmd_help,
        }

    # -- input -----------------------------------------------------------------------

    def key(self, name: str, pressed: bool, shift: bool = False, ctrl: bool = False) -> None:
        """Handle a key press or release by logical name (``"w"``, ``"tab"``, ``"f12"``)."""
        self.controller.fast = shift
        if name in HELD_MOTIONS and not (ctrl and pressed):  # Ctrl+S saves, it does not back up
            (self.controller.press if pressed else self.controller.release)(HELD_MOTIONS[name])
            return
        if not pressed:
            return
        if name == "escape":
            self.running = False
            return
        command = command_for(name, shift, ctrl)
        if command is not None:
            self.commands[command]()

    def drag(self, dx: float, dy: float) -> None:
        self.controller.drag(dx, dy, self.size[1])
        if self._dragged is not None:
            self._dragged += abs(dx) + abs(dy)
        self.invalidate()

    def mouse_press(self) -> None:
        self._dragged = 0.0

    def mouse_release(self, x: float, y: float) -> None:
        """A release after a press that barely moved is a click: pick at (x, y) pixels, y down."""
        if self._dragged is not None and self._dragged <= CLICK_SLOP:
            self.pick(x, y)
        self._dragged = None

    def pick(self, x: float, y: float) -> None:
        """Print the catalogue row of the galaxy at pixel (x, y) and show its picture enlarged.

        Where there is no galaxy, the picture goes away.
        """
        sprites = self.renderer.sprites
        if self.picker is None or sprites is None or sprites.galaxies is None:
            self.echo("nothing to pick: open a galaxy store with --sprites")
            return
        picked = self.picker.pick(sprites.galaxies, self.camera, self.size, (x, y), self.settings)
        self.renderer.show_inset(None if picked is None else picked.image)
        self.echo("no galaxy there" if picked is None else "\n".join(picked.lines))

    def scroll(self, steps: float) -> None:
        self.controller.scroll(steps)
        self.invalidate()

    def invalidate(self) -> None:
        """The accumulated faces no longer match the view: start again."""
        self.progress.dirty = True

    # -- frames ----------------------------------------------------------------------

    @property
    def view_projection(self) -> np.ndarray:
        return self.camera.view_projection(self.size[0] / self.size[1])

    def frame(self, fbo: moderngl.Framebuffer, dt: float) -> None:
        """Advance the camera by ``dt`` seconds and draw one frame into ``fbo``."""
        self.size = fbo.size
        self.renderer.resize(self.size)
        if self.playing is not None:
            self._advance_playback(dt)
        elif self.controller.update(dt):
            self.invalidate()
        if self.progress.dirty:
            self.renderer.follow(self.camera.position)  # blocks: a new level of detail where it changed
        vp = self.view_projection
        progress = self.progress
        mode = self.settings.mode
        n_items = max(self.renderer.n_items, 1)
        budget = MOVING_BUDGET if progress.dirty else REFINE_BUDGET
        step = min(1.0, budget * progress.rate / n_items)
        moving = progress.dirty
        if progress.dirty:
            self.renderer.clear()
            progress.done, progress.dirty = 0.0, False
        if progress.done < 1.0:
            start = time.perf_counter()
            stop = min(1.0, progress.done + step)
            if mode == "opacity":
                # A sorted subset while moving; at rest, the whole exact composite at once.
                self.renderer.clear()
                stop = step if moving else 1.0
                self.renderer.accumulate(vp, 0.0, stop)
                progress.done = 0.0
            else:
                self.renderer.accumulate(vp, progress.done, stop)
            self.renderer.ctx.finish()  # so that the clock measures the drawing, not its queueing
            elapsed = time.perf_counter() - start
            if elapsed > 0:
                progress.rate = 0.5 * progress.rate + 0.5 * (stop - progress.done) * n_items / elapsed
            progress.done = stop
            # The automatic colour limits comes from the first chunk, then once more from the
            # first complete frame.
            if self.renderer.needs_auto_clim or (self.settings.clim is None and stop >= 1 > self._clim_done):
                self.renderer.update_auto_clim()
                self._clim_done = stop
        self.renderer.update_sprites(self.camera, self.size)
        self.renderer.composite(fbo, vp)
        self.renderer.draw_legend(fbo)

    @property
    def title(self) -> str:
        mode = "ortho" if self.camera.projection == "orthographic" else self.camera.mode
        unit = "faces" if self.settings.mode == "faces" else "tetrahedra"
        detail = "" if self.progress.done >= 1 else f" - {self.progress.done:.0%} {unit}"
        blocks = self.renderer.blocks
        if blocks is not None and blocks.n_faces < blocks.blocks.n_faces.sum():
            detail += f" - {blocks.n_faces:,} of {blocks.blocks.n_faces.sum():,} faces (far blocks coarser)"
        sprites = self.renderer.sprites
        if sprites is not None and sprites.n_pending:
            detail += f" - {sprites.n_pending} thumbnails loading"
        return (
            f"delvol - N={self.n_points:,} - {self.fps:.1f} fps - {self.settings.mode} - {self.settings.stretch}/"
            f"{self.settings.colormap} - {mode}{detail}"
        )

    def full_frame(self) -> np.ndarray:
        """The current view with every face, at the viewer's size: (height, width, 3) uint8."""
        target = FloatTarget(self.renderer.ctx, self.size)
        try:
            self.renderer.render(target.fbo, self.view_projection)
            self.renderer.draw_legend(target.fbo)
            pixels = to_uint8(target.read(3))
        finally:
            target.release()
        self.progress.done, self.progress.dirty = 1.0, False  # the accumulation now holds the full view
        return pixels

    def screenshot(self) -> Path:
        """Render the current view in full at the window's size and save it as a PNG."""
        pixels = self.full_frame()
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
        path = self.screenshot_dir / f"delvol-{stamp}.png"
        save_png(pixels, path)
        self.echo(f"screenshot: {path.resolve()}")
        return path

    # -- commands (bound in delvol.app.keymap) -----------------------------------------

    def _cmd_toggle_mode(self) -> None:
        self.echo(f"mode: {self.controller.toggle_mode()}")

    def _cmd_reset(self) -> None:
        if self._reset is not None:
            self._reset(self.camera)
        self.invalidate()

    def _cmd_toggle_projection(self) -> None:
        self.camera.projection = "perspective" if self.camera.projection == "orthographic" else "orthographic"
        self.invalidate()

    def _exposure(self, stops: float) -> None:
        self.settings.exposure += stops
        self.echo(f"exposure: {self.settings.exposure:+.2f} stops")

    def _cmd_cycle_stretch(self) -> None:
        self.settings.stretch = cycle(self.settings.stretch, STRETCHES)
        self.echo(f"stretch: {self.settings.stretch}")

    def _cmd_cycle_colormap(self) -> None:
        self.settings.colormap = cycle(self.settings.colormap, COLORMAPS)
        self.echo(f"colormap: {self.settings.colormap}")

    def _cmd_cycle_colormap_back(self) -> None:
        self.settings.colormap = cycle(self.settings.colormap, COLORMAPS, -1)
        self.echo(f"colormap: {self.settings.colormap}")

    def _cmd_cycle_weighting(self) -> None:
        if self.renderer.blocks is not None:
            self.echo("weighting: only sums with blocks (weights need every face at once)")
            return
        self.settings.weighting = cycle(self.settings.weighting, WEIGHTINGS)
        self.renderer.auto_clim = None  # weights change the scale of the sums
        self.invalidate()
        self.echo(f"weighting: {self.settings.weighting}")

    def _cmd_cycle_render_mode(self) -> None:
        if self.renderer.blocks is not None:
            self.echo("volume: only faces with blocks (the exact modes need every tetrahedron)")
            return
        self.settings.mode = cycle(self.settings.mode, MODES)
        self.renderer.auto_clim = None  # each mode accumulates a different quantity
        self.invalidate()
        self.echo(f"volume: {self.settings.mode}")

    def _opacity(self, factor: float) -> None:
        self.settings.opacity *= factor
        if self.settings.mode == "opacity":
            self.invalidate()
        self.echo(f"opacity: {self.settings.opacity:.3g} per mean spacing at the top of the window")

    def _cmd_cycle_iso(self) -> None:
        levels = self.settings.iso_levels
        if not levels:
            self.echo("no isosurfaces: start with --iso LEVEL[,LEVEL...]")
            return
        self.settings.iso_shown = (self.settings.iso_shown + 2) % (len(levels) + 1) - 1
        shown = self.settings.iso_shown
        self.echo("isosurfaces: all" if shown < 0 else f"isosurface: density {levels[shown]:g}")

    def _move_clim(self, floor: float, top: float) -> None:
        lo, hi = self.renderer.clim
        clim = (lo + floor, hi + top)
        try:
            check_clim(clim)
        except ValueError:
            return
        if clim[1] - clim[0] < 0.1:
            return
        self.settings.clim = clim
        self.echo(f"colour limits: 10^{clim[0]:.2f} .. 10^{clim[1]:.2f}")

    def _cmd_auto_clim(self) -> None:
        self.settings.clim = None
        lo, hi = self.renderer.update_auto_clim()
        self.echo(f"colour limits (auto): 10^{lo:.2f} .. 10^{hi:.2f}")

    def _cycle_field(self, step: int) -> None:
        if self.fields is None or len(self.field_choices) < 2:
            self.echo("no fields to colour by: open the file with --color-by FIELD")
            return
        self.field_index = (self.field_index + step) % len(self.field_choices)
        spec = self.field_choices[self.field_index]
        try:
            values = None if spec is None else self.fields.vertex_values(spec)
        except ValueError as exc:
            self.echo(f"cannot colour by {spec}: {exc}")
            return
        self.renderer.set_field(values, "" if spec is None else self.fields.label(spec))
        self.settings.color_by = spec
        self.settings.color_clim = None  # each field gets its own colour limits
        self.invalidate()
        self.echo(f"colour: {'density' if spec is None else self.renderer.field_label}")
        if values is not None and self.settings.color_log and (values <= 0).any():
            self.settings.color_log = False
            self.echo("log10 colour off: this field has values <= 0 (U turns it on)")

    def _set_color_clim(self, scale: float, shift: float) -> None:
        clim = self.renderer.color_clim
        if clim is None:
            self.echo("no field shown: press V to colour by one")
            return
        centre, half = (clim[0] + clim[1]) / 2, (clim[1] - clim[0]) / 2 * scale
        centre += shift * (clim[1] - clim[0])
        self.settings.color_clim = (centre - half, centre + half)
        lo, hi = self.settings.color_clim
        self.echo(f"field colour limits: {lo:.4g} .. {hi:.4g}")

    def _cmd_auto_color_clim(self) -> None:
        self.settings.color_clim = None
        self.renderer.update_auto_clim()
        clim = self.renderer.color_clim
        if clim is not None:
            self.echo(f"field colour limits (auto): {clim[0]:.4g} .. {clim[1]:.4g}")

    def _cmd_toggle_color_log(self) -> None:
        self._toggle("color_log", "log10 colour", False)
        self.settings.color_clim = None  # linear limits mean nothing in log10, and back
        if self.renderer.field_label is not None:
            self.renderer.update_auto_clim()

    def _toggle(self, attribute: str, label: str, accumulates: bool) -> None:
        value = not getattr(self.settings, attribute)
        setattr(self.settings, attribute, value)
        if accumulates:
            self.invalidate()
        self.echo(f"{label}: {'on' if value else 'off'}")

    def _cmd_pick_centre(self) -> None:
        self.pick(self.size[0] / 2, self.size[1] / 2)

    def _cmd_cycle_cut(self) -> None:
        s = self.settings
        s.cut_mode = cycle(s.cut_mode, CUT_MODES)
        if s.cut_mode != "off":
            # The plane faces the viewer and passes through the focus point.
            s.cut_normal = -self.camera.forward
            s.cut_offset = float(s.cut_normal @ self.camera.focus)
            s.cut_width = 0.1 * self.camera.scene_size
        self.invalidate()
        self.echo(f"cut: {s.cut_mode}")

    def _move_cut(self, fraction: float) -> None:
        self.settings.cut_offset = self.settings.placed_cut()[0] - fraction * self.camera.scene_size
        self.invalidate()

    def _cmd_screenshot(self) -> None:
        try:
            self.screenshot()
        except (OSError, DelvolError) as exc:  # a full disk, a read-only folder, a device: not the end
            self.echo(f"screenshot failed: {exc}")

    # -- keyframes and playback --------------------------------------------------------

    def set_keyframes(self, keyframes: list[dict]) -> None:
        """Replace the keyframes (for example from ``--path``) and redraw the path line."""
        self.keyframes = list(keyframes)
        self._update_path_line()

    def _path(self) -> CameraPath:
        return CameraPath(self.keyframes, base=self.camera.get_state())

    def _update_path_line(self) -> None:
        samples = [] if len(self.keyframes) < 2 else [s["position"] for s in self._path().states(200)]
        self.renderer.set_path(np.asarray(samples, dtype=np.float64).reshape(-1, 3))

    def _advance_playback(self, dt: float) -> None:
        assert self.playing is not None, "advancing a path that is not playing"
        path, u = self.playing
        u = min(1.0, u + dt / self.duration)
        self.camera.set_state(path.state_at(u))
        self.playing = None if u >= 1.0 else (path, u)
        self.invalidate()

    def _cmd_add_keyframe(self) -> None:
        self.keyframes.append(self.camera.get_state())
        self._update_path_line()
        self.echo(f"keyframe {len(self.keyframes)} added")

    def _cmd_drop_keyframe(self) -> None:
        if self.keyframes:
            self.keyframes.pop()
            self._update_path_line()
        self.echo(f"{len(self.keyframes)} keyframes")

    def _cmd_save_path(self) -> None:
        if not self.keyframes:
            self.echo("no keyframes to save: press K to add the current view")
            return
        try:
            save_path(self.path_out, self._path())
        except (OSError, DelvolError) as exc:
            self.echo(f"saving the path failed: {exc}")
            return
        self.echo(f"path: {self.path_out.resolve()} ({len(self.keyframes)} keyframes)")

    def _cmd_play_path(self) -> None:
        if self.playing is not None:
            self.playing = None
            self.echo("playback stopped")
        elif len(self.keyframes) < 2:
            self.echo("a path needs at least 2 keyframes: press K to add the current view")
        else:
            self.playing = (self._path(), 0.0)
            self.echo(f"playing {len(self.keyframes)} keyframes over {self.duration:g} s")

    def _cmd_help(self) -> None:
        self.echo("delvol viewer keys:\n" + help_text())


def scene_viewer(
    ctx: moderngl.Context,
    scene: Scene,
    points: PointSet,
    tess: Tessellation | BlockFaces,
    size: tuple[int, int],
    store: GalaxyStore | None = None,
    debug: bool = False,
    face_budget: int = DEFAULT_FACE_BUDGET,
    **options: Any,
) -> Viewer:
    """A viewer of ``scene``, already read into ``points`` and ``tess`` (:meth:`Scene.read_view`), drawing with ``ctx``.

    The camera starts as the scene describes, fitted to a view of ``size``; R fits it
    again to the viewer's current size. ``store``, open on the render thread, lets a click
    pick a galaxy sprite. Every block's faces (:class:`BlockFaces`) are drawn with level
    of detail, at most ``face_budget`` faces (:meth:`Renderer.set_blocks`). ``options`` go
    to :class:`Viewer`.
    """
    fields: FieldCache | None = None
    if isinstance(tess, BlockFaces):
        renderer, fit = blocks_renderer(ctx, scene, points, tess, face_budget, debug)
        n_points = len(tess.positions)
    else:
        fields = FieldCache(tess, points.fields, points.metadata)
        renderer = build_renderer(ctx, scene, points, tess, synchronous=False, debug=debug, fields=fields)
        fit = partial(scene.camera.fit, tess, points=points)
        n_points = tess.n_primary

    def reset(camera: Camera) -> None:
        width, height = viewer.size if viewer.size != (1, 1) else size
        fitted = fit(width / height)
        fitted.mode = camera.mode
        camera.set_state(fitted.get_state())

    picker = GalaxyPicker(store, points.metadata["units"]) if store is not None else None
    camera = fit(size[0] / size[1])
    viewer = Viewer(
        renderer,
        camera,
        n_points,
        reset=reset,
        picker=picker,
        fields=fields,
        field=scene.look.color_by,
        **options,
    )
    return viewer
