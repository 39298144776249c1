"""The exact modes: every tetrahedron's own ray segment, summed (integral) or composited (opacity).

Buffers: the vertices (relative to the data centre, float32), an index buffer of the four
outward-wound faces of every tetrahedron (12 indices, so ``gl_PrimitiveID // 4`` names the
tetrahedron), and an RGBA32F texture of 4 texels per tetrahedron, its barycentric planes
about its centroid and its vertex densities (see shaders/tetra.frag). Tetrahedra are
stored in a seeded random order, interior ones first and those touching the hull last,
so a prefix is an unbiased subset, as for the faces.

Accumulation target layout (as in the faces mode): ``r`` holds the density quantity that
the tone map reads (here the exact line integral of rho, or in opacity mode the emitted
and attenuated line integral), ``a`` the opacity in opacity mode; ``g`` and ``b`` are
written as 0: ``b`` is where the faces mode sums rho times a field, and where a second
quantity of these modes would go.
"""

from __future__ import annotations

import time
from itertools import product

import moderngl
import numpy as np

from delvol.geometry import Tessellation
from delvol.geometry.tetrahedra import back_to_front, circumspheres, linear_field
from delvol.gl.context import load_program
from delvol.gl.visuals.cut import NO_CLIP, set_cut_uniforms
from delvol.gl.visuals.ray import eye_or_direction, set_ray_uniforms
from delvol.gl.visuals.volume import fraction_ranges
from delvol.scene.settings import RenderSettings, density_window

# Faces opposite vertices 0..3 of a positively oriented tetrahedron, wound outward.
_OUTWARD = np.array([[1, 2, 3], [0, 3, 2], [0, 1, 3], [0, 2, 1]])
_SHIFTS = np.array(list(product((-1, 0, 1), repeat=3)), dtype=np.float64)


def box_copies(points: np.ndarray, tetrahedra: np.ndarray, lower: np.ndarray, size: float):
    """The tetrahedra of one period and their translated copies that reach into the box.

    The kept tetrahedra of a periodic tessellation tile one period with a ragged outline;
    drawing each copy (shifted by a multiple of the box side) that overlaps the box, and
    clipping every segment to the box, shows every part of the periodic field in the box
    exactly once.

    Returns
    -------
    points : ndarray, shape (N', 3)
        The input points followed by four new vertices per shifted copy.
    tetrahedra : ndarray, shape (T', 4)
    source : ndarray, shape (T',)
        The input tetrahedron each output one copies.
    """
    corners = points[tetrahedra]
    lo, hi = corners.min(axis=1), corners.max(axis=1)
    parts, sources, new_points = [tetrahedra], [np.arange(len(tetrahedra))], [points]
    n = len(points)
    for shift in _SHIFTS:
        if not shift.any():
            continue
        offset = shift * size
        hits = np.flatnonzero(np.all((lo + offset <= lower + size) & (hi + offset >= lower), axis=1))
        if len(hits) == 0:
            continue
        new_points.append((corners[hits] + offset).reshape(-1, 3))
        parts.append(n + np.arange(4 * len(hits)).reshape(-1, 4))
        sources.append(hits)
        n += 4 * len(hits)
    return np.concatenate(new_points), np.concatenate(parts), np.concatenate(sources)


def outward_faces(points: np.ndarray, tetrahedra: np.ndarray) -> np.ndarray:
    """Index triples of the four faces of every tetrahedron, counter-clockwise from outside.

    Returns an array of shape (T, 12): tetrahedron t's faces are triangles 4t .. 4t+3.
    """
    corners = points[tetrahedra]
    edges = corners[:, 1:] - corners[:, :1]
    negative = np.linalg.det(edges) < 0
    tets = tetrahedra.copy()
    tets[negative] = tets[negative][:, [0, 1, 3, 2]]
    return tets[:, _OUTWARD].reshape(len(tets), 12)


