"""Read Wavefront .obj overlays (survey masks, axes, asteroid shape models), strictly.

Only what an overlay draws is kept: vertex positions, faces fan-triangulated into
triangles, and ``l`` polylines split into segments. A ``w`` weight or an ``r g b`` colour
after a vertex's x y z must be numbers and is then ignored: each overlay is drawn in one
colour. Statements that a renderer can do without (texture coordinates, normals,
parameter-space vertices, object and group names, smoothing groups, materials and the
other display attributes) are skipped unread. Everything else is checked: a malformed
``v``, ``f`` or ``l`` line, an index that is 0 or points at no vertex, a statement the
renderer cannot draw (points, free-form curves and surfaces), an unknown statement, and a
file that is not UTF-8 text all raise a :class:`~delvol.errors.DelvolError` naming the
file and the line.

Why not trimesh: it is lenient by design. On load it merges duplicate vertices and drops
degenerate faces, so a broken mask file would be drawn wrong without a word. It is also a
large dependency for a format this small. A strict parser makes a bad overlay fail loudly,
with the line to fix.

Positive indices must refer to a vertex defined above the line that uses them, the same
rule that gives negative (relative) indices their meaning; only vertex indices are
checked, because texture and normal indices are discarded.
"""

from __future__ import annotations

import codecs
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError

#: Statements that carry nothing an overlay draws; their arguments are not read.
IGNORED = frozenset(
    {
        "vt", "vn", "vp", "o", "g", "s", "mg", "usemtl", "mtllib", "usemap", "maplib",
        "lod", "bevel", "c_interp", "d_interp", "shadow_obj", "trace_obj", "ctech", "stech",
    }
)  # fmt: skip

#: Geometry the renderer cannot draw: refused rather than dropped, so nothing goes missing unnoticed.
UNSUPPORTED = frozenset(
    {
        "p", "cstype", "deg", "bmat", "step", "curv", "curv2", "surf",
        "parm", "trim", "hole", "scrv", "sp", "end", "con", "call", "csh",
    }
)  # fmt: skip

# A face corner is ``v``, ``v/vt``, ``v//vn`` or ``v/vt/vn``; a polyline point ``v`` or ``v/vt``.
_FACE_CORNER = re.compile(r"(-?\d+)(?:/-?\d+|/(?:-?\d+)?/-?\d+)?", re.ASCII)
_LINE_POINT = re.compile(r"(-?\d+)(?:/-?\d+)?", re.ASCII)


@dataclass(frozen=True)
class ObjMesh:
    """The drawable content of an .obj file.

    Attributes
    ----------
    vertices : numpy.ndarray
        ``(V, 3)`` float64 positions, after the load-time scale and offset.
    triangles : numpy.ndarray
        ``(T, 3)`` int32 zero-based vertex indices; polygons are fan-triangulated from their
        first corner, keeping the file's winding.
    lines : numpy.ndarray
        ``(L, 2)`` int32 zero-based vertex indices of the polyline segments.
    path : pathlib.Path
        The file read.
    """

    vertices: np.ndarray
    triangles: np.ndarray
    lines: np.ndarray
    path: Path

    @property
    def name(self) -> str:
        """The file name without its extension, for labels."""
        return self.path.stem


