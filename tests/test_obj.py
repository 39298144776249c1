"""The strict .obj reader: real shape models, every supported syntax, and line-numbered errors."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from conftest import shared_file

from delvol.errors import DelvolError
from delvol.io.obj import load_obj

# Every syntax the reader accepts, with eight vertices (EXPECTED_VERTICES) and nine triangles.
SYNTHETIC = """\
# a synthetic overlay # with a second hash
mtllib scene.mtl
o thing
v 0 0 0
v 1 0 0 1.0
  v 1 1 0\t# leading spaces, a tab before the comment
v\t0\t1\t0
vt 0 0
vt 1 0
vn 0 0 1
vp 0.5
g group
s off
usemtl red

f 1 2 3
f 1/1 3/2 4/1
f 1//1 2//1 3//1
f 1/1/1 2/2/1 3/1/1
v 0 0 1
v 1 0 1
v 1 1 \\
  1
v 0 1 1 # C:\\a\\comment\\ending\\in\\a\\backslash\\
f -4 -3 -2 -1
f 1 2 3 4 5
l 1 2 3
l -1/1 -2/2
"""

EXPECTED_TRIANGLES = [
    [0, 1, 2],
    [0, 2, 3],
    [0, 1, 2],
    [0, 1, 2],
    [4, 5, 6],  # the quad -4 -3 -2 -1 after eight vertices: 4 5 6 7, fanned from 4
    [4, 6, 7],
    [0, 1, 2],  # the pentagon, fanned from its first corner
    [0, 2, 3],
    [0, 3, 4],
]
EXPECTED_VERTICES = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]]


def write(tmp_path, content: str | bytes, name: str = "mesh.obj"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


@pytest.mark.real_data
def test_castalia_is_a_closed_consistently_wound_surface():
    mesh = load_obj(shared_file("meshes/4769castalia_radar.obj"))
    assert mesh.vertices.shape == (2048, 3) and mesh.vertices.dtype == np.float64
    assert mesh.triangles.shape == (4092, 3) and mesh.triangles.dtype == np.int32
    assert mesh.lines.shape == (0, 2)
    assert mesh.triangles.min() == 0 and mesh.triangles.max() == 2047
    directed = mesh.triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    _, counts = np.unique(np.sort(directed, axis=1), axis=0, return_counts=True)
    assert (counts == 2).all()  # closed: every edge borders exactly two triangles
    assert len(np.unique(directed, axis=0)) == len(directed)  # each edge runs once each way
    a, b, c = (mesh.vertices[mesh.triangles[:, i]] for i in range(3))
    assert np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6 > 0  # normals point outwards
    assert mesh.name == "4769castalia_radar"


@pytest.mark.real_data
def test_spot_with_texture_slash_faces_parses_fast():
    path = shared_file("meshes/spot.obj")
    start = time.perf_counter()
    mesh = load_obj(path)
    assert time.perf_counter() - start < 1.0
    assert mesh.vertices.shape == (2930, 3)
    assert mesh.triangles.shape == (5856, 3)
    assert mesh.triangles.min() == 0 and mesh.triangles.max() == 2929


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_every_supported_syntax(tmp_path, newline):
    mesh = load_obj(write(tmp_path, SYNTHETIC.replace("\n", newline)))
    np.testing.assert_array_equal(mesh.vertices, EXPECTED_VERTICES)
    np.testing.assert_array_equal(mesh.triangles, EXPECTED_TRIANGLES)
    np.testing.assert_array_equal(mesh.lines, [[0, 1], [1, 2], [7, 6]])


def test_weights_and_colours_are_ignored_on_any_vertex_and_a_byte_order_mark(tmp_path):
    # Colour on some vertices only, a w on another: all read as positions alone.
    text = "\ufeffv 0 0 0 1 0 0\nv 1 0 0\nv 0 1 0 0.5\nv 1 1 0 0 0 0.5\nf 1 2 3 4\n"
    mesh = load_obj(write(tmp_path, text))
    np.testing.assert_array_equal(mesh.vertices, [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(mesh.triangles, [[0, 1, 2], [0, 2, 3]])
    assert [field.name for field in dataclasses.fields(mesh)] == ["vertices", "triangles", "lines", "path"]


def test_scale_then_offset(tmp_path):
    path = write(tmp_path, SYNTHETIC)
    mesh = load_obj(path, scale=2.5, offset=(1, -2, 3))
    np.testing.assert_allclose(mesh.vertices, np.array(EXPECTED_VERTICES) * 2.5 + [1, -2, 3])
    np.testing.assert_array_equal(mesh.triangles, EXPECTED_TRIANGLES)


@pytest.mark.parametrize(
    ("scale", "offset"), [(0.0, (0, 0, 0)), (float("nan"), (0, 0, 0)), (1.0, (0, 0)), (1.0, (0, float("inf"), 0))]
)
def test_unusable_transform(tmp_path, scale, offset):
    with pytest.raises(DelvolError, match=r"scale|offset"):
        load_obj(write(tmp_path, SYNTHETIC), scale=scale, offset=offset)


THREE = "v 0 0 0\nv 1 0 0\nv 0 1 0\n"


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("v 0 0 0\nv 1 x 0\n", 2, "'x' is not a number"),
        ("# header\n\nv 0 0\n", 3, "got 2 values"),
        ("v 0 0 0 1 1\n", 1, "got 5 values"),
        ("v 0 nan 0\n", 1, "not a finite number"),
        ("v 0 0 0 1 0 x\n", 1, "'x' is not a number"),
        (THREE + "f 1 2\n", 4, "at least 3 vertices, got 2"),
        (THREE + "f 0 1 2\n", 4, "vertex index 0"),
        (THREE + "f 1 2 4\n", 4, "vertex index 4 is out of range: 3 vertices"),
        (THREE + "f 1 2 -4\n", 4, "vertex index -4 is out of range"),
        ("v 0 0 0\nf 1 2 3\nv 1 0 0\nv 0 1 0\n", 2, "vertex index 2 is out of range: 1 vertex defined"),
        (THREE + "f 1 2 3/\n", 4, "'3/' is not a vertex reference"),
        (THREE + "f 1/1/1/1 2 3\n", 4, "'1/1/1/1' is not a vertex reference"),
        (THREE + "f 1 2 3.0\n", 4, "'3.0' is not a vertex reference"),
        (THREE + "l 1\n", 4, "at least 2 vertices, got 1"),
        (THREE + "l 1//1 2//1\n", 4, "'1//1' is not a vertex reference"),
        (THREE + "l 1 -9\n", 4, "vertex index -9 is out of range"),
        (THREE + "F 1 2 3\n", 4, "unknown statement 'F'"),
        (THREE + "p 1\n", 4, "'p' statements"),
        (THREE + "curv 0 1 1 2\n", 4, "'curv' statements"),
        (THREE + "f 1 2 \\\n  9\n", 4, "vertex index 9"),
        ("v 0 0 0\r\n# crlf\r\nv 1 0 0 0 0\r\n", 3, "got 5 values"),
        (b"v 0 0 0\n\x00\x01\x02", 2, "not a text file"),
        (b"v 0 0 0\n# caf\xe9\n", 2, "not UTF-8 text (byte 0xe9)"),
    ],
)
def test_malformed_lines_are_named(tmp_path, content, line, problem):
    path = write(tmp_path, content)
    with pytest.raises(DelvolError) as info:
        load_obj(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line {line}: ")
    assert problem in message


@pytest.mark.parametrize("content", ["", "# only a comment\n\n", "o empty\ng nothing\n"])
def test_no_vertices(tmp_path, content):
    path = write(tmp_path, content)
    with pytest.raises(DelvolError, match="no vertices") as info:
        load_obj(path)
    assert info.value.path == str(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DelvolError, match="no such file"):
        load_obj(tmp_path / "absent.obj")
    with pytest.raises(DelvolError, match="not a regular file"):
        load_obj(tmp_path)
