"""Commands on a block folder (``tessellate --blocks N -o DIR/``): info, render, grid, project.

A folder whose tessellation fits in memory is assembled and treated as the single run;
a larger one is drawn block by block, each block file read, drawn and released, and the
float images summed: the same image up to float rounding.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from test_blocks_lod import SIZE, accumulation

from benchmarks.pointsets import poisson, soneira_peebles
from delvol.blocks import store
from delvol.blocks.render import FolderScene
from delvol.blocks.run import SerialRunner, job_folder, job_info, prepare_job
from delvol.blocks.store import folder_points, load_blocks, read_index, write_blocks
from delvol.cli import main
from delvol.geometry import tessellate
from delvol.scene.description import CameraOptions
from delvol.scene.settings import RenderSettings


def _write(folder, pts, n_blocks, box=None, metadata=None):
    with job_folder(folder.parent / f"work-{folder.name}") as work:
        job, wrapped, masses, lower = prepare_job(pts, None, n_blocks, work, periodic=box)
        write_blocks(
            folder, SerialRunner(), job, wrapped, masses, box_size=box, box_lower=lower, info=job_info(job),
            metadata=metadata,
        )  # fmt: skip
    return folder


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """2000 clustered points as a file and as a folder of 4 blocks."""
    tmp = tmp_path_factory.mktemp("folder")
    pts = soneira_peebles(2000, seed=3)
    np.save(tmp / "pts.npy", pts)
    folder = _write(tmp / "blocks", pts, 4, metadata={"source": str(tmp / "pts.npy"), "format": "npy", "units": "Mpc"})
    return tmp / "pts.npy", folder, tessellate(pts)


@pytest.fixture(scope="module")
def periodic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("folder-periodic")
    pts = poisson(1500, seed=5)
    np.save(tmp / "pts.npy", pts)
    return tmp / "pts.npy", _write(tmp / "blocks", pts, 8, box=1.0), tessellate(pts, periodic=1.0)


def _forbid_assembly(monkeypatch):
    def refuse(*_):
        raise AssertionError("the folder was assembled")

    monkeypatch.setattr(store, "load_blocks", refuse)


def test_info_reads_the_index_and_the_points_alone(clustered, capsys, monkeypatch):
    path, folder, single = clustered
    assert main(["info", str(path), "--no-cache"]) == 0
    from_file = capsys.readouterr().out.splitlines()
    monkeypatch.setattr(store, "read_block", lambda *_: pytest.fail("a block file was read"))
    _forbid_assembly(monkeypatch)
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "block folder of pts.npy (npy)" in lines[0] and "units         Mpc" in out
    for key in ("points", "bounds", "tetrahedra", "faces", "hull points", "density ", "density span"):
        assert [line for line in lines if line.startswith(key)] == [line for line in from_file if line.startswith(key)]
    assert f"tetrahedra    {len(single.tetrahedra):,}" in out
    assert "blocks        4," in out


def test_folder_points_are_the_input_points(clustered):
    path, folder, _ = clustered
    points = folder_points(folder)
    np.testing.assert_array_equal(points.positions, np.load(path))
    assert points.metadata["source"] == str(folder)


@pytest.mark.gl
def test_a_folder_that_fits_renders_as_the_single_run(clustered, tmp_path, capsys):
    path, folder, single = clustered
    common = ["--size", "96x72", "--mode", "integral"]  # assembled: every mode draws
    assert main(["render", str(path), "--no-cache", *common, "-o", str(tmp_path / "file.png")]) == 0
    assert main(["render", str(folder), *common, "-o", str(tmp_path / "folder.png")]) == 0
    assert f"{len(single.faces):,} faces" in capsys.readouterr().err
    file_image, folder_image = (np.asarray(Image.open(tmp_path / f"{n}.png"), dtype=int) for n in ("file", "folder"))
    # The assembled tetrahedra come in another order: equal up to float rounding of the sums.
    assert file_image.sum() > 0 and np.abs(folder_image - file_image).max() <= 1


@pytest.mark.gl
@pytest.mark.parametrize("which", ["clustered", "periodic"])
def test_a_large_folder_renders_block_by_block(which, request, tmp_path, capsys, monkeypatch):
    path, folder, single = request.getfixturevalue(which)
    box = ["--periodic", "1"] if which == "periodic" else []
    assert main(["render", str(path), "--no-cache", *box, "--size", "96x72", "-o", str(tmp_path / "file.png")]) == 0
    capsys.readouterr()
    monkeypatch.setattr("delvol.gl.build.DEFAULT_FACE_BUDGET", 1)  # as if the faces were too many to assemble
    _forbid_assembly(monkeypatch)
    assert main(["render", str(folder), "--size", "96x72", "-o", str(tmp_path / "folder.png")]) == 0
    assert f"{len(single.faces):,} faces" in capsys.readouterr().err
    file_image, folder_image = (np.asarray(Image.open(tmp_path / f"{n}.png"), dtype=int) for n in ("file", "folder"))
    difference = np.abs(folder_image - file_image)
    assert file_image.sum() > 0 and difference.max() <= (1 if which == "clustered" else 4)  # summed in another order
    # Periodic: the assembled folder draws the same faces (as vertex positions) in another order and
    # orientation than the single run, and renders as the blocks do; 3 of 20,736 values differ, by at most 4.
    assert np.mean(difference > 1) < 1e-3
    # What needs every tetrahedron at once is one line, exit 2.
    assert main(["render", str(folder), "--mode", "opacity", "-o", str(tmp_path / "x.png")]) == 2
    assert "mode is not available with blocks" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.gl
@pytest.mark.parametrize("which", ["clustered", "periodic"])
def test_the_exact_line_integral_adds_up_block_by_block(which, request, tmp_path, monkeypatch):
    """Each tetrahedron is in one block: the blocks' integral images sum to the whole one's."""
    _, folder, _ = request.getfixturevalue(which)
    common = ["render", str(folder), "--size", "96x72", "--mode", "integral"]
    assert main([*common, "-o", str(tmp_path / "assembled.png")]) == 0
    monkeypatch.setattr("delvol.gl.build.DEFAULT_FACE_BUDGET", 1)
    _forbid_assembly(monkeypatch)
    assert main([*common, "-o", str(tmp_path / "blocks.png")]) == 0
    whole, blocks = (np.asarray(Image.open(tmp_path / f"{n}.png"), dtype=int) for n in ("assembled", "blocks"))
    assert whole.sum() > 0 and np.abs(blocks - whole).max() <= 1  # float sums in another order


@pytest.mark.gl
def test_block_by_block_accumulation_is_the_sum_of_the_faces(ctx, clustered):
    _, folder, single = clustered
    index = read_index(folder)
    held = FolderScene(str(folder), index["blocks"], folder_points(folder).positions, None, None, ctx=ctx)
    camera = CameraOptions().fit_box(*held.bounds, SIZE[0] / SIZE[1])
    summed = held.accumulate(camera.view_projection(SIZE[0] / SIZE[1]), SIZE, RenderSettings())
    renderer, full = accumulation(ctx, lambda r: r.set_tessellation(single), camera)
    renderer.release()
    np.testing.assert_array_equal(summed[..., 1], full[..., 1])  # the same faces on every pixel
    # Densities summed in another order, faces' corners in another order: float32 rounding, amplified by
    # thin faces' interpolation (measured: median 4.4e-7, 99th percentile 1.3e-5, largest 9.4e-5).
    np.testing.assert_allclose(summed[..., 0], full[..., 0], rtol=2e-4, atol=3e-5 * full[..., 0].max())
    covered = full[..., 0] > 0
    relative = np.abs(summed[..., 0] - full[..., 0])[covered] / full[..., 0][covered]
    assert np.median(relative) < 2e-6 and np.percentile(relative, 99) < 5e-5


def test_grid_and_project_of_a_folder_equal_the_file(clustered, tmp_path):
    path, folder, _ = clustered
    # The projection is drawn in float32 with the tetrahedra in another order (measured: 2.1e-4 apart at most).
    for command, extra, rtol in (("grid", ["--shape", "12"], 1e-9), ("project", ["--size", "32"], 1e-3)):
        assert main([command, str(path), "--no-cache", *extra, "-o", str(tmp_path / "file.npy")]) == 0
        assert main([command, str(folder), *extra, "-o", str(tmp_path / "folder.npy")]) == 0
        file_result, folder_result = np.load(tmp_path / "file.npy"), np.load(tmp_path / "folder.npy")
        np.testing.assert_allclose(folder_result, file_result, rtol=rtol, atol=rtol * 1e-3 * np.nanmax(file_result))


def test_build_options_on_a_folder_are_one_line(clustered, tmp_path, capsys):
    _, folder, _ = clustered
    for extra in (["--blocks", "2"], ["--max-points", "100"], ["--periodic", "1"], ["--color-by", "mass"]):
        assert main(["render", str(folder), *extra, "-o", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(folder) in err[0] and "as they were built" in err[0], err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.gl
def test_a_damaged_folder_is_one_line(clustered, tmp_path, capsys, monkeypatch):
    import shutil

    _, folder, _ = clustered
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    (broken / "block-00002.npz").write_bytes(b"PK\x03\x04 not a zip")
    monkeypatch.setattr("delvol.gl.build.DEFAULT_FACE_BUDGET", 1)
    assert main(["render", str(broken), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "block-00002.npz" in err[0] and "unreadable block file" in err[0], err
    (broken / "points.npz").write_bytes(b"")
    assert main(["info", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "points.npz" in err[0], err
    assert not (tmp_path / "x.png").exists()
    assert load_blocks is store.load_blocks  # nothing patched beyond the test


@pytest.mark.gl
def test_dask_workers_draw_a_folder(clustered, tmp_path, capsys, monkeypatch):
    _, folder, single = clustered
    monkeypatch.setattr("delvol.gl.build.DEFAULT_FACE_BUDGET", 1)
    _forbid_assembly(monkeypatch)
    assert main(["render", str(folder), "--size", "96x72", "-o", str(tmp_path / "here.png")]) == 0
    assert main(["render", str(folder), "--size", "96x72", "--workers", "1", "-o", str(tmp_path / "dask.png")]) == 0
    err = capsys.readouterr().err
    assert "Dask scheduler tcp://127.0.0.1:" in err and f"{len(single.faces):,} faces" in err
    here, dask = (np.asarray(Image.open(tmp_path / f"{n}.png"), dtype=int) for n in ("here", "dask"))
    assert here.sum() > 0 and np.abs(dask - here).max() <= 1  # tree-summed in another order


def test_a_damaged_block_on_a_dask_worker_is_one_line(clustered, tmp_path, capfd):
    import shutil

    _, folder, _ = clustered
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    data = (broken / "block-00001.npz").read_bytes()
    (broken / "block-00001.npz").write_bytes(data[: len(data) // 2])
    assert main(["render", str(broken), "--workers", "1", "-o", str(tmp_path / "x.png")]) == 2
    err = capfd.readouterr().err  # the workers' stderr too: no "Compute Failed" log with its traceback
    lines = [line for line in err.strip().splitlines() if not line.startswith("delvol: Dask scheduler")]
    assert len(lines) == 1 and "block-00001.npz: unreadable block file" in lines[0], err
    assert not (tmp_path / "x.png").exists()


def test_the_viewer_refuses_dask_workers_for_a_folder(clustered):
    from delvol.errors import DelvolError
    from delvol.scene.description import Scene

    _, folder, _ = clustered
    with pytest.raises(DelvolError, match="the viewer draws a block folder on this machine"):
        Scene.from_options(folder, workers=2).read_view(10)