def load_obj(
    path: str | os.PathLike,
    scale: float = 1.0,
    offset: Sequence[float] = (0.0, 0.0, 0.0),
    rotation: np.ndarray | None = None,
) -> ObjMesh:
    """Read a Wavefront .obj file, mapping each vertex ``v`` to ``(R v) * scale + offset``.

    Parameters
    ----------
    path : str or os.PathLike
    scale : float
        Finite and non-zero; converts the mesh's units to the scene's (for example km to
        Mpc/h). A negative value mirrors the mesh.
    offset : sequence of 3 floats
        Added after scaling, in scene units.
    rotation : ndarray, shape (3, 3), optional
        Applied first, about the mesh's own origin.

    Returns
    -------
    ObjMesh

    Raises
    ------
    DelvolError
        The file is missing or unreadable, is not UTF-8 text, has no vertices, or has a
        malformed or unsupported line (the message gives its number); or the scale or offset
        is unusable.
    """
    shift = _check_transform(scale, offset)
    p = Path(path)
    builder = _MeshBuilder(p)
    for number, tokens in _statements(_read_text(p)):
        builder.add(number, tokens)
    mesh = builder.finish()
    vertices = mesh.vertices if rotation is None else mesh.vertices @ np.asarray(rotation, dtype=np.float64).T
    vertices = vertices * float(scale) + shift
    # OpenGL draws in float32: a larger coordinate would become infinite there.
    beyond = np.flatnonzero(np.abs(vertices).max(axis=1, initial=0.0) > np.finfo(np.float32).max)
    if beyond.size:
        raise DelvolError(
            f"vertex {beyond[0] + 1} lies beyond ±3.4e38 (after --obj-rotate, --obj-scale and --obj-offset), "
            "which OpenGL cannot draw",
            p,
        )
    return replace(mesh, vertices=vertices)


def _check_transform(scale: float, offset: Sequence[float]) -> np.ndarray:
    """The offset as a float64 3-vector, after checking that both are usable."""
    if not (math.isfinite(scale) and scale != 0):
        raise DelvolError(f"the .obj scale must be a finite non-zero number, got {scale!r}")
    shift = np.asarray(offset, dtype=np.float64)
    if shift.shape != (3,) or not np.isfinite(shift).all():
        raise DelvolError(f"the .obj offset must be three finite numbers, got {offset!r}")
    return shift


