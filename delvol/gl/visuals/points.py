"""The densest vertices as round discs, sized and coloured by density."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.gl.context import gl_bytes, load_program
from delvol.gl.visuals.cut import set_cut_uniforms
from delvol.scene.settings import RenderSettings


class PointsVisual:
    """Discs on the vertices above a density percentile, to mark the densest regions.

    Parameters
    ----------
    ctx : moderngl.Context
    """

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.program = load_program(ctx, "points.vert", "points.frag")
        self._vbo: moderngl.Buffer | None = None
        self._vao: moderngl.VertexArray | None = None
        self._source: tuple[np.ndarray, np.ndarray] | None = None
        self._centre = np.zeros(3)
        self._percentile = np.nan
        self.count = 0
        self.log_range = (0.0, 1.0)

    def set_data(self, points: np.ndarray, density: np.ndarray, centre: np.ndarray) -> None:
        """Keep the points (relative to ``centre``) and densities; upload on first draw."""
        self._source = (np.asarray(points, dtype=np.float64) - centre, np.asarray(density, dtype=np.float64))
        self._centre = np.asarray(centre, dtype=np.float64)
        self._percentile = np.nan

    def _upload(self, percentile: float) -> None:
        if percentile == self._percentile or self._source is None:
            return
        self._release_buffers()
        rel, rho = self._source
        finite = np.isfinite(rho) & (rho > 0)
        threshold = np.percentile(rho[finite], percentile) if finite.any() else np.inf
        keep = finite & (rho >= threshold)
        data = np.column_stack([rel[keep], rho[keep]]).astype(np.float32)
        self.count = len(data)
        if self.count:
            self.log_range = (float(np.log10(threshold)), float(np.log10(rho[keep].max())) + 1e-6)
            self._vbo = self.ctx.buffer(data.tobytes())
            self._vao = self.ctx.vertex_array(self.program, [(self._vbo, "3f 1f", "in_position", "in_density")])
        self._percentile = percentile

    def draw(
        self, view_proj: np.ndarray, settings: RenderSettings, colormap_unit: int, pixel_scale: float = 1.0
    ) -> None:
        """Alpha-blend the discs over the bound framebuffer.

        ``colormap_unit`` is the texture unit holding the colormap; ``pixel_scale``
        enlarges the discs for supersampled renders.
        """
        self._upload(settings.point_percentile)
        if self._vao is None:
            return
        prog = self.program
        prog["u_view_proj"].write(gl_bytes(view_proj))
        prog["u_centre"] = tuple(float(v) for v in self._centre)
        prog["u_log_range"] = self.log_range
        prog["u_point_size"] = settings.point_size * pixel_scale
        prog["u_colormap"] = colormap_unit
        prog["u_opacity"] = 0.9
        set_cut_uniforms(prog, settings)  # points are input points, all inside any periodic box
        self.ctx.enable(moderngl.PROGRAM_POINT_SIZE)
        self._vao.render(moderngl.POINTS)

    def _release_buffers(self) -> None:
        for obj in (self._vao, self._vbo):
            if obj is not None:
                obj.release()
        self._vao = self._vbo = None
        self.count = 0

    def release(self) -> None:
        self._release_buffers()
        self.program.release()
