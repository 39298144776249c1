"""``delvol render FILE -o out.png``: the viewer's pipeline, offscreen through EGL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from delvol.cli.block_options import add_block_arguments, blocked_render_scene, check_block_arguments
from delvol.cli.render_options import (
    add_frame_arguments,
    add_scene_arguments,
    camera_from_args,
    load_scene,
    offscreen_renderer,
)
from delvol.errors import DelvolError
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render a Delaunay volume to a PNG without a display")
    add_scene_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="output PNG")
    add_frame_arguments(p)
    add_block_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.render.offscreen import render_image, save_png

    if Path(args.output).suffix.lower() != ".png":
        raise DelvolError("the output must be a .png file", args.output)
    check_block_arguments(args)
    log = StageLog()
    if args.blocks is not None:
        return _run_blocked(args, log)
    points, tess = load_scene(args, log)
    width, height = args.size
    camera = camera_from_args(args, tess, width / height)
    with offscreen_renderer(args, points, tess, log) as renderer, log.stage("render"):
        image = render_image(renderer, camera, (width, height), args.supersample)
    save_png(image, args.output)
    lo, hi = renderer.window
    print(
        f"wrote {args.output} ({width}x{height}, {len(tess.faces):,} faces, window 10^{lo:.2f}..10^{hi:.2f})",
        file=sys.stderr,
    )
    return 0


def _run_blocked(args: argparse.Namespace, log: StageLog) -> int:
    """Each block rendered on its worker, the float images tree-summed, tone-mapped here."""
    from delvol.blocks.render import render_blocked_image
    from delvol.render.offscreen import save_png

    width, height = args.size
    with blocked_render_scene(args, log) as (scene, renderer):
        camera = camera_from_args(args, scene, width / height)
        with log.stage("render"):
            image = render_blocked_image(scene, renderer, camera, (width, height), args.supersample)
        lo, hi = renderer.window
    save_png(image, args.output)
    print(
        f"wrote {args.output} ({width}x{height}, {len(scene.futures)} blocks, window 10^{lo:.2f}..10^{hi:.2f})",
        file=sys.stderr,
    )
    return 0