class TetraVisual:
    """GPU data for the exact line integral and the exact sorted emission-absorption.

    Parameters
    ----------
    ctx : moderngl.Context
    """

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self._programs: dict[str, moderngl.Program] = {}
        self._vaos: dict[str, moderngl.VertexArray] = {}
        self._objects: list = []
        self._order: moderngl.Texture | None = None
        self._faces = np.zeros((0, 12), dtype=np.uint32)
        self._sorted_faces: moderngl.Buffer | None = None
        self._centre = np.zeros(3)
        self._clip = NO_CLIP
        self._spheres: tuple[np.ndarray, np.ndarray] | None = None
        self._vertex_source = np.zeros(0, dtype=np.int64)
        self._field: moderngl.Texture | None = None
        self.n_inner = self.n_hull = 0
        self.spacing = 1.0
        self.density_window = (0.0, 1.0)
        self.per_row = 1
        self.sort_seconds = 0.0

    @property
    def n_tets(self) -> int:
        return self.n_inner + self.n_hull

    def set_data(self, tess: Tessellation, centre: np.ndarray, seed: int = 0) -> None:
        """Upload every tetrahedron (periodic boxes: with the copies that wrap into the box)."""
        self._release_buffers()
        self._centre = np.asarray(centre, dtype=np.float64)
        points, tets = tess.points, tess.tetrahedra
        density = np.nan_to_num(tess.density, nan=0.0, posinf=0.0)
        # The tessellation's vertex each drawn vertex copies, to carry per-vertex fields.
        self._vertex_source = np.arange(len(points))
        if tess.box_size is not None and tess.box_lower is not None:
            self._clip = (tess.box_lower, tess.box_lower + tess.box_size)
            points, tets, source = box_copies(points, tets, tess.box_lower, tess.box_size)
            copied = tess.tetrahedra[source[len(tess.tetrahedra) :]].ravel()
            self._vertex_source = np.concatenate([self._vertex_source, copied])
            density = density[self._vertex_source]
            on_hull = np.zeros(len(tets), dtype=bool)
        else:
            self._clip = NO_CLIP
            on_hull = tess.hull[tets].any(axis=1)
        rng = np.random.default_rng(seed)
        inner, outer = np.flatnonzero(~on_hull), np.flatnonzero(on_hull)
        tets = tets[np.concatenate([rng.permutation(inner), rng.permutation(outer)])]
        self.n_inner, self.n_hull = len(inner), len(outer)
        faces = outward_faces(points, tets)
        field = linear_field(points - self._centre, tets, density)
        limit = self.ctx.info["GL_MAX_TEXTURE_SIZE"]
        self.per_row = limit // 4
        rows = max(1, -(-len(tets) // self.per_row))
        if rows > limit:
            raise ValueError(f"{len(tets):,} tetrahedra exceed this GL's texture limit ({limit}x{limit} texels)")
        texels = np.zeros((rows * self.per_row, 4, 4), dtype=np.float32)
        texels[: len(tets), :3, :3] = field.planes[:, :3]
        texels[: len(tets), 3, :3] = field.centroid
        texels[: len(tets), :, 3] = field.values
        vbo = self.ctx.buffer((points - self._centre).astype(np.float32).tobytes())
        ibo = self.ctx.buffer(faces.astype(np.uint32).tobytes())
        data = self.ctx.texture((4 * self.per_row, rows), 4, texels.tobytes(), dtype="f4")
        data.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._objects = [vbo, ibo, data]
        self._spheres = None
        self._tets = (points, tets)
        self._faces = faces.astype(np.uint32)
        if tess.n_primary:  # the opacity mode's scales; a block's faces and tetrahedra may have no point of their own
            lower, upper = tess.bounds
            self.spacing = float(np.prod(np.maximum(upper - lower, 1e-300)) / tess.n_primary) ** (1 / 3)
            self.density_window = density_window(tess.density[: tess.n_primary])

    def set_field(self, values: np.ndarray | None) -> None:
        """Carry a field in the ``integral`` mode: the integral of rho * f goes into the blue channel.

        ``values`` holds one value per vertex of the tessellation uploaded last (None: no field).
        """
        if self._field is not None:
            self._field.release()
            self._field = None
        if values is None or not self._objects:
            return
        _, tets = self._tets
        per_tet = np.nan_to_num(np.asarray(values, dtype=np.float64)[self._vertex_source][tets])
        rows = max(1, -(-len(tets) // self.per_row))
        texels = np.zeros((rows * self.per_row, 4), dtype=np.float32)
        texels[: len(tets)] = per_tet
        self._field = self.ctx.texture((self.per_row, rows), 4, texels.tobytes(), dtype="f4")
        self._field.filter = (moderngl.NEAREST, moderngl.NEAREST)

    def _vao(self, key: str) -> tuple[moderngl.Program, moderngl.VertexArray]:
        """The program of a mode and its vertex array: the opacity mode's draws re-sorted faces.

        ``key`` is the mode, with ``+field`` for the integral that also carries a field.
        """
        if key not in self._programs:
            defines = tuple(part.upper() for part in key.split("+"))
            self._programs[key] = load_program(self.ctx, "tetra.vert", "tetra.frag", defines)
        if key not in self._vaos:
            vbo, ibo, _ = self._objects[:3]
            if key == "opacity":
                self._sorted_faces = ibo = self.ctx.buffer(reserve=self._faces.nbytes)
                self._objects.append(ibo)
            self._vaos[key] = self.ctx.vertex_array(
                self._programs[key], [(vbo, "3f", "in_position")], ibo, index_element_size=4
            )
        return self._programs[key], self._vaos[key]

    def ranges(self, start: float, stop: float, include_hull: bool) -> list[tuple[int, int]]:
        """(first, count) tetrahedron ranges covering the fraction ``[start, stop)`` of each group."""
        return fraction_ranges(start, stop, self.n_inner, self.n_hull if include_hull else 0)

    def _set_view(self, prog: moderngl.Program, view_proj: np.ndarray, settings: RenderSettings) -> None:
        """Uniforms of the view: matrix, eye or direction, near plane, box and cut plane."""
        set_ray_uniforms(prog, view_proj)
        near = view_proj[2] + view_proj[3]
        near = near / np.linalg.norm(near[:3])
        prog["u_near"] = tuple(float(v) for v in near)
        prog["u_centre"] = tuple(float(v) for v in self._centre)
        set_cut_uniforms(prog, settings, self._clip)
        self._objects[2].use(location=0)
        prog["u_tets"] = 0
        prog["u_tets_per_row"] = self.per_row

    def draw_integral(self, view_proj: np.ndarray, settings: RenderSettings, start: float, stop: float) -> None:
        """Add the exact line integral of the tetrahedra in ``[start, stop)`` (additive blending on)."""
        if not self._objects:
            return
        prog, vao = self._vao("integral" if self._field is None else "integral+field")
        self._set_view(prog, view_proj, settings)
        if self._field is not None:
            self._field.use(location=1)
            prog["u_field"] = 1
        for first, count in self.ranges(start, stop, not settings.hide_hull):
            prog["u_first"] = first
            vao.render(moderngl.TRIANGLES, vertices=12 * count, first=12 * first)

    def draw_opacity(
        self, view_proj: np.ndarray, settings: RenderSettings, start: float = 0.0, stop: float = 1.0
    ) -> None:
        """Composite the tetrahedra in the fraction ``[start, stop)`` back to front, exactly sorted.

        A fraction below 1 is a random subset, with emission and extinction scaled up by
        its inverse: the viewer's cheap approximation while the view moves. Premultiplied
        "over" blending must be on.
        """
        if not self._objects:
            return
        points, tets = self._tets
        if self._spheres is None:
            self._spheres = circumspheres(points - self._centre, tets)
        chosen = np.concatenate(
            [np.arange(first, first + count) for first, count in self.ranges(start, stop, not settings.hide_hull)]
            or [np.zeros(0, dtype=np.int64)]
        )
        if len(chosen) == 0:
            return
        t0 = time.perf_counter()
        centre, r2 = self._spheres
        eye, direction = eye_or_direction(view_proj)
        order = chosen[back_to_front(centre[chosen], r2[chosen], eye, direction)]
        self.sort_seconds = time.perf_counter() - t0
        self._upload_order(order.astype(np.int32))
        prog, vao = self._vao("opacity")
        assert self._sorted_faces is not None and self._order is not None  # made by _upload_order
        self._sorted_faces.write(self._faces[order].tobytes())
        self._set_view(prog, view_proj, settings)
        self._order.use(location=1)
        prog["u_order"] = 1
        prog["u_order_width"] = self.per_row
        lo, hi = settings.opacity_window or self.density_window
        prog["u_log_lo"] = float(lo * np.log(10))
        prog["u_log_hi"] = float(hi * np.log(10))
        scale = len(chosen) / max(1, self.n_inner + (0 if settings.hide_hull else self.n_hull))
        prog["u_extinction"] = float(settings.opacity / self.spacing / scale)
        prog["u_emission"] = float(1 / scale)
        prog["u_first"] = 0
        vao.render(moderngl.TRIANGLES, vertices=12 * len(order), first=0)

    def _upload_order(self, order: np.ndarray) -> None:
        rows = max(1, -(-len(order) // self.per_row))
        padded = np.zeros(rows * self.per_row, dtype=np.int32)
        padded[: len(order)] = order
        if self._order is None or self._order.size != (self.per_row, rows):
            if self._order is not None:
                self._order.release()
            self._order = self.ctx.texture((self.per_row, rows), 1, dtype="i4")
            self._order.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._order.write(padded.tobytes())

    def _release_buffers(self) -> None:
        for obj in (*self._vaos.values(), self._order, self._field, *self._objects):
            if obj is not None:
                obj.release()
        self._vaos, self._order, self._field, self._objects = {}, None, None, []

    def release(self) -> None:
        """Free every GL object this visual owns."""
        self._release_buffers()
        for program in self._programs.values():
            program.release()
        self._programs = {}
