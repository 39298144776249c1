"""Overlay placement: rotations, unit conversion and the size note."""

from __future__ import annotations

import numpy as np
import pytest

from delvol.errors import DelvolError
from delvol.io.obj import load_obj
from delvol.io.placement import parse_rotation, size_note, unit_factor


def test_rotations():
    np.testing.assert_allclose(parse_rotation("90,0,0") @ [0, 1, 0], [0, 0, 1], atol=1e-12)  # y-up stands upright
    np.testing.assert_allclose(parse_rotation("0,0,1@90") @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(parse_rotation("90,0,90") @ [0, 1, 0], [0, 0, 1], atol=1e-12)  # x first, then z
    np.testing.assert_allclose(parse_rotation("90,0,90") @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    for bad in ("1,2", "a,b,c", "0,0,0@90", "1,0,0@x"):
        with pytest.raises(ValueError):
            parse_rotation(bad)


def test_units_and_note(tmp_path):
    assert unit_factor("kpc", "Mpc/h", 0.7) == pytest.approx(7e-4)
    assert unit_factor("Mpc/h", "Mpc", 0.7) == pytest.approx(1 / 0.7)
    assert unit_factor("kpc/h", "kpc/h", 0.7) == 1.0
    with pytest.raises(DelvolError, match="scene's length unit"):
        unit_factor("kpc", "code units (usually kpc/h)", 0.7)
    assert size_note("a.obj", 0.5, 100.0).startswith("note: overlay a.obj is 0.005 times")
    assert size_note("a.obj", 5, 100.0) is None and size_note("a.obj", 2e4, 100.0) is not None
    obj = tmp_path / "t.obj"
    obj.write_text("v 0 1 0\nv 1 0 0\nv 0 0 0\nf 1 2 3\n")
    mesh = load_obj(obj, 2.0, (1, 1, 1), parse_rotation("90,0,0"))
    np.testing.assert_allclose(mesh.vertices[0], [1, 1, 3], atol=1e-12)


def test_render_prints_a_note_for_a_speck(tmp_path, capsys):
    from conftest import SAMPLE

    from delvol.cli import main

    obj = tmp_path / "speck.obj"
    obj.write_text("v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nf 1 2 3\n")
    out = tmp_path / "o.png"
    args = ["render", str(SAMPLE), "--obj", str(obj), "--obj-rotate", "90,0,0", "--size", "64x36", "-o", str(out)]
    code = main(args)
    err = capsys.readouterr().err
    if code == 2 and "EGL" in err:
        pytest.skip("no EGL")
    assert code == 0 and "note: overlay speck.obj is" in err
