"""Fields on the command line: ``grid --field``, ``info --field``, ``tessellate --field`` and
``render --color-by``, with their one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from test_cli_render import one_line_error, run_cli

A = np.array([[0.5, -1.0, 0.2], [1.5, 0.3, -0.4], [0.0, 0.8, -1.1]])


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    """400 points in a unit cube with a linear velocity v = A x and a scalar g_r = x + 2y."""
    pos = np.random.default_rng(8).random((400, 3))
    vel = pos @ A.T
    path = tmp_path_factory.mktemp("cat") / "cat.csv"
    rows = np.column_stack([pos, vel, pos[:, 0] + 2 * pos[:, 1]])
    lines = ["x,y,z,vx,vy,vz,g_r"] + [",".join(f"{v:.17g}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_grid_of_a_field_and_its_derived_quantities(catalogue, tmp_path, capsys):
    out = tmp_path / "g.npy"
    extent = ["--extent", "0.3", "0.3", "0.3", "0.7", "0.7", "0.7"]
    assert run_cli(capsys, "grid", catalogue, "--field", "g_r", "--shape", "4", "-o", out, *extent)[0] == 0
    grid = np.load(out)
    centres = 0.3 + (np.arange(4) + 0.5) * 0.1
    np.testing.assert_allclose(grid, centres[:, None, None] + 2 * centres[None, :, None] + 0 * grid, atol=1e-10)
    code, err = run_cli(
        capsys, "grid", catalogue, "--field", "vel", "--derived", "divergence", "--shape", "4", "-o", out, *extent
    )
    assert code == 0 and "vel:divergence" in err
    np.testing.assert_allclose(np.load(out), np.trace(A), atol=1e-9)
    assert run_cli(capsys, "grid", catalogue, "--field", "vel", "--shape", "3", "-o", out)[0] == 0
    assert np.load(out).shape == (3, 3, 3, 3)  # components last
    assert run_cli(capsys, "grid", catalogue, "--field", "vel", "--derived", "shear", "--shape", "2", "-o", out)[0] == 0
    assert np.load(out).shape == (2, 2, 2, 3, 3)
    assert "--derived needs --field" in one_line_error(capsys, "grid", catalogue, "--derived", "divergence", "-o", out)
    assert "3-vector" in one_line_error(capsys, "grid", catalogue, "--field", "g_r:divergence", "-o", out)
    assert "no field 'nope'" in one_line_error(capsys, "grid", catalogue, "--field", "nope", "-o", out)


def test_info_field_lines(catalogue, capsys):
    from delvol.cli import main

    assert main(["info", str(catalogue), "--field", "vel", "--field", "vel:divergence"]) == 0
    out = capsys.readouterr().out
    assert "field         vel  (as stored, shape (400, 3))" in out
    assert "vel length" in out
    line = next(line for line in out.splitlines() if line.strip().startswith("vel:divergence "))
    assert f"p50={np.trace(A):.4g}" in line


def test_tessellate_exports_per_vertex_fields(catalogue, tmp_path, capsys):
    out = tmp_path / "t.npz"
    assert run_cli(capsys, "tessellate", catalogue, "--field", "vel", "--field", "vel:divergence", "-o", out)[0] == 0
    with np.load(out) as data:
        np.testing.assert_allclose(data["field_vel"], data["points"] @ A.T, atol=1e-12)
        np.testing.assert_allclose(data["field_vel_divergence"], np.trace(A), atol=1e-9)


def test_render_color_by_with_a_legend(catalogue, tmp_path, capsys):
    out = tmp_path / "c.png"
    args = ["render", catalogue, "-o", out, "--size", "200x150", "--show-hull", "--view", "+z", "--ortho"]
    code, err = run_cli(capsys, *args, "--color-by", "vel:x", "--legend")
    assert code == 0, err
    image = np.asarray(Image.open(out))
    plain = tmp_path / "p.png"
    assert run_cli(capsys, *args[:3], plain, *args[4:])[0] == 0
    reference = np.asarray(Image.open(plain))
    assert (image != reference).any()
    assert "--color-by vel" in one_line_error(capsys, *args, "--color-by", "vel")
    for bad in (["--color-by", "vel:curl"], ["--color-by", "g_r", "--color-map", "magma"]):
        with pytest.raises(SystemExit) as exc:  # argparse: usage and exit status 2
            run_cli(capsys, *args, *bad)
        assert exc.value.code == 2
