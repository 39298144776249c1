"""Overlay meshes (.obj survey masks, axes, camera paths) drawn in a flat colour."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.gl.context import gl_bytes, load_program

PALETTE = (
    (0.30, 0.75, 0.93),  # sky blue
    (0.40, 0.85, 0.45),  # green
    (0.95, 0.55, 0.20),  # orange
    (0.85, 0.40, 0.85),  # purple
    (0.95, 0.90, 0.35),  # yellow
)
"""Overlay colours, chosen to stand out against the magma/inferno/viridis volumes."""


def unique_edges(triangles: np.ndarray) -> np.ndarray:
    """Each triangle edge once, as (E, 2) vertex pairs."""
    edges = np.sort(triangles[:, [[0, 1], [1, 2], [2, 0]]].reshape(-1, 2), axis=1)
    return np.unique(edges, axis=0)


class MeshVisual:
    """Triangles and line segments in one colour, as a wireframe or a translucent surface.

    Parameters
    ----------
    ctx : moderngl.Context
    color : (float, float, float)
    style : {"wire", "surface"}
        ``wire`` draws the triangle edges and the lines; ``surface`` fills the triangles
        at ``surface_alpha`` and draws the lines.
    """

    def __init__(
        self, ctx: moderngl.Context, color: tuple[float, float, float], style: str = "wire", surface_alpha: float = 0.25
    ) -> None:
        if style not in ("wire", "surface"):
            raise ValueError(f"overlay style must be wire or surface, got {style!r}")
        self.ctx = ctx
        self.color = color
        self.style = style
        self.surface_alpha = surface_alpha
        self.program = load_program(ctx, "mesh.vert", "mesh.frag")
        self._objects: list[moderngl.Buffer | moderngl.VertexArray] = []
        self._triangles: moderngl.VertexArray | None = None
        self._lines: moderngl.VertexArray | None = None

    def set_data(self, vertices: np.ndarray, triangles: np.ndarray, lines: np.ndarray, centre: np.ndarray) -> None:
        """Upload vertices (relative to ``centre``) with triangle and line index lists."""
        self._release_buffers()
        vbo = self.ctx.buffer((np.asarray(vertices, dtype=np.float64) - centre).astype(np.float32).tobytes())
        self._objects.append(vbo)
        segments = np.asarray(lines, dtype=np.uint32).reshape(-1, 2)
        if self.style == "wire" and len(triangles):
            segments = np.concatenate([segments, unique_edges(np.asarray(triangles)).astype(np.uint32)])
        elif len(triangles):
            self._triangles = self._vao(vbo, np.asarray(triangles, dtype=np.uint32))
        if len(segments):
            self._lines = self._vao(vbo, segments)

    def _vao(self, vbo: moderngl.Buffer, indices: np.ndarray) -> moderngl.VertexArray:
        ibo = self.ctx.buffer(indices.tobytes())
        vao = self.ctx.vertex_array(self.program, [(vbo, "3f", "in_position")], ibo, index_element_size=4)
        self._objects += [ibo, vao]
        return vao

    def draw(self, view_proj: np.ndarray) -> None:
        """Alpha-blend the overlay over the bound framebuffer (``view_proj`` includes the centre)."""
        self.program["u_view_proj"].write(gl_bytes(view_proj))
        if self._triangles is not None:
            self.program["u_color"] = (*self.color, self.surface_alpha)
            self._triangles.render(moderngl.TRIANGLES)
        if self._lines is not None:
            self.program["u_color"] = (*self.color, 1.0)
            self._lines.render(moderngl.LINES)

    def _release_buffers(self) -> None:
        for obj in reversed(self._objects):
            obj.release()
        self._objects, self._triangles, self._lines = [], None, None

    def release(self) -> None:
        self._release_buffers()
        self.program.release()
