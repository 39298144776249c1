"""``delvol grid DIR/``: a block folder's tetrahedra rasterised equal the single run's density grid."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import delvol.blocks.folder_grid as folder_grid_module
from benchmarks.pointsets import poisson, soneira_peebles
from delvol.atomic import atomic_npy
from delvol.blocks.folder_grid import BlockFolder, folder_grid
from delvol.blocks.run import SerialRunner, job_folder, job_info, prepare_job
from delvol.blocks.store import write_blocks
from delvol.cli import main
from delvol.geometry import tessellate
from delvol.geometry.interpolate import density_grid


def _block_folder(path, pts, periodic, blocks=4):
    with job_folder(path.parent / "work") as work:
        job, wrapped, masses, lower = prepare_job(pts, None, blocks, work, periodic=periodic)
        write_blocks(path, SerialRunner(), job, wrapped, masses, box_size=periodic, box_lower=lower, info=job_info(job))
    return path


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    """(block folder, single-run tessellation, periodic box side or None)."""
    pts = soneira_peebles(3000, seed=7)
    return _block_folder(tmp_path_factory.mktemp("clustered") / "blocks", pts, None), tessellate(pts), None


@pytest.fixture(scope="module")
def periodic(tmp_path_factory):
    pts = poisson(2000, seed=11)
    folder = _block_folder(tmp_path_factory.mktemp("periodic") / "blocks", pts, 1.0)
    return folder, tessellate(pts, periodic=1.0), 1.0


@pytest.fixture(params=["clustered", "periodic"])
def built(request):
    return request.getfixturevalue(request.param)


def assert_same_grid(field, expected):
    np.testing.assert_array_equal(np.isnan(field), np.isnan(expected))
    np.testing.assert_allclose(field, expected, rtol=1e-9)


# Extents as fractions of the data's bounds: the bounds, wider than them (cells outside the hull,
# or the box wrapped more than once), and a part inside them (not the box, when periodic).
EXTENTS = {"default": (0.0, 1.0), "wider": (-0.3, 1.1), "inside": (0.2, 0.75)}


@pytest.mark.parametrize("extent", EXTENTS)
def test_folder_grid_equals_single_run(built, extent):
    folder, single, periodic = built
    lo, hi = single.bounds
    a, b = EXTENTS[extent]
    lower, upper = lo + a * (hi - lo), lo + b * (hi - lo)
    shape = (18, 14, 11)
    field = folder_grid(BlockFolder.open(folder), shape, lower, upper)
    expected = density_grid(single, shape, lower, upper)
    assert_same_grid(field, expected)
    assert np.isfinite(field).any()
    if periodic is None and extent != "inside":
        assert np.isnan(field).any()


def test_small_windows_split_large_tetrahedra(built, tmp_path, monkeypatch):
    """Tetrahedra split over many windows and chunks, written through a memory map: the same grid."""
    folder, single, _ = built
    monkeypatch.setattr(folder_grid_module, "PAIRS_PER_WINDOW", 5)
    monkeypatch.setattr(folder_grid_module, "TETS_PER_CHUNK", 97)
    monkeypatch.setattr(folder_grid_module, "PIECE_SAMPLES", 50)  # pages dropped often
    lower, upper = single.bounds
    with atomic_npy(tmp_path / "rho.npy", (9, 9, 9)) as out:
        assert folder_grid(BlockFolder.open(folder), (9, 9, 9), lower, upper, out=out) is out
    assert_same_grid(np.load(tmp_path / "rho.npy"), density_grid(single, 9))


def test_command_on_a_block_folder(tmp_path, capsys):
    """tessellate -o DIR/ then grid DIR/ (here, and on two Dask workers) equals grid FILE."""
    pytest.importorskip("distributed")
    pts = soneira_peebles(2500, seed=3)
    np.save(tmp_path / "pts.npy", pts)
    blocks = str(tmp_path / "blocks") + "/"
    assert main(["tessellate", str(tmp_path / "pts.npy"), "--blocks", "3", "--workers", "1", "-o", blocks]) == 0
    extent = ["--extent", "0.1", "0.05", "0", "0.6", "0.9", "0.8"]
    for args in ([], extent):
        common = ["--shape", "10", "12", "8", *args]
        assert main(["grid", str(tmp_path / "pts.npy"), *common, "--no-cache", "-o", str(tmp_path / "single.npy")]) == 0
        assert main(["grid", blocks, *common, "-o", str(tmp_path / "folder.npy")]) == 0
        assert "density, shape (10, 12, 8)" in capsys.readouterr().err
        assert_same_grid(np.load(tmp_path / "folder.npy"), np.load(tmp_path / "single.npy"))
    assert main(["grid", blocks, *common, "--workers", "2", "-o", str(tmp_path / "dask.npy")]) == 0
    assert "with 2 worker(s)" in capsys.readouterr().err
    np.testing.assert_array_equal(np.load(tmp_path / "dask.npy"), np.load(tmp_path / "folder.npy"))


def _damage_block(folder):
    (folder / "block-00001.npz").write_bytes((folder / "block-00001.npz").read_bytes()[:200])
    return "block-00001.npz: unreadable block file"


def _remove_block(folder):
    (folder / "block-00002.npz").unlink()
    return "block-00002.npz: block file missing (index.json lists 4 blocks)"


def _truncate_index(folder):
    (folder / "index.json").write_text((folder / "index.json").read_text()[:100])
    return "index.json: not a delvol block folder (damaged index"


def _shrink_points(folder):
    with np.load(folder / "points.npz") as data:
        arrays = {k: data[k][:-1] for k in data.files}
    np.savez(folder / "points.npz", **arrays)
    return "points.npz: 'points' has shape (2999, 3), the index says (3000, 3)"


@pytest.mark.parametrize("damage", [_damage_block, _remove_block, _truncate_index, _shrink_points])
def test_bad_block_folder_is_one_line(clustered, tmp_path, capsys, damage):
    folder = clustered[0]
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    message = damage(broken)
    (tmp_path / "rho.npy").write_bytes(b"old")
    assert main(["grid", str(broken), "--shape", "6", "-o", str(tmp_path / "rho.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert (tmp_path / "rho.npy").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "rho.npy"]


def test_what_a_block_folder_cannot_give(built, tmp_path, capsys):
    folder, _, periodic = built
    out = str(tmp_path / "rho.npy")
    assert main(["grid", str(folder), "--field", "vel", "-o", out]) == 2
    assert "a block folder holds no fields" in capsys.readouterr().err
    assert main(["grid", str(folder), "--periodic", "1", "-o", out]) == 2  # its box is the folder's
    assert "--periodic: a block folder holds its points and densities as they were built" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == []
    index = json.loads((folder / "index.json").read_text())
    assert index["box_size"] == periodic
