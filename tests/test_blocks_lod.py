"""Viewing blocks with level of detail: far blocks draw every k-th face, weighted by k."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.pointsets import soneira_peebles
from delvol.app.viewer import scene_viewer
from delvol.blocks.lod import BlockFaces, choose_strides, read_block_faces, subsample
from delvol.blocks.run import SerialRunner, job_folder, job_info, prepare_job
from delvol.blocks.store import load_blocks, write_blocks
from delvol.errors import DelvolError
from delvol.gl.offscreen import save_png, to_uint8
from delvol.gl.passes import FloatTarget
from delvol.gl.renderer import Renderer
from delvol.scene.description import CameraOptions, Scene
from delvol.scene.settings import RenderSettings

SIZE = (128, 128)
ROW_LOWER = np.array([[i, 0, 0] for i in range(8)], dtype=float)  # eight unit cubes along x
ROW_FACES = np.full(8, 1000)


def drawn(n_faces, strides):
    return int((-(-np.asarray(n_faces) // strides)).sum())


def test_everything_fits_draws_every_face():
    eye = np.array([-1.0, 0.5, 0.5])
    assert choose_strides(ROW_LOWER, ROW_LOWER + 1, eye, ROW_FACES, 8000).tolist() == [1] * 8


@pytest.mark.parametrize(
    ("eye", "budget", "expected"),
    [
        ((-1.0, 0.5, 0.5), 4000, [1, 1, 2, 2, 4, 8, 8, 8]),
        ((-1.0, 0.5, 0.5), 2000, [1, 2, 8, 8, 16, 32, 32, 32]),
        ((-1.0, 0.5, 0.5), 1000, [2, 8, 16, 32, 32, 64, 64, 128]),  # 1000 + 7 faces: even the nearest thins
        ((-1.0, 0.5, 0.5), 8, [1024] * 8),  # one face each: the least a budget may be
        ((3.5, 0.5, 0.5), 4000, [8, 4, 1, 1, 1, 4, 8, 16]),  # inside block 3: the blocks around it whole
        ((3.5, 0.5, 0.5), 2000, [64, 32, 4, 1, 4, 32, 64, 128]),
    ],
)
def test_strides_fit_the_budget_and_grow_with_distance(eye, budget, expected):
    eye = np.array(eye)
    strides = choose_strides(ROW_LOWER, ROW_LOWER + 1, eye, ROW_FACES, budget)
    assert strides.tolist() == expected
    assert drawn(ROW_FACES, strides) <= budget
    order = np.argsort(np.abs(ROW_LOWER[:, 0] + 0.5 - eye[0]), kind="stable")
    assert (np.diff(strides[order]) >= 0).all()  # never finer farther away


def test_budget_below_one_face_per_block_is_refused():
    with pytest.raises(ValueError, match="less than one face for each of 8 blocks"):
        choose_strides(ROW_LOWER, ROW_LOWER + 1, np.zeros(3), ROW_FACES, 7)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """3000 clustered points in 8 blocks, written as a block folder."""
    tmp = tmp_path_factory.mktemp("lod")
    pts = soneira_peebles(3000, seed=7)
    with job_folder(tmp / "work") as work:
        job, wrapped, masses, _ = prepare_job(pts, None, 8, work)
        write_blocks(
            tmp / "out", SerialRunner(), job, wrapped, masses, box_size=None, box_lower=None, info=job_info(job)
        )
    return tmp / "out"


@pytest.fixture(scope="module")
def assembled(folder):
    return load_blocks(folder)


@pytest.fixture(scope="module")
def blocks(folder):
    return read_block_faces(folder)


def test_block_faces_carry_the_assembled_densities(blocks, assembled):
    assert blocks.n_faces.sum() == len(assembled.faces) == 38585
    for block in blocks.blocks:
        np.testing.assert_array_equal(block.density, assembled.density[block.origin])
        np.testing.assert_array_equal(block.points, assembled.points[block.origin])
    every_third = subsample(blocks.blocks[0], 3)
    np.testing.assert_array_equal(
        every_third.points[every_third.faces], blocks.blocks[0].points[blocks.blocks[0].faces[::3]]
    )
    assert len(every_third.points) == len(np.unique(blocks.blocks[0].faces[::3]))


def test_read_view_assembles_only_what_fits(folder):
    n_faces = 38585
    _, tess = Scene(folder).read_view(n_faces)
    assert not isinstance(tess, BlockFaces) and len(tess.faces) == n_faces
    points, faces = Scene(folder).read_view(n_faces - 1)
    assert isinstance(faces, BlockFaces) and len(points) == 3000


def accumulation(ctx, setup, camera):
    renderer = Renderer(ctx, RenderSettings())
    setup(renderer)
    renderer.resize(SIZE)
    renderer.clear()
    renderer.accumulate(camera.view_projection(SIZE[0] / SIZE[1]))
    return renderer, renderer.target.read(channels=4).copy()


@pytest.fixture(scope="module")
def camera(assembled):
    return CameraOptions().fit_box(*assembled.bounds, SIZE[0] / SIZE[1])


@pytest.mark.gl
def test_a_budget_that_fits_draws_the_assembled_image(ctx, blocks, assembled, camera):
    full = accumulation(ctx, lambda r: r.set_tessellation(assembled), camera)[1]

    def setup(renderer):
        renderer.set_blocks(blocks, 38585)
        renderer.follow(camera.position)

    renderer, lod = accumulation(ctx, setup, camera)
    assert renderer.blocks is not None and renderer.blocks.strides.tolist() == [1] * 8
    np.testing.assert_array_equal(lod[..., 1], full[..., 1])  # the same faces on every pixel
    # Densities summed in another order: equal to float rounding (measured 1.4e-7 of the peak).
    np.testing.assert_allclose(lod[..., 0], full[..., 0], rtol=1e-5, atol=1e-6 * full[..., 0].max())
    renderer.release()


@pytest.mark.gl
def test_a_small_budget_keeps_the_image_sum(ctx, blocks, assembled, camera, tmp_path):
    full = accumulation(ctx, lambda r: r.set_tessellation(assembled), camera)[1]

    def setup(renderer):
        renderer.set_blocks(blocks, 38585 // 4)
        renderer.follow(camera.position)

    renderer, lod = accumulation(ctx, setup, camera)
    assert renderer.n_items == 9064 <= 38585 // 4
    assert renderer.blocks is not None and renderer.blocks.strides.tolist() == [8, 4, 4, 4, 4, 4, 4, 4]
    # Unbiased: the expected sum is the full one, but one sample of 9k faces is off by a few
    # percent, as the faces kept change with the blocks' face order. Measured: density 0.998,
    # then 1.020 after the blocks' ghost shells changed; face count 0.958 (the count is carried
    # by a few large faces; with every 4th face of every block, the four offsets gave 0.948,
    # 1.044, 0.981 and 1.022).
    assert lod[..., 0].sum() / full[..., 0].sum() == pytest.approx(1.0, abs=0.03)
    assert lod[..., 1].sum() / full[..., 1].sum() == pytest.approx(1.0, abs=0.06)
    renderer.update_auto_clim()
    target = FloatTarget(ctx, SIZE)
    renderer.composite(target.fbo, camera.view_projection(1.0))
    pixels = to_uint8(target.read(3))
    save_png(pixels, tmp_path / "lod.png")
    covered, lod_covered = full[..., 1] > 0, lod[..., 1] > 0
    assert 0.1 < covered.mean() < 0.5  # the cloud fills part of the frame
    assert (covered == lod_covered).mean() > 0.97  # and the coarse view covers the same pixels
    assert (pixels.max(axis=2)[lod_covered] > 0).mean() > 0.9
    target.release()
    renderer.release()


@pytest.mark.gl
def test_the_viewer_refines_near_blocks_as_it_flies_in(ctx, folder, tmp_path):
    scene = Scene(folder)
    points, blocks = scene.read_view(38585 // 4)
    assert isinstance(blocks, BlockFaces)
    lines: list[str] = []
    viewer = scene_viewer(ctx, scene, points, blocks, SIZE, face_budget=38585 // 4, echo=lines.append)
    target = FloatTarget(ctx, SIZE)
    try:
        viewer.frame(target.fbo, 1 / 30)
        lod = viewer.renderer.blocks
        assert lod is not None and lod.n_faces <= 38585 // 4
        before = lod.strides.copy()
        viewer.camera.position = (lod.blocks.lower[0] + lod.blocks.upper[0]) / 2  # inside block 0
        viewer.invalidate()
        viewer.frame(target.fbo, 1 / 30)
        assert lod.strides[0] == 1 and lod.strides.max() > before.max()
        assert lod.n_faces <= 38585 // 4
        viewer.commands["cycle_render_mode"]()
        assert viewer.settings.mode == "faces" and "only faces with blocks" in lines[-1]
    finally:
        target.release()
        viewer.renderer.release()


def test_blocks_refuse_what_needs_every_face(folder):
    from delvol.gl.build import blocked_view

    scene = Scene.from_options(folder, show_points=True)
    with pytest.raises(DelvolError, match="points is not available with blocks"):
        blocked_view(scene, scene.read_view(10)[0])


@pytest.mark.gl
def test_a_budget_below_one_face_a_block_is_one_line(ctx, folder):
    from delvol.gl.build import blocks_renderer

    scene = Scene(folder)
    points, blocks = scene.read_view(7)
    with pytest.raises(DelvolError, match="--face-budget: a face budget of 7 is less than one face for each of 8"):
        blocks_renderer(ctx, scene, points, blocks, 7)
