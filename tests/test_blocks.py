"""Blocked builds equal the single run: densities, faces, tetrahedra, hull, periodic images."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.pointsets import poisson, soneira_peebles
from delvol.blocks import tessellate_blocks
from delvol.blocks.cluster import version_mismatches
from delvol.blocks.layout import factor_counts, partition
from delvol.blocks.store import load_blocks, write_blocks
from delvol.errors import DelvolError
from delvol.geometry import tessellate


@pytest.fixture(scope="module")
def clustered():
    pts = soneira_peebles(3000, seed=7)
    return pts, tessellate(pts)


@pytest.fixture(scope="module")
def periodic():
    pts = poisson(2000, seed=11)
    return pts, tessellate(pts, periodic=1.0)


def geometric_faces(tess) -> set:
    """Faces as sets of vertex positions: comparable whatever the vertex numbering."""
    corners = tess.points[tess.faces]
    return {tuple(sorted(map(tuple, face))) for face in corners.tolist()}


def index_set(simplices: np.ndarray) -> set:
    return set(map(tuple, np.sort(simplices, axis=1).tolist()))


def assert_same(single, blocked, n):
    np.testing.assert_allclose(blocked.density[:n], single.density[:n], rtol=1e-12)
    np.testing.assert_allclose(blocked.cell_volume[:n], single.cell_volume[:n], rtol=1e-12)
    np.testing.assert_array_equal(blocked.hull, single.hull)
    assert len(blocked.faces) == len(single.faces)
    assert len(blocked.tetrahedra) == len(single.tetrahedra)


@pytest.mark.parametrize("blocks", [2, 8, 27])
def test_clustered_blocks_equal_single_run(clustered, blocks):
    pts, single = clustered
    blocked = tessellate_blocks(pts, blocks=blocks)
    assert_same(single, blocked, len(pts))
    np.testing.assert_array_equal(blocked.points, pts)  # the input points, in input order
    assert index_set(blocked.faces) == index_set(single.faces)
    assert index_set(blocked.tetrahedra) == index_set(single.tetrahedra)
    assert np.isclose(blocked.tet_volume.sum(), single.tet_volume.sum(), rtol=1e-12)
    assert blocked.info["blocks"]["n_blocks"] == blocks


@pytest.mark.parametrize("blocks", [2, 8, 27])
def test_periodic_blocks_equal_single_run(periodic, blocks):
    pts, single = periodic
    blocked = tessellate_blocks(pts, blocks=blocks, periodic=1.0)
    assert_same(single, blocked, len(pts))
    # images are numbered as the single run numbers them: same positions, same origins
    np.testing.assert_array_equal(blocked.points, single.points)
    np.testing.assert_array_equal(blocked.origin, single.origin)
    assert geometric_faces(blocked) == geometric_faces(single)
    assert index_set(blocked.tetrahedra) == index_set(single.tetrahedra)


def test_too_thin_shell_is_grown_until_exact(clustered):
    pts, single = clustered
    blocked = tessellate_blocks(pts, blocks=8, shell=0.2)
    assert blocked.info["blocks"]["regrown"] > 0
    assert blocked.info["blocks"]["max_rounds"] > 1
    assert_same(single, blocked, len(pts))
    assert index_set(blocked.faces) == index_set(single.faces)


def test_neighbors_match_the_single_run(clustered):
    pts, single = clustered
    blocked = tessellate_blocks(pts, blocks=8)
    # Qhull's neighbour of each (tetrahedron, face), named by vertex sets, is the same
    for tess in (single, blocked):
        assert (tess.neighbors == -1).sum() == (single.neighbors == -1).sum()
    pairs = set()
    for tess, out in ((single, set()), (blocked, pairs)):
        t = np.sort(tess.tetrahedra, axis=1)
        for k in range(4):
            other = tess.neighbors[:, k]
            ok = other >= 0
            out |= set(zip(map(tuple, t[ok].tolist()), map(tuple, t[other[ok]].tolist()), strict=True))
        if tess is single:
            expected = out
    assert pairs == expected


def test_duplicates_and_masses(clustered):
    pts, _ = clustered
    doubled = np.vstack([pts, pts[:5]])
    masses = np.linspace(1.0, 2.0, len(doubled))
    single = tessellate(doubled, masses)
    blocked = tessellate_blocks(doubled, masses, blocks=4)
    np.testing.assert_allclose(blocked.density, single.density, rtol=1e-12)
    assert blocked.info["n_duplicates"] == single.info["n_duplicates"] == 5


def test_partition_balances_clustered_counts():
    pts = soneira_peebles(20000, seed=3)
    layout = partition(pts, 8)
    counts = np.bincount(layout.assign(pts), minlength=8)
    assert counts.sum() == len(pts)
    assert counts.max() / counts.min() < 1.1  # equal counts, though the volumes differ wildly
    volumes = np.prod(layout.upper - layout.lower, axis=1)
    assert volumes.max() / volumes.min() > 3
    assert factor_counts(27) == [3, 3, 3] and factor_counts(12) == [3, 2, 2]


def test_block_folder_round_trip(tmp_path, clustered):
    from delvol.blocks.run import SerialRunner, job_folder, job_info, prepare_job

    pts, single = clustered
    with job_folder(tmp_path / "work") as folder:
        job, wrapped, masses, _ = prepare_job(pts, None, 4, folder)
        index = write_blocks(
            tmp_path / "out", SerialRunner(), job, wrapped, masses, box_size=None, box_lower=None, info=job_info(job)
        )
    assert len(index["blocks"]) == 4
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[:2] == ["block-00000.npz", "block-00001.npz"]
    assert not list(tmp_path.glob(".out.*"))  # no temporary folder left behind
    loaded = load_blocks(tmp_path / "out")
    np.testing.assert_allclose(loaded.density, single.density, rtol=1e-12)
    assert index_set(loaded.faces) == index_set(single.faces)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    with pytest.raises(DelvolError, match="not a delvol block folder"):
        write_blocks(tmp_path / "other", SerialRunner(), job, wrapped, masses, box_size=None, box_lower=None, info={})


def test_version_mismatch_is_named():
    local = {"python": "3.11", "delvol": "0.1.0", "numpy": "2.0", "scipy": "1.14", "distributed": "2024.1"}
    worker = {**local, "scipy": "1.10"}
    (message,) = version_mismatches(local, {"tcp://w:1": worker})
    assert "scipy 1.10 on worker tcp://w:1 (client has 1.14)" == message
    assert version_mismatches(local, {"tcp://w:1": dict(local)}) == []
