"""``delvol view FILE``: the interactive fly-through."""

from __future__ import annotations

import argparse

from delvol.cli.common import add_field_arguments
from delvol.cli.render_options import add_scene_arguments, build_renderer, camera_from_args, load_scene, parse_size
from delvol.progress import StageLog


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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.app.picking import GalaxyPicker
    from delvol.app.viewer import Viewer
    from delvol.app.window import open_window, require_display
    from delvol.app.window import run as run_window
    from delvol.geometry.fields import FieldCache
    from delvol.io.store import GalaxyStore
    from delvol.render.paths import load_path

    require_display()  # before minutes of tessellation, not after
    if args.path:
        load_path(args.path)  # a broken path file fails now; it is read again on the fitted camera
    log = StageLog()
    points, tess = load_scene(args, log)
    width, height = args.size

    def reset(camera) -> None:
        fitted = camera_from_args(args, tess, width / height)
        fitted.mode = camera.mode
        camera.set_state(fitted.get_state())

    fields = FieldCache(tess, points.fields, points.metadata)

    def make_viewer(ctx) -> Viewer:
        with log.stage("upload"):
            renderer = build_renderer(ctx, args, points, tess, synchronous=False, fields=fields)
        camera = camera_from_args(args, tess, width / height)
        viewer = Viewer(
            renderer,
            camera,
            tess.n_primary,
            args.screenshot_dir,
            reset=reset,
            echo=lambda line: print(line, flush=True),
            path_out=args.path_out,
            duration=args.duration,
            picker=GalaxyPicker(store, points.metadata["units"]) if store is not None else None,
            fields=fields,
            field=args.color_by,
        )
        if args.path:
            # Keys a keyframe leaves out come from the fitted camera, as in `delvol fly`.
            viewer.set_keyframes(load_path(args.path, base=camera.get_state()).keyframes)
        print("delvol view: press H for the key map", flush=True)
        return viewer

    store = GalaxyStore(args.file) if args.sprites else None
    try:
        window = open_window((width, height), f"delvol - {args.file}", vsync=not args.no_vsync)
        run_window(window, make_viewer)
    finally:
        if store is not None:
            store.close()
    return 0
