"""Blocked builds on real Dask clusters: local, by address, with a worker killed, and rendered.

Every cluster binds to 127.0.0.1 and is closed by the test that starts it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.pointsets import soneira_peebles
from delvol.blocks import tessellate_blocks
from delvol.blocks.cluster import dask_runner
from delvol.cli import main
from delvol.geometry import tessellate

pytest.importorskip("distributed")

DASK = Path(sys.executable).parent / "dask"


@pytest.fixture(scope="module")
def cloud():
    pts = soneira_peebles(4000, seed=5)
    return pts, tessellate(pts)


@pytest.fixture(scope="module")
def runner():
    with dask_runner(workers=2) as r:
        yield r


def test_local_cluster_equals_single_run(runner, cloud):
    pts, single = cloud
    blocked = tessellate_blocks(pts, blocks=4, runner=runner)
    np.testing.assert_allclose(blocked.density, single.density, rtol=1e-12)
    assert set(map(tuple, np.sort(blocked.faces, axis=1).tolist())) == set(
        map(tuple, np.sort(single.faces, axis=1).tolist())
    )


@pytest.mark.slow
def test_killed_worker_still_gives_the_right_result(runner):
    pts = soneira_peebles(15000, seed=9)
    single = tessellate(pts)
    client = runner.client
    pids = client.run(os.getpid)
    killed = []

    def kill_one_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.05)

    thread = threading.Thread(target=kill_one_busy_worker)
    thread.start()
    blocked = tessellate_blocks(pts, blocks=4, runner=runner)
    thread.join()
    assert killed, "no worker was busy to kill"
    np.testing.assert_allclose(blocked.density, single.density, rtol=1e-12)
    assert len(blocked.faces) == len(single.faces)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def _start(args, log):
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_scheduler_and_worker_processes_by_address(tmp_path, cloud, capsys):
    if not DASK.exists():
        pytest.skip("the dask command line is not installed")
    pts, single = cloud
    np.save(tmp_path / "pts.npy", pts)
    info = tmp_path / "scheduler.json"
    log = (tmp_path / "dask.log").open("w")
    scheduler = _start(
        [
            DASK,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            info,
        ],
        log,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        import json

        address = json.loads(info.read_text())["address"]
        worker = _start(
            [
                DASK,
                "worker",
                address,
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--host",
                "127.0.0.1",
                "--dashboard-address",
                "127.0.0.1:0",
            ],
            log,
        )
        out = tmp_path / "out.npz"
        argv = ["tessellate", str(tmp_path / "pts.npy"), "--blocks", "3", "--scheduler", address, "-o", str(out)]
        assert main(argv) == 0
        assert address in capsys.readouterr().err  # the scheduler (and its dashboard) is named
        with np.load(out) as data:
            np.testing.assert_allclose(data["density"], single.density, rtol=1e-12)
            assert len(data["faces"]) == len(single.faces)
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)
        log.close()


def test_unreachable_scheduler_is_one_line(tmp_path, cloud, capsys, monkeypatch):
    import delvol.blocks.cluster as cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    np.save(tmp_path / "pts.npy", cloud[0])
    code = main(["info", str(tmp_path / "pts.npy"), "--blocks", "2", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err[0]


def test_block_options_are_checked(tmp_path, cloud, capsys):
    np.save(tmp_path / "pts.npy", cloud[0])
    assert main(["info", str(tmp_path / "pts.npy"), "--workers", "2"]) == 2
    assert "--workers needs blocks" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["info", str(tmp_path / "pts.npy"), "--blocks", "0"])


@pytest.mark.gl
def test_blocked_render_equals_single_render(runner, cloud):
    from delvol.blocks.render import blocked_scene, render_blocked_image
    from delvol.blocks.run import prepared_job
    from delvol.gl.context import create_offscreen_context
    from delvol.gl.offscreen import render_image
    from delvol.gl.renderer import Renderer
    from delvol.scene.camera import Camera
    from delvol.scene.settings import RenderSettings

    pts, single = cloud
    size = (64, 48)
    try:
        ctx = create_offscreen_context()
    except Exception as exc:
        pytest.skip(f"no EGL: {exc}")
    camera = Camera()
    camera.fit(*single.bounds, size[0] / size[1], 30.0, 20.0)
    view_proj = camera.view_projection(size[0] / size[1])
    reference = Renderer(ctx, RenderSettings())
    client_side = Renderer(ctx, RenderSettings())
    try:
        reference.set_tessellation(single)
        reference.resize(size)
        reference.clear()
        reference.accumulate(view_proj)
        expected = reference.accum.read(channels=4)
        expected_image = render_image(reference, camera, size)
        with prepared_job(pts, None, 5) as prepared, blocked_scene(runner, prepared) as scene:
            summed = scene.accumulate(view_proj, size, RenderSettings())
            client_side.centre = scene.centre
            image = render_blocked_image(scene, client_side, camera, size)
        assert expected[..., 0].sum() > 0
        # float32 sums in another order: each pixel adds hundreds of faces, so ~1e-5 relative
        np.testing.assert_allclose(summed, expected, rtol=1e-4, atol=1e-6 * expected.max())
        assert client_side.clim == pytest.approx(reference.clim, abs=1e-5)
        assert np.abs(image.astype(int) - expected_image.astype(int)).max() <= 1
    finally:
        reference.release()
        client_side.release()
        ctx.release()


@pytest.mark.parametrize("periodic", [False, True])
def test_blocked_grid_equals_single_grid(runner, periodic, tmp_path, monkeypatch):
    import delvol.blocks.grid
    from benchmarks.pointsets import poisson
    from delvol.atomic import atomic_npy
    from delvol.blocks.grid import blocked_grid, grid_array
    from delvol.blocks.render import blocked_scene
    from delvol.blocks.run import prepared_job
    from delvol.geometry.interpolate import density_grid

    pts = poisson(1500, seed=4) if periodic else soneira_peebles(3000, seed=4)
    single = tessellate(pts, periodic=1.0 if periodic else None)
    lower, upper = single.bounds
    # Wider than the data: cells beyond every block's box are NaN (or wrap, when periodic).
    lower, upper = lower - 0.3 * (upper - lower), upper + 0.1 * (upper - lower)
    shape = (12, 10, 8)
    expected = density_grid(single, shape, lower, upper)
    with (
        prepared_job(pts, None, 4, periodic=1.0 if periodic else None) as prepared,
        blocked_scene(runner, prepared) as scene,
    ):
        field = blocked_grid(scene, shape, lower, upper)
        monkeypatch.setattr(delvol.blocks.grid, "PIECE_SAMPLES", 100)  # several pieces a block
        with atomic_npy(tmp_path / "rho.npy", shape) as out:
            assert blocked_grid(scene, shape, lower, upper, out=out) is out
        # Chunks that cut across the blocks, each put together from several blocks' pieces.
        with runner.client.as_current():
            lazy = grid_array(scene, shape, lower, upper, chunks=(5, 4, 3))
            assert lazy.chunks == ((5, 5, 2), (4, 4, 2), (3, 3, 2))
            computed = lazy.compute()
    np.testing.assert_array_equal(np.isnan(field), np.isnan(expected))
    assert np.isnan(field).any() != periodic and np.isfinite(field).any()
    np.testing.assert_allclose(field, expected, rtol=1e-9)
    np.testing.assert_array_equal(np.load(tmp_path / "rho.npy"), field)
    np.testing.assert_array_equal(computed, field)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rho.npy"]


def test_density_grid_array_on_a_running_cluster(runner):
    from delvol.blocks import density_grid_array
    from delvol.geometry.interpolate import density_grid

    pts = soneira_peebles(2000, seed=8)
    expected = density_grid(tessellate(pts), 9)
    address = runner.client.scheduler.address
    with density_grid_array(pts, 9, blocks=3, scheduler=address, chunks=4) as rho:
        assert rho.shape == (9, 9, 9) and rho.dtype == np.float64
        np.testing.assert_allclose(rho.compute(), expected, rtol=1e-9)
        # A part computes from the blocks it needs; reductions stay on the cluster.
        np.testing.assert_allclose(rho[:4, 2].compute(), expected[:4, 2], rtol=1e-9)
        assert float(np.isnan(rho).sum().compute()) == np.isnan(expected).sum()
    with pytest.raises(TypeError, match="unknown option"):
        with density_grid_array(pts, 9, colormap="viridis"):
            pass


def test_failed_blocked_grid_leaves_no_output(tmp_path, cloud, capsys, monkeypatch):
    import errno

    import delvol.blocks.grid

    np.save(tmp_path / "pts.npy", cloud[0])
    (tmp_path / "rho.npy").write_bytes(b"old")
    written = []

    def disk_full_after_one_block(array):
        written.append(int(np.isfinite(array).sum()))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(delvol.blocks.grid, "release_pages", disk_full_after_one_block)
    args = ["grid", str(tmp_path / "pts.npy"), "--shape", "6", "--blocks", "2", "--workers", "1"]
    assert main([*args, "-o", str(tmp_path / "rho.npy")]) == 2
    assert written and written[0] > 0  # it failed part-way through, with samples written
    assert "disk full" in capsys.readouterr().err
    assert (tmp_path / "rho.npy").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pts.npy", "rho.npy"]


def test_single_build_beyond_memory_points_to_blocks(tmp_path, cloud, capsys, monkeypatch):
    import delvol.scene.description as description

    monkeypatch.setattr(description, "available_memory", lambda: 10**6)
    np.save(tmp_path / "pts.npy", cloud[0])
    assert main(["info", str(tmp_path / "pts.npy"), "--no-cache"]) == 0
    err = capsys.readouterr().err
    assert "more than the 1 MB available; --blocks N builds it in blocks on Dask" in err


@pytest.mark.gl
def test_render_command_with_blocks_equals_single_render(tmp_path, cloud, capsys):
    from PIL import Image

    pytest.importorskip("moderngl")
    np.save(tmp_path / "pts.npy", cloud[0])
    common = [str(tmp_path / "pts.npy"), "--size", "64x48", "--no-cache"]
    try:
        assert main(["render", *common, "-o", str(tmp_path / "single.png")]) == 0
    except SystemExit:
        pytest.skip("no EGL")
    faces = f"{len(cloud[1].faces):,} faces"
    assert faces in capsys.readouterr().err
    blocked = ["render", *common, "--blocks", "3", "--workers", "1", "-o", str(tmp_path / "blocked.png")]
    assert main(blocked) == 0
    assert faces in capsys.readouterr().err  # the blocks drew the single run's faces, no more
    single = np.asarray(Image.open(tmp_path / "single.png"), dtype=int)
    image = np.asarray(Image.open(tmp_path / "blocked.png"), dtype=int)
    assert single.sum() > 0 and np.abs(image - single).max() <= 1
    # The exact line integral adds up block by block; the sorted opacity needs every tetrahedron at once.
    assert main(["render", *common, "--mode", "integral", "-o", str(tmp_path / "single-integral.png")]) == 0
    assert main([*blocked[:-2], "--mode", "integral", "-o", str(tmp_path / "blocked-integral.png")]) == 0
    single, image = (np.asarray(Image.open(tmp_path / f"{n}-integral.png"), dtype=int) for n in ("single", "blocked"))
    difference = np.abs(image - single)
    assert single.sum() > 0 and np.mean(difference > 1) < 2e-3 and difference.max() <= 6
    capsys.readouterr()
    assert main([*blocked[:-2], "--mode", "opacity", "-o", str(tmp_path / "x.png")]) == 2
    assert "mode is not available with blocks" in capsys.readouterr().err


def test_info_grid_and_folder_commands_with_blocks(tmp_path, cloud, capsys):
    from delvol.blocks.store import load_blocks

    pts, single = cloud
    np.save(tmp_path / "pts.npy", pts)
    dask = ["--blocks", "2", "--workers", "1"]
    assert main(["info", str(tmp_path / "pts.npy"), *dask]) == 0
    out = capsys.readouterr().out
    assert "blocks        2," in out and f"faces         {len(single.faces):,}" in out
    assert main(["tessellate", str(tmp_path / "pts.npy"), *dask, "-o", str(tmp_path / "blocks") + "/"]) == 0
    np.testing.assert_allclose(load_blocks(tmp_path / "blocks").density, single.density, rtol=1e-12)
    args = ["grid", str(tmp_path / "pts.npy"), "--shape", "6", "--no-cache"]
    assert main([*args, "-o", str(tmp_path / "single.npy")]) == 0
    assert main([*args, *dask, "-o", str(tmp_path / "blocked.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "blocked.npy"), np.load(tmp_path / "single.npy"), rtol=1e-9)


def test_view_keeps_the_blocks_apart_past_the_face_budget(tmp_path, cloud):
    from delvol.blocks.lod import BlockFaces
    from delvol.scene.description import Scene

    pts, single = cloud
    np.save(tmp_path / "cloud.npy", pts)
    scene = Scene.from_options(tmp_path / "cloud.npy", blocks=4, workers=1)
    points, faces = scene.read_view(len(single.faces) // 4)
    assert isinstance(faces, BlockFaces) and len(points) == len(pts)
    assert faces.n_faces.sum() == len(single.faces)
    for block in faces.blocks:
        assert len(block.tetrahedra) == 0
        np.testing.assert_allclose(block.density, single.density[block.origin], rtol=1e-12)
    _, tess = scene.read_view(len(single.faces))
    assert not isinstance(tess, BlockFaces)
    np.testing.assert_allclose(tess.density, single.density, rtol=1e-12)
