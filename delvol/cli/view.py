"""``delvol view FILE``: the interactive fly-through."""

from __future__ import annotations

import argparse

from delvol.blocks.lod import BYTES_PER_FACE, DEFAULT_FACE_BUDGET
from delvol.cli.common import add_field_arguments
from delvol.cli.render_options import add_scene_arguments, parse_size, scene_from_args
from delvol.progress import StageLog
from delvol.scene.description import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="fly through a Delaunay volume in a window (press H for keys)")
    add_scene_arguments(p)
    p.add_argument("--size", type=parse_size, default=(1280, 720), metavar="WxH", help="window size (default 1280x720)")
    add_field_arguments(p, "also load a per-point field for V to cycle through")
    p.add_argument("--screenshot-dir", default=".", metavar="DIR", help="where P / F12 save PNGs (default .)")
    p.add_argument("--no-vsync", action="store_true", help="do not wait for the display refresh")
    p.add_argument("--path", metavar="PATH.json", help="load camera keyframes (play with L)")
    p.add_argument(
        "--path-out",
        default="delvol-path.json",
        metavar="PATH.json",
        help="where Ctrl+S saves the keyframes (default delvol-path.json)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=20.0,
        help="seconds the path takes to play with L, as in `delvol fly --duration` (default 20)",
    )
    p.add_argument(
        "--face-budget",
        type=positive_int,
        default=DEFAULT_FACE_BUDGET,
        metavar="N",
        help="most faces on the GPU for blocks (a block folder DIR/ or --blocks): past it far blocks draw every "
        f"k-th face, weighted by k (default {DEFAULT_FACE_BUDGET:,}: 1 GiB at {BYTES_PER_FACE} bytes a face)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.app.viewer import Viewer, scene_viewer
    from delvol.app.window import open_window, require_display
    from delvol.app.window import run as run_window
    from delvol.io.galaxy_store import GalaxyStore
    from delvol.scene.paths import load_path

    require_display()  # before minutes of tessellation, not after
    if args.path:
        load_path(args.path)  # a broken path file fails now; it is read again on the fitted camera
    scene = scene_from_args(args)
    log = StageLog()
    points, tess = scene.read_view(args.face_budget, log)

    def make_viewer(ctx) -> Viewer:
        with log.stage("upload"):
            viewer = scene_viewer(
                ctx,
                scene,
                points,
                tess,
                args.size,
                store,
                debug=args.debug,
                face_budget=args.face_budget,
                screenshot_dir=args.screenshot_dir,
                echo=lambda line: print(line, flush=True),
                path_out=args.path_out,
                duration=args.duration,
            )
        if args.path:
            # Keys a keyframe leaves out come from the fitted camera, as in `delvol fly`.
            viewer.set_keyframes(load_path(args.path, base=viewer.camera.get_state()).keyframes)
        print("delvol view: press H for the key map", flush=True)
        return viewer

    store = GalaxyStore(args.file) if scene.sprites.sprites else None
    try:
        window = open_window(args.size, f"delvol - {args.file}", vsync=not args.no_vsync)
        run_window(window, make_viewer)
    finally:
        if store is not None:
            store.close()
    return 0