def _read_text(path: Path) -> str:
    """The file's text; binary or non-UTF-8 content is an error naming the line it is on."""
    if not path.is_file():
        raise DelvolError("no such file" if not path.exists() else "not a regular file", path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DelvolError(f"cannot read ({exc.strerror})", path) from exc
    data = data.removeprefix(codecs.BOM_UTF8)
    nul = data.find(b"\0")
    if nul >= 0:
        raise DelvolError(f"line {_line_at(data, nul)}: not a text file (it holds NUL bytes)", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
        raise DelvolError(f"line {_line_at(data, bad)}: not UTF-8 text (byte 0x{data[bad]:02x})", path) from None


def _line_at(data: bytes, offset: int) -> int:
    """The 1-based number of the line holding byte ``offset``."""
    return data.count(b"\n", 0, offset) + 1


def _statements(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, tokens)`` for each non-blank statement.

    Comments run from ``#`` to the end of the physical line and are removed before a
    trailing backslash is looked for, so a comment ending in ``\\`` (a Windows path, say)
    does not swallow the next line. A continued statement gets the number of its first line.
    Splitting on ``\\n`` alone (not :meth:`str.splitlines`) keeps the numbers an editor shows;
    the ``\\r`` of CRLF endings is whitespace to :meth:`str.split`.
    """
    pending: list[str] = []
    first = 1
    # The extra empty line closes a continuation left open on the file's last line.
    for number, raw in enumerate([*text.split("\n"), ""], start=1):
        content = raw.split("#", 1)[0].rstrip()
        if not pending:
            first = number
        if content.endswith("\\"):
            pending.append(content[:-1])
            continue
        tokens = " ".join([*pending, content]).split() if pending else content.split()
        pending = []
        if tokens:
            yield first, tokens


class _MeshBuilder:
    """Collects the statements of one file, checking each as it comes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.coords: list[float] = []
        self.triangles: list[int] = []
        self.segments: list[int] = []

    def error(self, number: int, problem: str) -> DelvolError:
        """The error for ``problem`` on line ``number``, to raise."""
        return DelvolError(f"line {number}: {problem}", self.path)

    def add(self, number: int, tokens: list[str]) -> None:
        """Take in one statement."""
        keyword, args = tokens[0], tokens[1:]
        if keyword == "v":
            self.vertex(number, args)
        elif keyword == "f":
            if len(args) < 3:
                raise self.error(number, f"a face ('f') needs at least 3 vertices, got {len(args)}")
            corners = self.indices(number, args, _FACE_CORNER, "v, v/vt, v//vn or v/vt/vn")
            for k in range(1, len(corners) - 1):
                self.triangles += (corners[0], corners[k], corners[k + 1])
        elif keyword == "l":
            if len(args) < 2:
                raise self.error(number, f"a polyline ('l') needs at least 2 vertices, got {len(args)}")
            points = self.indices(number, args, _LINE_POINT, "v or v/vt")
            for a, b in pairwise(points):
                self.segments += (a, b)
        elif keyword in UNSUPPORTED:
            raise self.error(number, f"{keyword!r} statements (points, free-form geometry) are not supported")
        elif keyword not in IGNORED:
            raise self.error(number, f"unknown statement {keyword!r}")

    def vertex(self, number: int, args: list[str]) -> None:
        """A ``v x y z``, ``v x y z w`` or ``v x y z r g b`` line; w and r g b are checked, then ignored."""
        if len(args) not in (3, 4, 6):
            raise self.error(number, f"a vertex ('v') takes x y z, x y z w or x y z r g b; got {len(args)} values")
        values = [self.number(number, arg) for arg in args]
        self.coords += values[:3]

    def number(self, number: int, text: str) -> float:
        """``text`` as a finite float."""
        try:
            value = float(text)
        except ValueError:
            raise self.error(number, f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise self.error(number, f"{text!r} is not a finite number")
        return value

    def indices(self, number: int, args: list[str], pattern: re.Pattern, forms: str) -> list[int]:
        """Zero-based vertex indices of the references in ``args``, each checked."""
        defined = len(self.coords) // 3
        out = []
        for arg in args:
            match = pattern.fullmatch(arg)
            if match is None:
                raise self.error(number, f"{arg!r} is not a vertex reference (expected {forms})")
            index = int(match.group(1))
            if index == 0:
                raise self.error(number, "vertex index 0 (indices start at 1)")
            resolved = index - 1 if index > 0 else defined + index
            if not 0 <= resolved < defined:
                defined_above = f"{defined} {'vertex' if defined == 1 else 'vertices'} defined above"
                raise self.error(number, f"vertex index {index} is out of range: {defined_above}")
            out.append(resolved)
        return out

    def finish(self) -> ObjMesh:
        """The mesh read so far, untransformed; a file without vertices is an error."""
        if not self.coords:
            raise DelvolError("no vertices ('v' lines) in the .obj file", self.path)
        return ObjMesh(
            vertices=np.array(self.coords, dtype=np.float64).reshape(-1, 3),
            triangles=np.array(self.triangles, dtype=np.int32).reshape(-1, 3),
            lines=np.array(self.segments, dtype=np.int32).reshape(-1, 2),
            path=self.path,
        )


def save_obj(
    path: str | os.PathLike,
    vertices: np.ndarray,
    triangles: np.ndarray,
    normals: np.ndarray | None = None,
    comment: str = "",
) -> None:
    """Write a triangle mesh (with per-vertex normals when given) as a Wavefront .obj, atomically."""
    from delvol.atomic import atomic_path

    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    f = np.asarray(triangles, dtype=np.int64).reshape(-1, 3) + 1
    with atomic_path(path, suffix=".obj") as tmp, open(tmp, "w", encoding="utf-8") as out:
        for line in comment.splitlines():
            out.write(f"# {line}\n")
        np.savetxt(out, v, fmt="v %.9g %.9g %.9g")
        if normals is not None:
            np.savetxt(out, np.asarray(normals, dtype=np.float64).reshape(-1, 3), fmt="vn %.6g %.6g %.6g")
            np.savetxt(out, np.repeat(f, 2, axis=1), fmt="f %d//%d %d//%d %d//%d")
        else:
            np.savetxt(out, f, fmt="f %d %d %d")
