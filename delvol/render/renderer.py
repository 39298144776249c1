"""The renderer: composes the accumulation pass, the tone map and the overlay layers."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.geometry import Tessellation
from delvol.render.camera import Camera
from delvol.render.context import check_gl
from delvol.render.passes import FloatTarget, ToneMapPass
from delvol.render.settings import RenderSettings, auto_window
from delvol.render.sprite_layout import Galaxies
from delvol.render.thumbnails import ThumbnailLoader
from delvol.render.visuals.inset import InsetVisual
from delvol.render.visuals.mesh import PALETTE, MeshVisual
from delvol.render.visuals.points import PointsVisual
from delvol.render.visuals.sprites import SpriteVisual
from delvol.render.visuals.volume import VolumeVisual

COLORMAP_UNIT = 1
IMAGE_UNIT = 2  # thumbnails and the inset; units 0 and 1 hold the accumulation and colormap


def translation(offset: np.ndarray) -> np.ndarray:
    """4×4 matrix that adds ``offset`` to a position."""
    m = np.eye(4)
    m[:3, 3] = offset
    return m


class Renderer:
    """Draws a tessellation, its dense points, galaxy sprites and overlays into any framebuffer.

    A frame is two steps, so that a window can spread the faces over several frames:
    :meth:`accumulate` adds a fraction of the faces into a float target, and
    :meth:`composite` tone-maps what has been accumulated (scaled up for the fraction
    drawn) into the destination and draws the points, sprites and overlays on top.
    Sprites choose their galaxies for a view in :meth:`update_sprites`, which the caller
    runs once per view before compositing (once for all the tiles of an offscreen image).

    Parameters
    ----------
    ctx : moderngl.Context
    settings : RenderSettings, optional
    debug : bool
        Check for OpenGL errors after every upload, accumulation and composite, and raise
        naming the step (``--debug`` on the command line).
    """

    def __init__(self, ctx: moderngl.Context, settings: RenderSettings | None = None, debug: bool = False) -> None:
        self.ctx = ctx
        self.debug = debug
        self.settings = settings or RenderSettings()
        self.tonemap = ToneMapPass(ctx)
        self.volume = VolumeVisual(ctx)
        self.points = PointsVisual(ctx)
        self.overlays: list[MeshVisual] = []
        self.path: MeshVisual | None = None
        self.sprites: SpriteVisual | None = None
        self.inset: InsetVisual | None = None
        self.accum: FloatTarget | None = None
        self.origin = np.zeros(3)
        self.auto_window: tuple[float, float] | None = None
        self.drawn = 0.0

    # -- scene -----------------------------------------------------------------------

    def set_tessellation(self, tess: Tessellation) -> None:
        """Upload a tessellation; positions are stored relative to its centre."""
        lower, upper = tess.bounds
        self.set_faces(tess, (lower + upper) / 2)
        self.points.set_data(tess.points[: tess.n_primary], tess.density[: tess.n_primary], self.origin)
        self._check("uploading the tessellation")

    def set_faces(self, tess: Tessellation, origin: np.ndarray) -> None:
        """Upload only the faces, relative to ``origin``: one block of a larger tessellation.

        Every block of a blocked render uses the whole data's origin, so that its vertices
        become the same float32 values as in a single render.
        """
        self.origin = np.asarray(origin, dtype=np.float64)
        self.volume.set_data(tess, self.origin)
        self.auto_window = None
        self._check("uploading the faces")

    def _check(self, step: str) -> None:
        if self.debug:
            check_gl(self.ctx, step)

    def add_overlay(
        self,
        vertices: np.ndarray,
        triangles: np.ndarray,
        lines: np.ndarray,
        color: tuple[float, float, float] | None = None,
        style: str = "wire",
    ) -> MeshVisual:
        """Add an overlay mesh; colours cycle through :data:`PALETTE` by default."""
        visual = MeshVisual(self.ctx, color or PALETTE[len(self.overlays) % len(PALETTE)], style)
        visual.set_data(vertices, triangles, lines, self.origin)
        self.overlays.append(visual)
        return visual

    def set_path(self, positions: np.ndarray, color: tuple[float, float, float] = (0.9, 0.9, 0.9)) -> None:
        """Show a camera path as a polyline through ``positions`` (fewer than 2: none)."""
        if self.path is not None:
            self.path.release()
            self.path = None
        if len(positions) >= 2:
            segments = np.column_stack([np.arange(len(positions) - 1), np.arange(1, len(positions))])
            self.path = MeshVisual(self.ctx, color)
            self.path.set_data(positions, np.zeros((0, 3), dtype=np.int64), segments, self.origin)

    def set_sprites(
        self, galaxies: Galaxies, loader: ThumbnailLoader, count: int, synchronous: bool = False
    ) -> SpriteVisual:
        """Draw galaxy thumbnails (see :class:`SpriteVisual`); call after :meth:`set_tessellation`."""
        if self.sprites is not None:
            self.sprites.release()
            self.sprites = None
        self.sprites = SpriteVisual(self.ctx, loader, count, synchronous)
        self.sprites.set_data(galaxies, self.origin)
        return self.sprites

    def update_sprites(self, camera: Camera, size: tuple[int, int]) -> None:
        """Choose and load the sprites for ``camera`` looking into a frame of ``size`` pixels."""
        if self.sprites is not None and self.settings.show_sprites:
            self.sprites.update(camera, size, self.settings)

    def show_inset(self, rgba: np.ndarray | None) -> None:
        """Show an image in the top-right corner of every frame, or stop showing one (None)."""
        if self.inset is None:
            self.inset = InsetVisual(self.ctx)
        self.inset.set_image(rgba)

    # -- frame -----------------------------------------------------------------------

    def resize(self, size: tuple[int, int]) -> None:
        """Match the accumulation target to the destination size (clears it when it changes)."""
        if self.accum is None or self.accum.size != tuple(size):
            if self.accum is not None:
                self.accum.release()
            self.accum = FloatTarget(self.ctx, tuple(size))
            self.drawn = 0.0

    def with_origin(self, view_proj: np.ndarray) -> np.ndarray:
        """The matrix that takes origin-relative vertex positions to clip space."""
        return view_proj @ translation(self.origin)

    def clear(self) -> None:
        self.accum.clear()
        self.drawn = 0.0

    def accumulate(self, view_proj: np.ndarray, start: float = 0.0, stop: float = 1.0) -> None:
        """Add the faces in the fraction ``[start, stop)`` to the accumulation target."""
        if not self.settings.show_faces or stop <= start:
            return
        ctx = self.ctx
        self.accum.fbo.use()
        ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        ctx.enable(moderngl.BLEND)
        ctx.blend_equation = moderngl.FUNC_ADD
        ctx.blend_func = moderngl.ONE, moderngl.ONE
        self.volume.draw(self.with_origin(view_proj), self.settings, start, stop)
        self.drawn += stop - start
        self._check("accumulating faces")

    def update_auto_window(self) -> tuple[float, float]:
        """Set the automatic density window from percentiles of the accumulated image."""
        values = self.accum.read(channels=1)[..., 0] / max(self.drawn, 1e-12)
        self.auto_window = auto_window(values, self.settings.percentiles)
        return self.auto_window

    @property
    def needs_auto_window(self) -> bool:
        """No density window yet: neither the user's nor one taken from an image."""
        return self.settings.window is None and self.auto_window is None

    @property
    def window(self) -> tuple[float, float]:
        """The density window in use: the user's, else the automatic one."""
        return self.settings.window or self.auto_window or (0.0, 1.0)

    def composite(self, fbo: moderngl.Framebuffer, view_proj: np.ndarray, pixel_scale: float = 1.0) -> None:
        """Tone-map the accumulation into ``fbo``, then draw points and overlays over it."""
        ctx = self.ctx
        fbo.use()
        ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        gain = 2.0**self.settings.exposure / self.drawn if self.drawn > 0 else 0.0
        self.tonemap.draw(self.accum, self.settings, self.window, gain)
        ctx.enable(moderngl.BLEND)
        ctx.blend_equation = moderngl.FUNC_ADD
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        vp = self.with_origin(view_proj)
        if self.settings.show_points:
            self.tonemap.use_colormap(self.settings.colormap, COLORMAP_UNIT)
            self.points.draw(vp, self.settings, COLORMAP_UNIT, pixel_scale)
        if self.settings.show_sprites and self.sprites is not None:
            ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA  # thumbnails are premultiplied
            self.sprites.draw(vp, IMAGE_UNIT)
            ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        if self.settings.show_overlays:
            for overlay in self.overlays:
                overlay.draw(vp)
        if self.settings.show_path and self.path is not None:
            self.path.draw(vp)
        if self.inset is not None:
            self.inset.draw(fbo.size, IMAGE_UNIT)
        ctx.disable(moderngl.BLEND)
        self._check("compositing")

    def render(self, fbo: moderngl.Framebuffer, view_proj: np.ndarray, pixel_scale: float = 1.0) -> None:
        """A complete frame: all faces, the automatic window if none is set, the layers."""
        self.resize(fbo.size)
        self.clear()
        self.accumulate(view_proj)
        if self.needs_auto_window:
            self.update_auto_window()
        self.composite(fbo, view_proj, pixel_scale)

    def release(self) -> None:
        """Free every GL object of the renderer and its visuals."""
        layers = (self.volume, self.points, *self.overlays, self.path, self.sprites, self.inset)
        for obj in (*layers, self.tonemap, self.accum):
            if obj is not None:
                obj.release()
        self.overlays, self.path, self.sprites, self.inset, self.accum = [], None, None, None, None
