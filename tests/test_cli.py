"""The GL-free commands end to end, and one-line errors for every kind of bad option."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SAMPLE

from delvol.cli import main
from delvol.geometry import ARRAY_KEYS
from delvol.geometry.cache import cache_dir
from delvol.geometry.engines import resolve_engine


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_tessellate_exports_documented_keys(tmp_path, capsys):
    out = tmp_path / "t.npz"
    code, _, err = run_cli(capsys, "tessellate", SAMPLE, "-o", out, "--no-cache")
    assert code == 0 and "faces" in err
    dtypes = {
        "points": "f8",
        "masses": "f8",
        "tetrahedra": "i4",
        "neighbors": "i4",
        "faces": "i4",
        "tet_volume": "f8",
        "cell_volume": "f8",
        "density": "f8",
        "hull": "b1",
        "buffer": "b1",
    }
    with np.load(out, allow_pickle=False) as data:
        for key in ARRAY_KEYS:
            assert data[key].dtype == np.dtype(dtypes[key]), key
        n, t = len(data["points"]), len(data["tetrahedra"])
        assert data["points"].shape == (n, 3) and data["tetrahedra"].shape == (t, 4)
        assert data["neighbors"].shape == (t, 4) and data["faces"].shape[1] == 3
        assert len(data["density"]) == len(data["hull"]) == len(data["buffer"]) == n
        assert not data["buffer"].any()
        np.testing.assert_array_equal(data["points"], np.load(SAMPLE).astype(np.float64))


@pytest.mark.parametrize("engine", ["scipy", "auto"])
def test_tessellate_records_the_engine(tmp_path, capsys, engine):
    out = tmp_path / "t.npz"
    options = ["--no-cache", "--engine", engine, "--max-points", "2000"]
    code, _, _ = run_cli(capsys, "tessellate", SAMPLE, "-o", out, *options)
    assert code == 0
    with np.load(out, allow_pickle=False) as data:
        info = json.loads(str(data["info"]))
        assert info["engine"] == resolve_engine(engine)
        assert data["neighbors"].shape == data["tetrahedra"].shape  # derived when the engine gives none
    code, out, _ = run_cli(capsys, "info", SAMPLE, *options)
    assert code == 0 and f"engine        {resolve_engine(engine)}" in out


def test_unknown_engine_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["info", str(SAMPLE), "--engine", "cgal"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_grid_writes_field(tmp_path, capsys):
    out = tmp_path / "f.npy"
    code, _, _ = run_cli(capsys, "grid", SAMPLE, "--shape", "8", "6", "4", "--periodic", "100", "-o", out)
    assert code == 0
    field = np.load(out)
    assert field.shape == (8, 6, 4) and np.isfinite(field).all()
    assert field.mean() * 100.0**3 == pytest.approx(len(np.load(SAMPLE)), rel=0.5)


def test_info_and_cache(capsys):
    code, out, _ = run_cli(capsys, "info", SAMPLE)
    assert code == 0 and "32,970" in out and "tetrahedra" in out and "timings" in out
    assert list(cache_dir().glob("*.npz"))
    code, out, _ = run_cli(capsys, "cache", "clear")
    assert code == 0 and "removed" in out
    assert not list(cache_dir().glob("*.npz"))
    assert run_cli(capsys, "cache", "dir")[1].strip() == str(cache_dir())


BAD_OPTIONS = [
    (["render", "--clim", "400", "500"], "colour limits"),
    (["render", "--clim", "3", "1"], "colour limits"),
    (["render", "--percentiles", "-5", "200"], "percentiles"),
    (["render", "--percentiles", "90", "10"], "percentiles"),
    (["render", "--points", "--point-percentile", "150"], "point percentile"),
    (["render", "--gamma", "0"], "gamma"),
    (["render", "--exposure", "nan"], "exposure"),
    (["render", "--cut-normal", "0", "0", "0"], "cut-normal"),
    (["render", "--cut", "slab", "--cut-width", "-1"], "width"),
    (["render", "--fov", "0"], "--fov"),
    (["render", "--fov", "200"], "--fov"),
    (["render", "--up", "0", "0", "0"], "--up"),
    (["render", "--zoom", "0"], "--zoom"),
    (["render", "--distance", "-3"], "--distance"),
    (["fly", "--fps", "nan"], "--fps"),
    (["fly", "--fps", "-30", "--duration", "-1"], "--fps"),
    (["grid", "--shape", "0"], "--shape"),
    (["grid", "--shape", "4", "4"], "--shape"),
    (["grid", "--extent", "1", "1", "1", "0", "2", "2"], "--extent"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OPTIONS)
def test_bad_options_fail_in_one_line(tmp_path, capsys, args, message):
    command, *rest = args
    output = {"render": "x.png", "fly": "x.mp4", "grid": "x.npy"}[command]
    code, _, err = run_cli(capsys, command, SAMPLE, "-o", tmp_path / output, "--no-cache", *rest)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("delvol: error: ") and message in lines[0], err
    assert not list(tmp_path.iterdir())


def test_render_output_must_be_png(tmp_path, capsys):
    code, _, err = run_cli(capsys, "render", SAMPLE, "-o", tmp_path / "a.jpg")
    assert code == 2 and "a.jpg" in err and ".png" in err
