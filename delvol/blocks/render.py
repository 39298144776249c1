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
from typing import Any, NamedTuple

import numpy as np

from delvol.blocks.assemble import PointArrays, data_bounds
from delvol.blocks.build import BlockResult, build_block, without_simplices
from delvol.blocks.cluster import DaskRunner
from delvol.blocks.job import Job
from delvol.blocks.lod import block_faces
from delvol.blocks.run import PreparedJob, build_info
from delvol.blocks.store import read_block, read_points
from delvol.progress import QUIET, StageLog
from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings

_WORKER: dict[str, Any] = {"ctx": None, "job": None, "renderers": {}}
"""Per worker process: its EGL context and a renderer per block it has drawn."""


class _Framed:
    """Bounds and centre from the input points, for scenes whose tessellation is held elsewhere."""

    positions: np.ndarray
    box_lower: np.ndarray | None
    box_size: float | None

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """As :attr:`Tessellation.bounds`: the periodic box, or the inputs' bounding box."""
        return data_bounds(self.positions, self.box_size, self.box_lower)

    @property
    def centre(self) -> np.ndarray:
        """The point that GL positions are taken relative to: the centre of the bounds."""
        lower, upper = self.bounds
        return (lower + upper) / 2


@dataclass(eq=False)
class BlockedScene(_Framed):
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
    box_size : float or None
        The job's periodic box.
    """

    runner: DaskRunner
    job: Job
    futures: dict[int, Any]
    points: PointArrays
    positions: np.ndarray
    box_lower: np.ndarray | None
    info: dict
    box_size: float | None = None

    @property
    def n_faces(self) -> int:
        return self.info["blocks"]["n_faces"]

    def accumulate(self, view_proj: np.ndarray, size: tuple[int, int], settings: RenderSettings) -> np.ndarray:
        """The accumulation image of every block's faces: per-block renders on the workers, summed as a tree."""
        frame = BlockFrame((self.box_size, self.box_lower), self.centre, view_proj, size, settings)
        parts = [
            self.runner.submit(accumulate_block, f, self.job.folder, frame, name=f"render-{b:05d}")
            for b, f in self.futures.items()
        ]
        return tree_sum(self.runner, parts)


@dataclass(eq=False)
class FolderScene(_Framed):
    """A block folder (:mod:`delvol.blocks.store`) drawn block by block, for folders too large to assemble.

    Each frame reads every block file again and draws it: on the Dask workers of
    ``runner`` (the folder must be on a filesystem they share), tree-summed, or with no
    runner one block after another in this process. No process holds more than one
    block's faces, so any folder that could be written can be drawn.

    Attributes
    ----------
    folder : str
    entries : list of dict
        The index's block entries.
    positions : ndarray, shape (N, 3)
        The input points (wrapped into the box when periodic), to frame the view.
    box_lower : ndarray or None
    box_size : float or None
    runner : DaskRunner or None
    ctx : moderngl.Context or None
        Where to draw without a runner: the client's context (one process, one context).
    """

    folder: str
    entries: list[dict]
    positions: np.ndarray
    box_lower: np.ndarray | None
    box_size: float | None
    runner: DaskRunner | None = None
    ctx: Any = None

    @property
    def n_faces(self) -> int:
        return sum(entry["n_faces"] for entry in self.entries)

    def accumulate(self, view_proj: np.ndarray, size: tuple[int, int], settings: RenderSettings) -> np.ndarray:
        """The accumulation image of every block's faces, summed block by block."""
        frame = BlockFrame((self.box_size, self.box_lower), self.centre, view_proj, size, settings)
        n = len(self.positions)
        if self.runner is not None:
            submit = self.runner.submit
            parts = [
                submit(accumulate_folder_block, entry, self.folder, n, frame, name=f"render-{entry['block']:05d}")
                for entry in self.entries
            ]
            return tree_sum(self.runner, parts)
        summed = None
        for entry in self.entries:
            image = accumulate_folder_block(entry, self.folder, n, frame, ctx=self.ctx)
            summed = image if summed is None else summed + image
        assert summed is not None, "a block folder has blocks"
        return summed


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
    yield BlockedScene(runner, job, futures, per_point, pts, lower, build_info(job, results), job.layout.box_size)


class BlockFrame(NamedTuple):
    """What a worker needs to draw a block's share of a frame."""

    box: tuple[float | None, np.ndarray | None]
    """The periodic box size and lower corner, or Nones."""
    centre: np.ndarray
    """The whole data's centre, which GL positions are taken relative to."""
    view_proj: np.ndarray
    size: tuple[int, int]
    settings: RenderSettings


def accumulate_block(result: BlockResult, folder: str, frame: BlockFrame) -> np.ndarray:
    """One block's accumulation image (float32, (height, width, 4), first row at the top).

    Runs on a worker; the EGL context and the block's uploaded faces are kept for the next
    frame of the same job.
    """
    from delvol.gl.renderer import Renderer

    ctx = _worker_context()
    if _WORKER["job"] != folder:
        for renderer in _WORKER["renderers"].values():
            renderer.release()
        _WORKER["job"], _WORKER["renderers"] = folder, {}
    renderer = _WORKER["renderers"].get(result.block)
    if renderer is None:
        renderer = Renderer(ctx)
        density, hull = (np.load(Path(folder) / name, mmap_mode="r") for name in ("density.npy", "hull.npy"))
        renderer.set_faces(block_faces(result, density, hull, *frame.box, tetrahedra=True), frame.centre)
        _WORKER["renderers"][result.block] = renderer
    return _accumulation(renderer, frame)


def accumulate_folder_block(
    entry: dict[str, Any], folder: str, n_points: int, frame: BlockFrame, ctx: Any = None
) -> np.ndarray:
    """One block file's accumulation image (as :func:`accumulate_block`); its faces are released afterwards.

    ``entry`` is the block's entry in the folder's index of ``n_points`` points. Drawn in
    ``ctx``, or in the worker's own context.
    """
    from delvol.gl.renderer import Renderer

    # Memory-mapped: only the block's vertices are read. The index was checked when the folder was opened.
    density, hull = read_points(folder, n_points, ("density", "hull")).values()
    renderer = Renderer(ctx or _worker_context())
    try:
        faces = block_faces(
            read_block(folder, entry, n_points, frame.box[0]), density, hull, *frame.box, tetrahedra=True
        )
        renderer.set_faces(faces, frame.centre)
        return _accumulation(renderer, frame)
    finally:
        renderer.release()


def _worker_context() -> Any:
    """This process's EGL context for block renders, made on first use."""
    from delvol.gl.context import create_offscreen_context

    if _WORKER["ctx"] is None:
        _WORKER["ctx"] = create_offscreen_context()
    return _WORKER["ctx"]


def _accumulation(renderer: Any, frame: BlockFrame) -> np.ndarray:
    renderer.settings = frame.settings
    renderer.resize(frame.size)
    renderer.clear()
    renderer.accumulate(frame.view_proj)
    return renderer.accum.read(channels=4).copy()


def tree_sum(runner: DaskRunner, parts: list[Any]) -> np.ndarray:
    """The sum of futures of images, added in pairs on the workers: log2(B) rounds, one image fetched."""
    while len(parts) > 1:
        pairs = [runner.submit(operator.add, a, b, name="sum") for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
    return parts[0].result()


def render_blocked_image(
    scene: BlockedScene | FolderScene, renderer, camera: Camera, size: tuple[int, int], supersample: int = 1
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
    summed = scene.accumulate(view_proj, (width, height), renderer.settings)
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
