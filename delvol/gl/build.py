"""A renderer set up for a :class:`~delvol.scene.description.Scene`, and offscreen pictures of it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, NamedTuple

import moderngl
import numpy as np

from delvol.blocks.lod import DEFAULT_FACE_BUDGET, BlockFaces
from delvol.errors import DelvolError
from delvol.geometry import Tessellation
from delvol.geometry.fields import FieldCache
from delvol.gl.offscreen import render_image
from delvol.gl.renderer import Renderer
from delvol.io import PointSet
from delvol.io.galaxy_store import GalaxyStore
from delvol.memory import require_frame_memory
from delvol.progress import QUIET, StageLog
from delvol.scene.camera import Camera
from delvol.scene.description import Scene

if TYPE_CHECKING:
    from delvol.blocks.render import BlockedScene, FolderScene


def build_renderer(
    ctx: moderngl.Context,
    scene: Scene,
    points: PointSet,
    tess: Tessellation,
    *,
    synchronous: bool,
    debug: bool = False,
    fields: FieldCache | None = None,
) -> Renderer:
    """A renderer with the tessellation, the field, the overlays and the sprites the scene asks for.

    The renderer gets its own copy of the look (the viewer changes it).
    ``synchronous`` sprites wait for every thumbnail (offscreen frames must not depend on
    timing); otherwise they load in the background. ``fields`` keeps the per-vertex field
    values for a caller that switches fields later (the viewer).
    """
    renderer = Renderer(ctx, replace(scene.look), debug=debug)
    try:
        renderer.set_tessellation(tess, scene.camera.hidden(tess, points))
        spec = scene.look.color_by
        if spec is not None:
            cache = fields or FieldCache(tess, points.fields, points.metadata)
            try:
                renderer.set_field(cache.vertex_values(spec), cache.label(spec))
            except ValueError as exc:
                raise DelvolError(f"--color-by {spec}: {exc}", scene.path) from exc
        meshes = scene.overlays.meshes(points.metadata)
        for mesh in meshes:
            renderer.add_overlay(mesh.vertices, mesh.triangles, mesh.lines, style=scene.overlays.obj_style)
        for note in scene.overlays.size_notes(meshes, tess):
            print(note, file=sys.stderr)
        if scene.sprites.sprites and scene.path is not None:
            with GalaxyStore(scene.path) as store:
                galaxies = scene.sprites.galaxies(points, store)
            loader = scene.sprites.loader(scene.path)
            try:
                renderer.set_sprites(galaxies, loader, scene.sprites.sprite_count, synchronous)
            except ValueError as exc:
                loader.close()
                raise DelvolError(f"--sprite-count {scene.sprites.sprite_count}: {exc}") from exc
    except BaseException:
        renderer.release()
        raise
    return renderer


def sprite_failures(renderer: Renderer) -> str | None:
    """One line saying which thumbnails could not be shown (drawn as placeholders), or None."""
    if renderer.sprites is None or not renderer.sprites.loader.failures:
        return None
    failures = renderer.sprites.loader.failures
    objid, reason = next(iter(failures.items()))
    count = "1 thumbnail" if len(failures) == 1 else f"{len(failures):,} thumbnails"
    return f"sprites: {count} drawn as placeholders (galaxy {objid!r}: {reason})"


@contextmanager
def offscreen_renderer(
    scene: Scene, points: PointSet, tess: Tessellation, log: StageLog = QUIET, debug: bool = False
) -> Iterator[Renderer]:
    """An EGL context with a :func:`build_renderer` renderer, both released afterwards."""
    from delvol.gl.context import create_offscreen_context

    ctx = create_offscreen_context()
    try:
        with log.stage("upload"):
            renderer = build_renderer(ctx, scene, points, tess, synchronous=True, debug=debug)
        try:
            yield renderer
        finally:
            renderer.release()
    finally:
        ctx.release()


class Picture(NamedTuple):
    """An offscreen render and what was drawn."""

    image: np.ndarray
    """(height, width, 3) uint8, first row at the top."""
    clim: tuple[float, float]
    """The colour limits used (log10)."""
    n_faces: int
    warning: str | None
    """:func:`sprite_failures`' line, if any."""


