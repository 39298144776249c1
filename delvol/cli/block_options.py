"""``--blocks``, ``--workers`` and ``--scheduler``: blocked builds on Dask, for any command."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from delvol.errors import DelvolError
from delvol.progress import StageLog


def block_count(text: str) -> int | str:
    """Parse ``--blocks``: a positive integer or ``auto``."""
    if text == "auto":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of blocks or auto, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"the number of blocks must be at least 1, got {value}")
    return value


def worker_count(text: str) -> int:
    """Parse ``--workers``: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of workers, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"need at least one worker, got {value}")
    return value


def add_block_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that run a command's tessellation as blocks on Dask."""
    group = parser.add_argument_group('blocks on Dask (pip install "delvol[dask]")')
    group.add_argument(
        "--blocks",
        type=block_count,
        metavar="N|auto",
        help="split the points into N blocks with certified ghost shells, built by Dask workers; the result "
        "equals a single run (auto: from the point count and the workers' memory)",
    )
    group.add_argument(
        "--workers",
        type=worker_count,
        metavar="N",
        help="worker processes of the local Dask cluster, one thread each (default: one per core)",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="use the running Dask cluster at ADDRESS, for example tcp://host:8786 (the job folder "
        "must then be on a filesystem every worker sees: set DELVOL_WORK_DIR)",
    )


def check_block_arguments(args: argparse.Namespace) -> None:
    """One-line errors for options that need ``--blocks`` or exclude each other."""
    if args.blocks is None:
        for name in ("workers", "scheduler"):
            if getattr(args, name) is not None:
                raise DelvolError(f"--{name} needs --blocks")
    if args.workers is not None and args.scheduler is not None:
        raise DelvolError("--workers starts a local cluster; it cannot be combined with --scheduler")


def blocked(args: argparse.Namespace) -> bool:
    return getattr(args, "blocks", None) is not None


@contextmanager
def block_runner(args: argparse.Namespace, log: StageLog) -> Iterator:
    """The Dask runner that ``--workers`` or ``--scheduler`` ask for (its dashboard printed)."""
    from delvol.blocks.cluster import dask_runner

    with dask_runner(args.workers, args.scheduler, verbose=log.verbose) as runner:
        yield runner


def n_blocks(args: argparse.Namespace, n_points: int, runner) -> int:
    """The block count: ``--blocks N``, or for ``auto`` one from the points and the workers' memory."""
    if args.blocks != "auto":
        return int(args.blocks)
    from delvol.blocks.run import auto_blocks

    memory = runner.client.run(_available_memory)
    per_worker = min(memory.values()) if memory else 2e9
    return auto_blocks(n_points, runner.n_workers, per_worker)


def _available_memory() -> float:
    import psutil

    return psutil.virtual_memory().available / max(1, len(os.sched_getaffinity(0)))


@contextmanager
def blocked_render_scene(args: argparse.Namespace, log: StageLog) -> Iterator[tuple]:
    """Build FILE in blocks on Dask and yield the scene and a client-side renderer.

    Frames come from :func:`delvol.blocks.render.render_blocked_image`: each worker draws
    its blocks' faces, the images are tree-summed, and this renderer tone-maps the sum and
    draws the overlays. Any command that renders frames (render, fly, project) needs only
    this and that function.
    """
    from delvol.blocks.render import blocked_scene
    from delvol.cli.common import input_errors, load_options, periodic_size
    from delvol.cli.render_options import add_overlays, settings_from_args
    from delvol.io import load_points
    from delvol.render.context import create_offscreen_context
    from delvol.render.renderer import Renderer

    for flag, used in (
        ("--points", args.points),
        ("--sprites", getattr(args, "sprites", False)),
        (f"--weighting {args.weighting}", args.weighting != "sum"),
    ):
        if used:
            raise DelvolError(f"{flag} is not available with --blocks (it needs every point or face at once)")
    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    with block_runner(args, log) as runner, input_errors(args):
        with blocked_scene(
            runner,
            points.positions,
            points.masses,
            n_blocks(args, len(points), runner),
            periodic=periodic_size(args, points),
            padding=args.padding,
            log=log,
        ) as scene:
            ctx = create_offscreen_context()
            renderer = Renderer(ctx, settings_from_args(args, scene), debug=args.debug)
            try:
                renderer.origin = scene.origin
                add_overlays(renderer, args)
                yield scene, renderer
            finally:
                renderer.release()
                ctx.release()
