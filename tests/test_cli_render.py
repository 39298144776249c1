"""``delvol render`` and ``delvol fly`` end to end, and their one-line errors."""

from __future__ import annotations

import json

import imageio.v2 as imageio
import numpy as np
import pytest
from conftest import SAMPLE
from PIL import Image

from delvol.cli import main
from delvol.scene.camera import Camera

pytestmark = pytest.mark.gl


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def one_line_error(capsys, *args) -> str:
    code, err = run_cli(capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("delvol: error: "), err
    return lines[0]


def test_render_writes_png_of_requested_size(tmp_path, capsys):
    out = tmp_path / "s.png"
    code, _ = run_cli(capsys, "render", SAMPLE, "-o", out, "--size", "320x200", "--supersample", "2")
    assert code == 0
    with Image.open(out) as im:
        assert im.size == (320, 200)
        pixels = np.asarray(im)
    assert pixels.std() > 10
    assert (pixels.reshape(-1, 3) >= 250).all(axis=1).mean() < 0.001  # no blown-out white


def test_render_tiles_match_single_pass(tmp_path, capsys, ctx):
    from delvol.geometry.cache import cached_tessellate
    from delvol.gl.offscreen import render_image
    from delvol.gl.renderer import Renderer

    tess = cached_tessellate(np.load(SAMPLE))
    renderer = Renderer(ctx)
    renderer.set_tessellation(tess)
    cam = Camera()
    cam.fit(*(tess.points.min(0), tess.points.max(0)), aspect=300 / 170)
    whole = render_image(renderer, cam, (300, 170))
    tiled = render_image(renderer, cam, (300, 170), max_tile=64)
    renderer.release()
    diff = np.abs(whole.astype(int) - tiled.astype(int)).max(axis=-1)
    # Only pixel centres exactly on a face edge may round to the other side in a tile.
    assert (diff > 1).mean() < 1e-3 and diff.max() <= 8


def test_render_obj_overlay_lands_where_projected(tmp_path, capsys):
    obj = tmp_path / "tri.obj"
    obj.write_text("v 20 20 50\nv 80 20 50\nv 20 80 50\nf 1 2 3\n")
    out = tmp_path / "o.png"
    code, _ = run_cli(
        capsys,
        "render",
        SAMPLE,
        "-o",
        out,
        "--size",
        "200x200",
        "--view",
        "+z",
        "--ortho",
        "--obj",
        obj,
        "--obj-style",
        "surface",
        "--no-faces",
    )
    assert code == 0
    img = np.asarray(Image.open(out)).astype(int)
    cam = Camera(projection="orthographic")
    pts = np.load(SAMPLE)
    cam.fit(pts.min(0), pts.max(0), aspect=1.0, view="+z")
    centroid = cam.project(np.array([[40.0, 40.0, 50.0]]), 200, 200)[0].astype(int)
    corner = cam.project(np.array([[75.0, 75.0, 50.0]]), 200, 200)[0].astype(int)  # outside the triangle
    assert img[centroid[1], centroid[0]].sum() > img[corner[1], corner[0]].sum() + 60


def test_render_camera_state_file(tmp_path, capsys):
    cam = Camera()
    cam.fit(np.zeros(3), np.full(3, 100.0), view="-x")
    state = tmp_path / "cam.json"
    state.write_text(cam.to_json())
    assert run_cli(capsys, "render", SAMPLE, "-o", tmp_path / "c.png", "--size", "64x64", "--camera", state)[0] == 0
    state.write_text(json.dumps({"position": [1, 2]}))
    assert "cam.json" in one_line_error(capsys, "render", SAMPLE, "-o", tmp_path / "d.png", "--camera", state)
    assert not (tmp_path / "d.png").exists()


def test_render_bad_inputs_one_line(tmp_path, capsys):
    missing = tmp_path / "missing.npy"
    assert "missing.npy" in one_line_error(capsys, "render", missing, "-o", tmp_path / "x.png")
    nan = tmp_path / "nan.npy"
    arr = np.random.default_rng(0).random((50, 3))
    arr[7, 1] = np.nan
    np.save(nan, arr)
    assert "nan.npy" in one_line_error(capsys, "render", nan, "-o", tmp_path / "x.png")
    few = tmp_path / "few.npy"
    np.save(few, np.random.default_rng(0).random((3, 3)))
    assert "few.npy" in one_line_error(capsys, "info", few)
    flat = tmp_path / "flat.npy"
    np.save(flat, np.column_stack([np.random.default_rng(0).random((30, 2)), np.zeros(30)]))
    assert "plane" in one_line_error(capsys, "render", flat, "-o", tmp_path / "x.png")
    broken = tmp_path / "broken.obj"
    broken.write_text("v 0 0 0\nv 1 0 0\nf 1 2 9\n")
    message = one_line_error(capsys, "render", SAMPLE, "-o", tmp_path / "x.png", "--obj", broken)
    assert "broken.obj" in message and "line 3" in message
    assert not (tmp_path / "x.png").exists()


def test_fly_png_sequence_is_deterministic(tmp_path, capsys):
    for run in ("a", "b"):
        code, _ = run_cli(
            capsys,
            "fly",
            SAMPLE,
            "-o",
            tmp_path / run / "%03d.png",
            "--fps",
            "4",
            "--duration",
            "1",
            "--size",
            "96x64",
            "--orbit",
            "--elevation",
            "30",
        )
        assert code == 0
    frames_a = sorted((tmp_path / "a").glob("*.png"))
    assert len(frames_a) == 4
    for fa in frames_a:
        assert fa.read_bytes() == (tmp_path / "b" / fa.name).read_bytes()
    assert frames_a[0].read_bytes() != frames_a[1].read_bytes()


def test_fly_mp4_decodes(tmp_path, capsys):
    out = tmp_path / "m.mp4"
    code, _ = run_cli(capsys, "fly", SAMPLE, "-o", out, "--fps", "12", "--duration", "1", "--size", "128x72")
    assert code == 0
    reader = imageio.get_reader(out)
    meta = reader.get_meta_data()
    frames = [f for f in reader]
    reader.close()
    assert len(frames) == 12 and frames[0].shape == (72, 128, 3)
    assert meta["fps"] == pytest.approx(12)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_fly_bad_path_json(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "bad.json" in one_line_error(capsys, "fly", SAMPLE, "--path", bad, "-o", tmp_path / "m.mp4")
    assert "unknown movie format" in one_line_error(capsys, "fly", SAMPLE, "-o", tmp_path / "m.gif")
    assert not (tmp_path / "m.mp4").exists()
