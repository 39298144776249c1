"""``delvol render FILE -o out.png``: the viewer's pipeline, offscreen through EGL."""

from __future__ import annotations

import argparse
import sys

from delvol.cli.common import add_input_arguments, load_and_tessellate
from delvol.cli.render_options import (
    add_camera_arguments,
    add_overlays,
    add_render_arguments,
    camera_from_args,
    parse_size,
    settings_from_args,
)
from delvol.cli.sprite_options import add_sprites, check_sprite_input, report_sprite_failures
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render a Delaunay volume to a PNG without a display")
    add_input_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="output PNG")
    p.add_argument("--size", type=parse_size, default=(1920, 1080), metavar="WxH", help="default 1920x1080")
    p.add_argument(
        "--supersample",
        type=int,
        default=1,
        choices=range(1, 9),
        metavar="N",
        help="render N times larger and average down (default 1)",
    )
    add_render_arguments(p)
    add_camera_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.render.context import create_offscreen_context
    from delvol.render.offscreen import render_image, save_png
    from delvol.render.renderer import Renderer

    check_sprite_input(args)
    log = StageLog()
    points, tess = load_and_tessellate(args, log)
    width, height = args.size
    settings = settings_from_args(args, tess)
    camera = camera_from_args(args, tess, width / height)
    ctx = create_offscreen_context()
    renderer = Renderer(ctx, settings, debug=args.debug)
    try:
        with log.stage("upload"):
            renderer.set_tessellation(tess)
            add_overlays(renderer, args)
            add_sprites(renderer, args, points, synchronous=True)
        with log.stage("render"):
            image = render_image(renderer, camera, (width, height), args.supersample)
        report_sprite_failures(renderer)
    finally:
        renderer.release()
        ctx.release()
    save_png(image, args.output)
    lo, hi = renderer.window
    print(
        f"wrote {args.output} ({width}x{height}, {len(tess.faces):,} faces, window 10^{lo:.2f}..10^{hi:.2f})",
        file=sys.stderr,
    )
    return 0
