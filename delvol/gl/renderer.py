"""The renderer: composes the accumulation pass, the tone map and the overlay layers."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.blocks.lod import BlockFaces
from delvol.geometry import Tessellation
from delvol.geometry.isosurface import isosurface
from delvol.gl.context import check_gl
from delvol.gl.passes import FloatTarget, ToneMapPass
from delvol.gl.visuals.blocks import BlockVolumeVisual
from delvol.gl.visuals.inset import InsetVisual, LegendVisual
from delvol.gl.visuals.iso import IsoVisual
from delvol.gl.visuals.mesh import PALETTE, MeshVisual
from delvol.gl.visuals.points import PointsVisual
from delvol.gl.visuals.sprites import SpriteVisual
from delvol.gl.visuals.tetra import TetraVisual
from delvol.gl.visuals.volume import VolumeVisual
from delvol.scene.camera import Camera
from delvol.scene.legend import legend_image, legend_scale
from delvol.scene.settings import RenderSettings, auto_clim, auto_color_clim, field_image
from delvol.scene.sprite_layout import Galaxies
from delvol.scene.thumbnails import ThumbnailLoader

COLORMAP_UNIT = 1
IMAGE_UNIT = 2  # thumbnails and the inset; units 0 and 1 hold the accumulation and colormap


def translation(offset: np.ndarray) -> np.ndarray:
    """4×4 matrix that adds ``offset`` to a position."""
    m = np.eye(4)
    m[:3, 3] = offset
    return m


class Renderer:
    """Draws a tessellation, its dense points, galaxy sprites and overlays into any framebuffer.

    The volume is drawn in the settings' :attr:`~RenderSettings.mode`: the additive faces,
    or, through :class:`TetraVisual` (uploaded on first use), the exact line integral or
    the exact sorted emission-absorption. Isosurfaces of ``settings.iso_levels`` are drawn
    lit and depth-tested over the tone-mapped volume.

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
        self.blocks: BlockVolumeVisual | None = None  # a blocked tessellation's faces, drawn instead
        self.tetra = TetraVisual(ctx)
        self._tess: Tessellation | None = None
        self._tetra_ready = False
        self._field_values: np.ndarray | None = None  # per vertex, for the exact modes too
        self.isos: list[IsoVisual] = []
        self._iso_levels: tuple[float, ...] = ()
        self.points = PointsVisual(ctx)
        self.overlays: list[MeshVisual] = []
        self.path: MeshVisual | None = None
        self.sprites: SpriteVisual | None = None
        self.inset: InsetVisual | None = None
        self.legend_visual: LegendVisual | None = None
        self._legend_key: tuple | None = None
        self.accum: FloatTarget | None = None
        self.centre = np.zeros(3)  # of the data: positions are uploaded relative to it (float32)
        self.auto_clim: tuple[float, float] | None = None
        self.field_label: str | None = None  # what the faces carry beside the density, when anything
        self.auto_color_clim: tuple[float, float] | None = None
        self.drawn = 0.0

    # -- scene -----------------------------------------------------------------------

    def set_tessellation(self, tess: Tessellation, hidden: np.ndarray | None = None) -> None:
        """Upload a tessellation; positions are stored relative to its centre.

        Faces touching a vertex marked in ``hidden`` (shape (N,), bool), and those vertices
        as dense points, are not drawn; nor are buffer points and their faces. A cut plane
        left unplaced in the settings is placed for its bounds.
        """
        lower, upper = tess.bounds
        self.settings.fit_cut(lower, upper)
        self.set_faces(tess, (lower + upper) / 2, hidden)  # keeps the tetrahedra for the exact modes
        self._iso_levels = ()
        n = tess.n_primary
        shown = slice(None) if hidden is None else ~hidden[:n]
        self.points.set_data(tess.points[:n][shown], tess.density[:n][shown], self.centre)
        self._check("uploading the tessellation")

    def set_faces(self, tess: Tessellation, centre: np.ndarray, hidden: np.ndarray | None = None) -> None:
        """Upload only the faces, relative to ``centre``: one block of a larger tessellation.

        Every block of a blocked render uses the whole data's centre, so that its vertices
        become the same float32 values as in a single render. Faces touching ``hidden``
        vertices are left out. The tessellation's tetrahedra, if it has any, are uploaded
        when an exact mode first draws (a block's share of the ``integral`` mode).
        """
        self.centre = np.asarray(centre, dtype=np.float64)
        self.volume.set_data(tess, self.centre, hidden=hidden)
        self._tess, self._tetra_ready = tess, False
        self.auto_clim = None
        self.field_label = None
        self._field_values = None
        self._check("uploading the faces")

    def set_blocks(self, blocks: BlockFaces, budget: int) -> None:
        """Upload a blocked tessellation's faces with level of detail, instead of one tessellation.

        At most ``budget`` faces are drawn: far blocks draw every k-th face, times k
        (:class:`BlockVolumeVisual`); :meth:`follow` chooses k for the camera. Only the
        faces mode draws blocks. A cut plane left unplaced is placed for their bounds.
        """
        lower, upper = blocks.bounds
        self.settings.fit_cut(lower, upper)
        self.centre = (lower + upper) / 2
        if self.blocks is not None:
            self.blocks.release()
        self.blocks = BlockVolumeVisual(self.ctx, blocks, self.centre, budget)
        self.auto_clim = None

    def follow(self, eye: np.ndarray) -> bool:
        """Choose the blocks' level of detail for a camera at ``eye``; whether it changed (no blocks: False)."""
        if self.blocks is None:
            return False
        changed = self.blocks.follow(eye)
        self._check("uploading blocks")
        return changed

    def _tetra(self) -> TetraVisual:
        """The exact modes' visual, with the tessellation uploaded."""
        if not self._tetra_ready and self._tess is not None:
            self.tetra.set_data(self._tess, self.centre)
            self.tetra.set_field(self._field_values)
            self._tetra_ready = True
            self._check("uploading the tetrahedra")
        return self.tetra

    @property
    def n_items(self) -> int:
        """What the volume's mode draws: faces, or tetrahedra (uploading them on first use)."""
        if self.settings.mode != "faces":
            return self._tetra().n_tets
        return self.volume.n_faces if self.blocks is None else self.blocks.n_faces

    def _update_isos(self) -> None:
        """Extract the isosurfaces when the levels have changed."""
        levels = tuple(self.settings.iso_levels)
        if levels == self._iso_levels or self._tess is None:
            return
        for visual in self.isos:
            visual.release()
        self.isos = []
        tess = self._tess
        for k, level in enumerate(levels):
            visual = IsoVisual(self.ctx, PALETTE[k % len(PALETTE)])
            visual.set_data(isosurface(tess.points, tess.tetrahedra, tess.density, level), self.centre)
            self.isos.append(visual)
        self._iso_levels = levels

    def set_field(self, values: np.ndarray | None, label: str = "field") -> None:
        """Colour by a field: hue from its density-weighted mean along each ray (``--color-by``).

        The ``integral`` mode carries it too (exactly, into the same channel), which
        ``delvol project --field`` reads; the tone map colours by it in ``faces`` only.

        Parameters
        ----------
        values : ndarray, shape (n_vertices,), optional
            One value per vertex of the tessellation (for example
            ``point_field(tess, fields, spec)[tess.origin]``); None colours by density again.
        label : str
            The field's name and units, for the legend.
        """
        self.volume.set_field(values)
        self._field_values = values
        if self._tetra_ready:
            self.tetra.set_field(values)
        self.field_label = None if values is None else label
        self.auto_color_clim = None
        self._check("uploading the field")

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
        visual.set_data(vertices, triangles, lines, self.centre)
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
            self.path.set_data(positions, np.zeros((0, 3), dtype=np.int64), segments, self.centre)

    def set_sprites(
        self, galaxies: Galaxies, loader: ThumbnailLoader, count: int, synchronous: bool = False
    ) -> SpriteVisual:
        """Draw galaxy thumbnails (see :class:`SpriteVisual`); call after :meth:`set_tessellation`."""
        if self.sprites is not None:
            self.sprites.release()
            self.sprites = None
        self.sprites = SpriteVisual(self.ctx, loader, count, synchronous)
        self.sprites.set_data(galaxies, self.centre)
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
            self.accum = FloatTarget(self.ctx, (int(size[0]), int(size[1])))
            self.drawn = 0.0

    def with_centre(self, view_proj: np.ndarray) -> np.ndarray:
        """The matrix that takes centre-relative vertex positions to clip space."""
        return view_proj @ translation(self.centre)

    @property
    def target(self) -> FloatTarget:
        """The accumulation target (:meth:`resize` makes it)."""
        if self.accum is None:
            raise RuntimeError("the renderer has no accumulation target: call resize first")
        return self.accum

    def clear(self) -> None:
        self.target.clear()
        self.drawn = 0.0

    def accumulate(self, view_proj: np.ndarray, start: float = 0.0, stop: float = 1.0) -> None:
        """Add the faces (or tetrahedra) in the fraction ``[start, stop)`` to the accumulation.

        In ``opacity`` mode the fraction is composited as a whole, sorted, with emission
        and extinction scaled by ``1 / (stop - start)``: call it on a cleared target, with
        ``(0, 1)`` for the exact image.
        """
        if not self.settings.show_faces or stop <= start:
            return
        ctx = self.ctx
        mode = self.settings.mode
        self.target.fbo.use()
        ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        ctx.enable(moderngl.BLEND)
        ctx.blend_equation = moderngl.FUNC_ADD
        ctx.blend_func = moderngl.ONE, moderngl.ONE
        vp = self.with_centre(view_proj)
        if mode == "faces":
            (self.volume if self.blocks is None else self.blocks).draw(vp, self.settings, start, stop)
        else:
            # Back faces only: a convex tetrahedron's cover each of its rays exactly once.
            ctx.enable(moderngl.CULL_FACE)
            ctx.cull_face = "front"
            if mode == "integral":
                self._tetra().draw_integral(vp, self.settings, start, stop)
            else:
                ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA  # premultiplied "over"
                self._tetra().draw_opacity(vp, self.settings, start, stop)
            ctx.disable(moderngl.CULL_FACE)
        # An opacity subset is scaled up in the shader: its image is already whole.
        self.drawn = 1.0 if mode == "opacity" else self.drawn + stop - start
        self._check("accumulating faces" if mode == "faces" else f"accumulating tetrahedra ({mode})")

    def update_auto_clim(self) -> tuple[float, float]:
        """Set the automatic colour limits (the field's too) from percentiles of the accumulated image."""
        accum = self.target.read(channels=3)
        self.auto_clim = auto_clim(accum[..., 0] / max(self.drawn, 1e-12), self.settings.percentiles)
        if self.field_label is not None:
            mean = field_image(accum, self.settings.color_log)
            self.auto_color_clim = auto_color_clim(mean, self.settings.color_percentiles)
        return self.auto_clim

    @property
    def color_clim(self) -> tuple[float, float] | None:
        """The field colour limits in use (the user's, else the automatic ones), or None without a field.

        Only the faces mode carries the field (the exact modes leave the field channel at
        0), so the other modes colour by density alone.
        """
        if self.field_label is None or self.settings.mode != "faces":
            return None
        return self.settings.color_clim or self.auto_color_clim or (-1.0, 1.0)

    def legend(self, scale: float = 1.0) -> np.ndarray | None:
        """The field's colour bar as RGBA (see :func:`legend_image`), when ``settings.legend`` asks for one."""
        clim = self.color_clim
        if clim is None or self.field_label is None or not self.settings.legend:
            return None
        return legend_image(self.settings.color_map, clim, self.field_label, self.settings.color_log, scale)

    @property
    def needs_auto_clim(self) -> bool:
        """No colour limits (or field colour limits) yet: neither the user's nor ones taken from an image."""
        no_color_clim = self.field_label is not None and self.settings.color_clim is None
        return (self.settings.clim is None and self.auto_clim is None) or (
            no_color_clim and self.auto_color_clim is None
        )

    @property
    def clim(self) -> tuple[float, float]:
        """The colour limits in use: the user's, else the automatic one."""
        return self.settings.clim or self.auto_clim or (0.0, 1.0)

    def composite(self, fbo: moderngl.Framebuffer, view_proj: np.ndarray, pixel_scale: float = 1.0) -> None:
        """Tone-map the accumulation into ``fbo``, then draw points and overlays over it."""
        ctx = self.ctx
        fbo.use()
        ctx.disable(moderngl.BLEND | moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        gain = 2.0**self.settings.exposure / self.drawn if self.drawn > 0 else 0.0
        self.tonemap.draw(self.target, self.settings, self.clim, gain, self.color_clim)
        ctx.enable(moderngl.BLEND)
        ctx.blend_equation = moderngl.FUNC_ADD
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        vp = self.with_centre(view_proj)
        self._update_isos()
        shown = self.isos if self.settings.iso_shown < 0 else self.isos[self.settings.iso_shown :][:1]
        if shown:
            # Depth only among the surfaces: clear the depth buffer, not the colours.
            fbo.color_mask = (False, False, False, False)
            fbo.clear(depth=1.0)
            fbo.color_mask = (True, True, True, True)
            fbo.use()  # moderngl applies a framebuffer's masks when it is bound
            ctx.disable(moderngl.BLEND)
            ctx.enable(moderngl.DEPTH_TEST)
            for iso in shown:
                iso.draw(vp)
            ctx.disable(moderngl.DEPTH_TEST)
            ctx.enable(moderngl.BLEND)
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

    def draw_legend(self, fbo: moderngl.Framebuffer) -> None:
        """Draw the field's colour bar over ``fbo`` in its bottom-left corner (a window's frames;
        offscreen images get it from :func:`delvol.gl.offscreen.render_image`)."""
        scale = legend_scale(fbo.size)
        s = self.settings
        key = (s.legend, self.field_label, self.color_clim, s.color_map, s.color_log, scale)
        if self.legend_visual is None:
            self.legend_visual = LegendVisual(self.ctx)
        if key != self._legend_key:
            self.legend_visual.set_image(self.legend(scale))
            self._legend_key = key
        fbo.use()
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self.legend_visual.draw(fbo.size, IMAGE_UNIT)
        self.ctx.disable(moderngl.BLEND)

    def render(self, fbo: moderngl.Framebuffer, view_proj: np.ndarray, pixel_scale: float = 1.0) -> None:
        """A complete frame: all faces, the automatic colour limits if none is set, the layers."""
        self.resize(fbo.size)
        self.clear()
        self.accumulate(view_proj)
        if self.needs_auto_clim:
            self.update_auto_clim()
        self.composite(fbo, view_proj, pixel_scale)

    def release(self) -> None:
        """Free every GL object of the renderer and its visuals."""
        layers = (
            self.volume,
            self.blocks,
            self.tetra,
            *self.isos,
            self.points,
            *self.overlays,
            self.path,
            self.sprites,
            self.inset,
            self.legend_visual,
        )
        for obj in (*layers, self.tonemap, self.accum):
            if obj is not None:
                obj.release()
        self.overlays, self.path, self.sprites, self.inset, self.accum = [], None, None, None, None
        self.blocks = None
        self.isos, self._iso_levels, self._tetra_ready = [], (), False
        self.legend_visual, self._legend_key = None, None
