"""Render passes: float accumulation, then tone mapping into a colour target."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.gl.context import load_program
from delvol.scene.colormaps import colormap
from delvol.scene.settings import RenderSettings

_STRETCH_CODE = {"linear": 0, "log": 1, "asinh": 2}  # as numbered in shaders/tonemap.frag


class FloatTarget:
    """An RGBA32F colour texture and a depth buffer (for the isosurfaces) with their framebuffer.

    Float because an 8-bit target saturates, and RGBA16F stops accumulating near 32
    when each fragment adds little (its 11-bit mantissa swallows small increments).
    """

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.ctx = ctx
        self.size = size
        self.texture = ctx.texture(size, 4, dtype="f4")
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.depth = ctx.depth_renderbuffer(size)
        self.fbo = ctx.framebuffer(color_attachments=[self.texture], depth_attachment=self.depth)

    def clear(self) -> None:
        self.fbo.clear(0.0, 0.0, 0.0, 0.0)

    def read(self, channels: int = 4) -> np.ndarray:
        """The image as float32 (height, width, channels), first row at the top."""
        data = np.frombuffer(self.fbo.read(components=4, dtype="f4"), dtype=np.float32)
        return data.reshape(self.size[1], self.size[0], 4)[::-1, :, :channels]

    def release(self) -> None:
        if self.ctx.fbo is self.fbo:
            # moderngl re-binds the current framebuffer after creating the next one, and a
            # deleted binding raises GL_INVALID_OPERATION there; park on the default one.
            (self.ctx.screen or self.ctx.detect_framebuffer(0)).use()
        self.fbo.release()
        self.texture.release()
        self.depth.release()


class ToneMapPass:
    """Full-screen pass: accumulated density to colour (see shaders/tonemap.frag)."""

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.program = load_program(ctx, "fullscreen.vert", "tonemap.frag")
        self.vao = ctx.vertex_array(self.program, [])
        self._colormaps: dict[str, moderngl.Texture] = {}

    def use_colormap(self, name: str, location: int) -> None:
        """Bind the 256-entry colormap ``name`` as a texture (made on first use, then kept)."""
        if name not in self._colormaps:
            table = np.ascontiguousarray(colormap(name), dtype=np.float32)
            texture = self.ctx.texture((len(table), 1), 3, table.tobytes(), dtype="f4")
            texture.repeat_x = False
            texture.repeat_y = False
            self._colormaps[name] = texture
        self._colormaps[name].use(location=location)

    def draw(
        self,
        accum: FloatTarget,
        settings: RenderSettings,
        clim: tuple[float, float],
        gain: float,
        color_clim: tuple[float, float] | None = None,
    ) -> None:
        """Tone-map ``accum`` into the bound framebuffer.

        Parameters
        ----------
        clim : (float, float)
            log10 of the accumulated values at the bottom and top of the colormap.
        gain : float
            Multiplies the accumulated values first (exposure and partial-draw scaling).
        color_clim : (float, float), optional
            Colour by the mean field (channel b over channel r) through
            ``settings.color_map`` between these values; None colours by density.
        """
        self.ctx.disable(moderngl.BLEND)  # a full-screen overwrite, whatever the caller left on
        accum.texture.use(location=0)
        self.use_colormap(settings.colormap, location=1)
        prog = self.program
        prog["u_accum"] = 0
        prog["u_colormap"] = 1
        prog["u_gain"] = gain
        prog["u_lo"] = 10.0 ** clim[0]
        prog["u_hi"] = 10.0 ** clim[1]
        prog["u_stretch"] = _STRETCH_CODE[settings.stretch]
        prog["u_gamma"] = settings.gamma
        prog["u_field_on"] = color_clim is not None
        if color_clim is not None:
            self.use_colormap(settings.color_map, location=2)
            prog["u_field_colormap"] = 2
            prog["u_field_lo"], prog["u_field_hi"] = color_clim
            prog["u_field_log"] = settings.color_log
        self.vao.render(moderngl.TRIANGLES, vertices=3)

    def release(self) -> None:
        for obj in (self.vao, self.program, *self._colormaps.values()):
            obj.release()
        self._colormaps = {}