class Frames(NamedTuple):
    """A renderer ready for offscreen frames of a scene, and how to draw one."""

    renderer: Renderer
    fit: Callable[[float], Camera]
    """``fit(aspect)``: the scene's camera framing the data in a view of width/height ``aspect``."""
    n_faces: int
    render: Callable[[Renderer, Camera, tuple[int, int], int], np.ndarray]
    """``render(renderer, camera, size, supersample)``: a (height, width, 3) uint8 frame."""


@contextmanager
def scene_frames(
    scene: Scene,
    log: StageLog = QUIET,
    debug: bool = False,
    data: tuple[PointSet, Tessellation] | None = None,
) -> Iterator[Frames]:
    """Read and tessellate a scene and set up its offscreen frames, released afterwards.

    With ``scene.tessellation.blocks`` the blocks are built on Dask workers and stay
    there: each frame is drawn block by block on the workers (EGL) and the float images
    are tree-summed (:mod:`delvol.blocks.render`), which additive blending makes equal to
    a single render up to float rounding. ``data`` passes points and a tessellation
    already read from the scene.
    """
    if data is None and scene.tessellation.blocks is not None:
        with _blocked_frames(scene, log, debug) as frames:
            yield frames
        return
    if data is None and scene.block_folder is not None and not _assembles(scene):
        with _folder_frames(scene, log, debug) as frames:
            yield frames
        return
    points, tess = data if data is not None else scene.read(log)
    with offscreen_renderer(scene, points, tess, log, debug) as renderer:
        yield Frames(renderer, lambda aspect: scene.camera.fit(tess, aspect, points), len(tess.faces), render_image)


BLOCKED_LIMITS = (
    ("sprites", lambda s: s.sprites.sprites),
    ("points", lambda s: s.look.show_points),
    ("color_by", lambda s: s.look.color_by is not None),
    ("weighting", lambda s: s.look.weighting != "sum"),
    ("iso_levels", lambda s: bool(s.look.iso_levels)),
)
"""What a blocked render cannot draw: each needs every point, face or tetrahedron at once."""


def check_blocked(scene: Scene, summed: bool = True) -> None:
    """Refuse what blocks cannot draw (:data:`BLOCKED_LIMITS`), before anything is built.

    Images of blocks drawn apart and ``summed`` also give the ``integral`` mode, which adds
    each tetrahedron's line integral (every tetrahedron is in one block); ``opacity`` sorts
    every tetrahedron at once, and the viewer's level of detail draws faces only.
    """
    limits = [*BLOCKED_LIMITS, ("mode", lambda s: s.look.mode not in (("faces", "integral") if summed else ("faces",)))]
    for name, used in limits:
        if used(scene):
            raise DelvolError(f"{name} is not available with blocks (it needs every point or face at once)")


def blocked_view(scene: Scene, points: PointSet, summed: bool = True) -> str | None:
    """The scene's view of blocked data (:meth:`CameraOptions.view_for`), refusing what blocks cannot draw."""
    check_blocked(scene, summed)
    view = scene.camera.view_for(points)
    if view == "wedge":
        # The wedge hides the faces outside its slice, which the blocks' faces do not know.
        raise DelvolError("--view wedge is not available with blocks; give another --view")
    return view


def blocks_renderer(
    ctx: moderngl.Context, scene: Scene, points: PointSet, blocks: BlockFaces, budget: int, debug: bool = False
) -> tuple[Renderer, Callable[[float], Camera]]:
    """A renderer drawing every block's faces with level of detail (:meth:`Renderer.set_blocks`), and its camera fit.

    ``fit(aspect)`` frames the input points as :func:`scene_frames` does for blocks.
    """
    from functools import partial

    view = blocked_view(scene, points, summed=False)
    try:
        blocks.strides(blocks.lower.mean(axis=0), budget)  # a budget too small for any view fails now
    except ValueError as exc:
        raise DelvolError(f"--face-budget: {exc}", scene.path) from None
    renderer = Renderer(ctx, replace(scene.look), debug=debug)
    try:
        renderer.set_blocks(blocks, budget)
        for mesh in scene.overlays.meshes(points.metadata):
            renderer.add_overlay(mesh.vertices, mesh.triangles, mesh.lines, style=scene.overlays.obj_style)
    except BaseException:
        renderer.release()
        raise
    return renderer, partial(scene.camera.fit_box, *blocks.bounds, data=blocks.positions, view=view)


