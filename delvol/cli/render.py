"""``delvol render FILE -o out.png``: the viewer's pipeline, offscreen through EGL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from delvol.cli.common import check_output
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.render.offscreen import render_image, save_png

    if Path(args.output).suffix.lower() != ".png":
        raise DelvolError("the output must be a .png file", args.output)
    check_output(args.output)
    log = StageLog()
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
