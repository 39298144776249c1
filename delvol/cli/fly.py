"""``delvol fly FILE -o movie.mp4``: render a fly-through offline, one fixed step per frame."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from delvol.cli.common import check_output
from delvol.cli.render_options import add_frame_arguments, add_scene_arguments, scene_from_args
from delvol.errors import DelvolError
from delvol.memory import require_frame_memory
from delvol.progress import StageLog
from delvol.scene.camera import Camera
from delvol.scene.paths import DEFAULT_EASE, PathBase, dolly_path, load_path, orbit_path

MAX_FRAMES = 1_000_000
"""Most frames a fly-through may have; every camera state is computed before the first frame."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fly", help="render a fly-through movie (MP4 or PNG frames) without a display")
    add_scene_arguments(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="movie.mp4 (H.264, yuv420p) or a PNG sequence such as frames/%%05d.png",
    )
    route = p.add_argument_group("camera path (default --orbit)").add_mutually_exclusive_group()
    route.add_argument("--path", metavar="PATH.json", help="keyframes saved by the viewer (K, then Ctrl+S)")
    route.add_argument("--orbit", action="store_true", help="a turntable round the data centre (--elevation sets it)")
    route.add_argument(
        "--dolly",
        type=float,
        nargs=6,
        metavar=("X0", "Y0", "Z0", "X1", "Y1", "Z1"),
        help="a straight run between two points, looking at the data centre",
    )
    p.add_argument("--turns", type=float, default=1.0, help="orbit turns (default 1)")
    p.add_argument(
        "--ease",
        type=float,
        metavar="F",
        help="fraction of the time spent speeding up and slowing down (default: 0.15; 0 for orbits)",
    )
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds (default 20)")
    add_frame_arguments(p)
    p.set_defaults(func=run)


def build_path(args: argparse.Namespace, camera: Camera, aspect: float, elevation: float | None) -> PathBase:
    """The camera path the arguments describe, starting from the fitted ``camera``."""
    try:
        if args.path:
            path = load_path(args.path, base=camera.get_state())
            if args.ease is not None:
                path.ease = args.ease
            return path
        if args.dolly:
            centre = (camera.scene_lower + camera.scene_upper) / 2
            ease = DEFAULT_EASE if args.ease is None else args.ease
            return dolly_path(camera, np.array(args.dolly[:3]), np.array(args.dolly[3:]), centre, aspect, ease)
        return orbit_path(camera, elevation, args.turns, aspect, 0.0 if args.ease is None else args.ease)
    except ValueError as exc:
        if isinstance(exc, DelvolError):
            raise
        raise DelvolError(str(exc), args.path) from exc


def run(args: argparse.Namespace) -> int:
    from delvol.gl.build import scene_frames, sprite_failures
    from delvol.io.movie import movie_format, write_movie

    # A bad output name fails now, not after the render.
    kind = movie_format(args.output)
    for name, value in (("--fps", args.fps), ("--duration", args.duration)):
        if not (np.isfinite(value) and value > 0):
            raise DelvolError(f"{name} must be a positive number, got {value:g}")
    n_frames = round(args.fps * args.duration)
    if n_frames < 1:
        raise DelvolError(f"--fps × --duration gives {n_frames} frames; need at least 1")
    if n_frames > MAX_FRAMES:
        raise DelvolError(f"--fps × --duration gives {n_frames:,} frames; at most {MAX_FRAMES:,} (9 hours at 30 fps)")
    check_output(args.output if kind == "video" else args.output % 0)
    scene = scene_from_args(args)
    require_frame_memory(args.size, args.supersample)
    log = StageLog()
    width, height = args.size
    aspect = width / height
    # With --blocks every frame is drawn block by block on the Dask workers and tree-summed.
    with scene_frames(scene, log, debug=args.debug) as (renderer, fit, _, render_image):
        camera = fit(aspect)
        path = build_path(args, camera, aspect, scene.camera.elevation)

        def frames():
            # The colour limits (the field's too) are set from the first frame and kept, so
            # brightness and hue do not flicker as the view changes.
            for state in path.states(n_frames):
                camera.set_state(state)
                yield render_image(renderer, camera, (width, height), args.supersample)

        with log.stage("render frames"):
            written = write_movie(frames(), args.output, args.fps, n_frames=n_frames, log=StageLog(verbose=None))
        warning = sprite_failures(renderer)
    if warning:
        print(warning, file=sys.stderr)
    seconds = log.timings["render frames"]
    print(
        f"wrote {args.output}: {written} frames of {width}x{height} at {args.fps:g} fps "
        f"({seconds / written * 1000:.0f} ms per frame)",
        file=sys.stderr,
    )
    return 0
