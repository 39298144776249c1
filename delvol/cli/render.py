"""``delvol render FILE -o out.png``: the viewer's pipeline, offscreen through EGL."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from delvol.cli.common import check_output
from delvol.cli.render_options import add_frame_arguments, add_scene_arguments, scene_from_args
from delvol.errors import DelvolError
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render a Delaunay volume to a PNG without a display")
    add_scene_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT.png", help="output PNG")
    add_frame_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.gl.build import render_scene
    from delvol.gl.offscreen import save_png

    if Path(args.output).suffix.lower() != ".png":
        raise DelvolError("the output must be a .png file", args.output)
    check_output(args.output)
    scene = scene_from_args(args)
    picture = render_scene(scene, args.size, args.supersample, StageLog(), debug=args.debug)
    if picture.warning:
        print(picture.warning, file=sys.stderr)
    save_png(picture.image, args.output)
    (width, height), (lo, hi) = args.size, picture.clim
    print(
        f"wrote {args.output} ({width}x{height}, {picture.n_faces:,} faces, colour limits 10^{lo:.2f}..10^{hi:.2f})",
        file=sys.stderr,
    )
    return 0
