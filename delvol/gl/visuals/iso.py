"""Isodensity surfaces (see :mod:`delvol.geometry.isosurface`), lit and depth-tested."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.geometry.isosurface import Surface
from delvol.gl.context import load_program
from delvol.gl.visuals.ray import set_ray_uniforms


class IsoVisual:
    """One surface in one colour, shaded by a headlight from its gradient normals.

    Parameters
    ----------
    ctx : moderngl.Context
    color : (float, float, float)
    """

    def __init__(self, ctx: moderngl.Context, color: tuple[float, float, float]) -> None:
        self.ctx = ctx
        self.color = color
        self.program = load_program(ctx, "iso.vert", "iso.frag")
        self._objects: list = []
        self._vao: moderngl.VertexArray | None = None

    def set_data(self, surface: Surface, centre: np.ndarray) -> None:
        """Upload the surface, with vertices relative to ``centre``."""
        self._release_buffers()
        if len(surface.triangles) == 0:
            return
        data = np.hstack([surface.vertices - centre, surface.normals]).astype(np.float32)
        vbo = self.ctx.buffer(data.tobytes())
        ibo = self.ctx.buffer(surface.triangles.astype(np.uint32).tobytes())
        self._vao = self.ctx.vertex_array(
            self.program, [(vbo, "3f 3f", "in_position", "in_normal")], ibo, index_element_size=4
        )
        self._objects = [vbo, ibo, self._vao]

    def draw(self, view_proj: np.ndarray) -> None:
        """Draw into the bound framebuffer (depth test on); ``view_proj`` includes the centre."""
        if self._vao is None:
            return
        prog = self.program
        set_ray_uniforms(prog, view_proj)
        prog["u_color"] = tuple(float(c) for c in self.color)
        self._vao.render(moderngl.TRIANGLES)

    def _release_buffers(self) -> None:
        for obj in reversed(self._objects):
            obj.release()
        self._objects, self._vao = [], None

    def release(self) -> None:
        self._release_buffers()
        self.program.release()
