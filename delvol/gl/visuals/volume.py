"""The Delaunay volume: every unique face, additively blended, carrying its DTFE density (and a field)."""

from __future__ import annotations

from typing import Any

import moderngl
import numpy as np

from delvol.geometry import Tessellation
from delvol.gl.context import gl_bytes, load_program
from delvol.gl.visuals.cut import NO_CLIP, set_cut_uniforms
from delvol.scene.settings import RenderSettings

WEIGHT_ROW = 4096  # faces per row of the weight texture (well under every GL texture limit)


def face_areas(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area of each triangle."""
    a = points[faces[:, 0]]
    return 0.5 * np.linalg.norm(np.cross(points[faces[:, 1]] - a, points[faces[:, 2]] - a), axis=1)


def face_weights(areas: np.ndarray, weighting: str) -> np.ndarray:
    """Per-face weights for :attr:`RenderSettings.weighting`, relative to the median face."""
    if weighting == "sum":
        return np.ones(len(areas), dtype=np.float32)
    positive = areas[areas > 0]
    rel = areas / (np.median(positive) if positive.size else 1.0)
    return (np.sqrt(rel) if weighting == "length" else rel).astype(np.float32)


def fraction_ranges(start: float, stop: float, n_inner: int, n_hull: int) -> list[tuple[int, int]]:
    """(first, count) ranges covering the fraction ``[start, stop)`` of the inner items
    (stored first) and of the ``n_hull`` items touching the hull (stored after them)."""
    ranges = []
    for base, n in ((0, n_inner), (n_inner, n_hull)):
        a, b = round(start * n), round(stop * n)
        if b > a:
            ranges.append((base + a, b - a))
    return ranges


class VolumeVisual:
    """GPU buffers for one tessellation and the program that accumulates it.

    Faces are uploaded in a seeded random order, interior faces first and faces touching
    the hull last. A prefix of either group is then an unbiased subset, which is what
    progressive rendering draws while the camera moves.

    Parameters
    ----------
    ctx : moderngl.Context
    programs : dict, optional
        Compiled shader variants to share with other visuals (the blocks of a blocked
        tessellation); their owner releases them. Default: this visual's own.
    """

    def __init__(
        self, ctx: moderngl.Context, programs: dict[tuple[bool, bool, bool], moderngl.Program] | None = None
    ) -> None:
        self.ctx = ctx
        # Shader variants by (weighted, clipped, field), compiled on first use, each with its VAO.
        self._own_programs = programs is None
        self._programs = {} if programs is None else programs
        self._vaos: dict[tuple[bool, bool, bool], moderngl.VertexArray] = {}
        self._buffers: list[moderngl.Buffer] = []
        self._field: moderngl.Buffer | None = None  # one float per vertex: the --color-by field, if any
        self._weights: moderngl.Texture | None = None
        self._faces: tuple[np.ndarray, np.ndarray] | None = None  # points and faces, for weights
        self._areas: np.ndarray | None = None
        self._weighting = ""
        self._centre = np.zeros(3)
        self._clip = NO_CLIP
        self.n_inner = self.n_hull = 0
        self.n_vertices = 0

    @property
    def n_faces(self) -> int:
        return self.n_inner + self.n_hull

    def set_data(self, tess: Tessellation, centre: np.ndarray, seed: int = 0, hidden: np.ndarray | None = None) -> None:
        """Upload points (relative to ``centre``, as float32) and the face index buffer.

        A periodic tessellation is clipped to its box when drawn. Faces touching a buffer
        point, or a vertex marked in ``hidden`` (shape (N,), bool), are left out.
        """
        self._release_buffers()
        self._centre = np.asarray(centre, dtype=np.float64)
        self._clip = NO_CLIP if tess.box_size is None else tess.bounds
        rng = np.random.default_rng(seed)
        on_hull = tess.face_on_hull
        dropped = tess.face_on_buffer
        if hidden is not None:
            dropped |= hidden[tess.faces].any(axis=1)
        inner, outer = np.flatnonzero(~on_hull & ~dropped), np.flatnonzero(on_hull & ~dropped)
        order = np.concatenate([rng.permutation(inner), rng.permutation(outer)])
        faces = tess.faces[order]
        self.n_inner, self.n_hull = len(inner), len(outer)
        self.n_vertices = len(tess.points)
        vertices = np.empty((len(tess.points), 4), dtype=np.float32)
        vertices[:, :3] = tess.points - centre
        vertices[:, 3] = np.nan_to_num(tess.density, nan=0.0, posinf=0.0)
        self._buffers = [self.ctx.buffer(vertices.tobytes()), self.ctx.buffer(faces.astype(np.uint32).tobytes())]
        # Areas only matter for the weighted modes; computing them lazily keeps the
        # default upload quick.
        self._faces, self._areas = (tess.points, faces), None

    def set_field(self, values: np.ndarray | None) -> None:
        """Upload the field that faces carry beside the density, or drop it (None).

        Without a field the shaders leave it out altogether (the FIELD variant adds one
        varying and the product; frames without a field cost what they did before).

        Parameters
        ----------
        values : ndarray, shape (n_vertices,), optional
            One value per vertex of the uploaded tessellation (images repeat their
            original's); NaN or inf become 0, as densities do.
        """
        if values is not None and len(values) != self.n_vertices:
            raise ValueError(f"{len(values)} field values for {self.n_vertices} vertices")
        for obj in (self._field, *self._vaos.values()):
            if obj is not None:
                obj.release()
        self._vaos, self._field = {}, None
        if values is not None:
            data = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
            self._field = self.ctx.buffer(data.tobytes())

    def _upload_weights(self, weighting: str) -> moderngl.Texture:
        if weighting == self._weighting and self._weights is not None:
            return self._weights
        if self._weights is not None:
            self._weights.release()
        if self._areas is None:
            assert self._faces is not None, "weights are uploaded after set_data"
            self._areas = face_areas(*self._faces)
        weights = face_weights(self._areas, weighting)
        rows = max(1, -(-len(weights) // WEIGHT_ROW))
        padded = np.zeros(rows * WEIGHT_ROW, dtype=np.float32)
        padded[: len(weights)] = weights
        self._weights = self.ctx.texture((WEIGHT_ROW, rows), 1, padded.tobytes(), dtype="f4")
        self._weights.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self._weighting = weighting
        return self._weights

    def face_ranges(self, start: float, stop: float, include_hull: bool) -> list[tuple[int, int]]:
        """(first, count) face ranges covering the fraction ``[start, stop)`` of each group."""
        return fraction_ranges(start, stop, self.n_inner, self.n_hull if include_hull else 0)

    def draw(
        self, view_proj: np.ndarray, settings: RenderSettings, start: float = 0.0, stop: float = 1.0, scale: float = 1.0
    ) -> None:
        """Add the faces in the fraction ``[start, stop)``, times ``scale``, to the bound float framebuffer.

        ``view_proj`` must already include the translation to the data centre.
        """
        if not self._buffers:
            return
        weighted = settings.weighting != "sum"
        clipped = self._clip is not NO_CLIP or settings.cut_mode != "off"
        prog, vao = self._variant(weighted, clipped)
        prog["u_view_proj"].write(gl_bytes(view_proj))
        prog["u_scale"] = scale
        if weighted:
            self._upload_weights(settings.weighting).use(location=0)
            prog["u_face_weight"] = 0
            prog["u_weight_width"] = WEIGHT_ROW
        if clipped:
            prog["u_centre"] = tuple(float(v) for v in self._centre)
            set_cut_uniforms(prog, settings, self._clip)
        for first, count in self.face_ranges(start, stop, not settings.hide_hull):
            if weighted:
                prog["u_first_face"] = first
            vao.render(moderngl.TRIANGLES, vertices=3 * count, first=3 * first)

    def _variant(self, weighted: bool, clipped: bool) -> tuple[moderngl.Program, moderngl.VertexArray]:
        field = self._field is not None
        key = (weighted, clipped, field)
        if key not in self._programs:
            flags = (("WEIGHTED", weighted), ("CLIPPED", clipped), ("FIELD", field))
            defines = tuple(name for name, on in flags if on)
            self._programs[key] = load_program(self.ctx, "volume.vert", "volume.frag", defines)
        if key not in self._vaos:
            vbo, ibo = self._buffers
            content: list[tuple[Any, ...]] = [(vbo, "3f 1f", "in_position", "in_density")]
            if field:
                content.append((self._field, "1f", "in_field"))
            self._vaos[key] = self.ctx.vertex_array(self._programs[key], content, ibo, index_element_size=4)
        return self._programs[key], self._vaos[key]

    def _release_buffers(self) -> None:
        for obj in (*self._vaos.values(), self._weights, *self._buffers, self._field):
            if obj is not None:
                obj.release()
        self._vaos, self._weights, self._buffers, self._field = {}, None, [], None
        self._weighting = ""

    def release(self) -> None:
        """Free every GL object this visual owns."""
        self._release_buffers()
        if self._own_programs:
            for program in self._programs.values():
                program.release()
            self._programs.clear()