def _assembles(scene: Scene) -> bool:
    """Whether a block folder is drawn assembled (every mode and layer) rather than block by block.

    It is when its faces fit the viewer's default budget and its assembly fits in memory,
    unless Dask workers are asked for (they draw the blocks).
    """
    options = scene.tessellation
    return options.workers is None and options.scheduler is None and scene.folder_assembles(DEFAULT_FACE_BUDGET)


@contextmanager
def _blocked_frames(scene: Scene, log: StageLog, debug: bool) -> Iterator[Frames]:
    """:func:`scene_frames` for blocks built on Dask and kept on the workers."""
    check_blocked(scene)
    with scene.built_blocks(log) as (points, blocked), _summed_frames(scene, points, blocked, debug) as frames:
        yield frames


@contextmanager
def _folder_frames(scene: Scene, log: StageLog, debug: bool) -> Iterator[Frames]:
    """:func:`scene_frames` for a block folder drawn block by block, on Dask workers when asked for."""
    from contextlib import nullcontext

    from delvol.blocks.cluster import dask_runner
    from delvol.blocks.render import FolderScene
    from delvol.blocks.store import box_lower_of, read_index

    check_blocked(scene)
    folder = scene.block_folder
    assert folder is not None, "a block folder"
    points = scene.read_points(log)
    index = read_index(folder)
    options = scene.tessellation
    use_dask = options.workers is not None or options.scheduler is not None
    runners = dask_runner(options.workers, options.scheduler, verbose=log.verbose) if use_dask else nullcontext()
    with runners as runner:
        box = (box_lower_of(index), index["box_size"])
        held = FolderScene(str(folder), index["blocks"], points.positions, *box, runner)
        with _summed_frames(scene, points, held, debug) as frames:
            yield frames


@contextmanager
def _summed_frames(scene: Scene, points: PointSet, held: BlockedScene | FolderScene, debug: bool) -> Iterator[Frames]:
    """Frames of blocks drawn elsewhere: a client-side renderer that tone-maps their summed images."""
    from functools import partial

    from delvol.blocks.render import FolderScene, render_blocked_image
    from delvol.gl.context import create_offscreen_context

    view = blocked_view(scene, points)
    ctx = create_offscreen_context()
    try:
        if isinstance(held, FolderScene):
            held.ctx = ctx  # without workers the blocks are drawn here
        renderer = Renderer(ctx, replace(scene.look), debug=debug)
        try:
            renderer.centre = held.centre
            renderer.settings.fit_cut(*held.bounds)
            for mesh in scene.overlays.meshes():
                renderer.add_overlay(mesh.vertices, mesh.triangles, mesh.lines, style=scene.overlays.obj_style)
            # The tessellation is drawn elsewhere; the input points frame the view.
            fit = partial(scene.camera.fit_box, *held.bounds, data=held.positions, view=view)
            yield Frames(renderer, fit, held.n_faces, partial(render_blocked_image, held))
        finally:
            renderer.release()
    finally:
        ctx.release()


def render_scene(
    scene: Scene,
    size: tuple[int, int],
    supersample: int = 1,
    log: StageLog = QUIET,
    debug: bool = False,
    data: tuple[PointSet, Tessellation] | None = None,
) -> Picture:
    """Read, tessellate and render a scene offscreen: what ``delvol render`` writes.

    ``data`` passes points and a tessellation already read from the scene; with
    ``scene.tessellation.blocks`` the frame is drawn block by block (:func:`scene_frames`).
    """
    width, height = size
    scene.check()
    require_frame_memory(size, supersample)
    with scene_frames(scene, log, debug, data) as frames:
        camera = frames.fit(width / height)
        with log.stage("render"):
            image = frames.render(frames.renderer, camera, (width, height), supersample)
        return Picture(image, frames.renderer.clim, frames.n_faces, sprite_failures(frames.renderer))
