"""Render a blocked tessellation: each block on its worker, the float images tree-summed.

Faces are drawn additively with no depth test, so the accumulation image of all faces is
the sum of the blocks' accumulation images, exactly up to float rounding. Each worker
keeps its blocks' faces uploaded (in its own EGL context) between frames, so a movie
sends only camera matrices one way and float images back: no triangle crosses the
network. The colour limits comes from the summed image, and the client tone-maps it
and draws overlays on top, as a single render would.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from delvol.blocks.assemble import PointArrays, data_bounds
from delvol.blocks.build import BlockResult, build_block, without_simplices
from delvol.blocks.cluster import DaskRunner
from delvol.blocks.job import Job
from delvol.blocks.lod import block_faces
from delvol.blocks.run import PreparedJob, build_info
from delvol.progress import QUIET, StageLog
from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings

_WORKER: dict[str, Any] = {"ctx": None, "job": None, "renderers": {}}
"""Per worker process: its EGL context and a renderer per block it has drawn."""


@dataclass(eq=False)
class BlockedScene:
    """Built blocks held on the workers, and the per-point arrays gathered on the client.

    Attributes
    ----------
    runner : DaskRunner
    job : Job
    futures : dict
        Each block's :class:`~delvol.blocks.build.BlockResult`, as a future on a worker.
    points : PointArrays
        Density, cell volume and hull flag of every input point.
    positions : ndarray, shape (N, 3)
        The input points (wrapped into the box when periodic).
    box_lower : ndarray or None
    info : dict
    """

    runner: DaskRunner
    job: Job
    futures: dict[int, Any]
    points: PointArrays
    positions: np.ndarray
    box_lower: np.ndarray | None
    info: dict

    @property
    def box_size(self) -> float | None:
        return self.job.layout.box_size

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """As :attr:`Tessellation.bounds`: the periodic box, or the inputs' bounding box."""
        return data_bounds(self.positions, self.box_size, self.box_lower)

    @property
    def centre(self) -> np.ndarray:
        """The point that GL positions are taken relative to: the centre of the bounds."""
        lower, upper = self.bounds
        return (lower + upper) / 2


@contextmanager
def blocked_scene(runner: DaskRunner, prepared: PreparedJob, log: StageLog = QUIET) -> Iterator[BlockedScene]:
    """Build the blocks of a :func:`~delvol.blocks.run.prepared_job` on the workers and keep them there.

    For rendering or sampling. The per-point arrays are gathered (N values each, not the
    tetrahedra) and written to the job folder, where every worker reads the densities of
    its blocks' vertices.
    """
    job, pts, _, lower = prepared
    with log.stage("blocks"):
        futures = runner.submit_blocks(build_block, job, list(range(job.layout.n_blocks)), "build")
        summaries = [runner.submit(without_simplices, f, name=f"per-point-{b:05d}") for b, f in futures.items()]
        results = [s.result() for s in summaries]
    per_point = PointArrays(len(pts))
    for r in results:
        per_point.add(r)
    np.save(Path(job.folder) / "density.npy", per_point.density)
    np.save(Path(job.folder) / "hull.npy", per_point.hull)
    yield BlockedScene(runner, job, futures, per_point, pts, lower, build_info(job, results))


def accumulate_block(
    result: BlockResult,
    folder: str,
    box: tuple[float | None, np.ndarray | None],
    centre: np.ndarray,
    view_proj: np.ndarray,
    size: tuple[int, int],
    settings: RenderSettings,
) -> np.ndarray:
    """One block's accumulation image (float32, (height, width, 4), first row at the top).

    Runs on a worker; the EGL context and the block's uploaded faces are kept for the next
    frame of the same job.
    """
    from delvol.gl.context import create_offscreen_context
    from delvol.gl.renderer import Renderer

    if _WORKER["ctx"] is None:
        _WORKER["ctx"] = create_offscreen_context()
    if _WORKER["job"] != folder:
        for renderer in _WORKER["renderers"].values():
            renderer.release()
        _WORKER["job"], _WORKER["renderers"] = folder, {}
    renderer = _WORKER["renderers"].get(result.block)
    if renderer is None:
        renderer = Renderer(_WORKER["ctx"])
        density, hull = (np.load(Path(folder) / name, mmap_mode="r") for name in ("density.npy", "hull.npy"))
        renderer.set_faces(block_faces(result, density, hull, *box), centre)
        _WORKER["renderers"][result.block] = renderer
    renderer.settings = settings
    renderer.resize(size)
    renderer.clear()
    renderer.accumulate(view_proj)
    return renderer.accum.read(channels=4).copy()


def accumulate(
    scene: BlockedScene, view_proj: np.ndarray, size: tuple[int, int], settings: RenderSettings
) -> np.ndarray:
    """The accumulation image of every block's faces: per-block renders, summed as a tree."""
    runner = scene.runner
    box = (scene.box_size, scene.box_lower)
    parts = [
        runner.submit(
            accumulate_block, f, scene.job.folder, box, scene.centre, view_proj, size, settings, name=f"render-{b:05d}"
        )
        for b, f in scene.futures.items()
    ]
    while len(parts) > 1:
        pairs = [runner.submit(operator.add, a, b, name="sum") for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0].result()


def render_blocked_image(
    scene: BlockedScene, renderer, camera: Camera, size: tuple[int, int], supersample: int = 1
) -> np.ndarray:
    """A frame as (height, width, 3) uint8, as :func:`~delvol.gl.offscreen.render_image` draws it.

    ``renderer`` is a client-side renderer without a tessellation (only overlays); it
    tone-maps the summed image, keeps the automatic colour limits from the first frame, and
    draws its layers on top.
    """
    from delvol.gl.offscreen import to_uint8
    from delvol.gl.passes import FloatTarget

    width, height = size[0] * supersample, size[1] * supersample
    view_proj = camera.view_projection(width / height)
    summed = accumulate(scene, view_proj, (width, height), renderer.settings)
    renderer.resize((width, height))
    renderer.accum.texture.write(np.ascontiguousarray(summed[::-1]).tobytes())
    renderer.drawn = 1.0 if renderer.settings.show_faces else 0.0
    if renderer.needs_auto_clim:
        renderer.update_auto_clim()
    target = FloatTarget(renderer.ctx, (width, height))
    try:
        renderer.composite(target.fbo, view_proj, supersample)
        out = target.read(channels=3)
    finally:
        target.release()
    if supersample > 1:
        out = out.reshape(size[1], supersample, size[0], supersample, 3).mean(axis=(1, 3))
    return to_uint8(out)


def worker_pid() -> int:
    """This process's id (tests use it to kill a worker mid-job)."""
    return os.getpid()
