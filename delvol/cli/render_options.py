"""Options shared by ``delvol render``, ``view`` and ``fly``: the look, the camera, overlays."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import moderngl
import numpy as np

from delvol.cli.common import add_input_arguments, load_and_tessellate
from delvol.cli.sprite_options import add_sprite_arguments, add_sprites, check_sprite_input, report_sprite_failures
from delvol.errors import DelvolError
from delvol.geometry import Tessellation
from delvol.io import PointSet
from delvol.io.obj import load_obj
from delvol.io.placement import LENGTHS, parse_rotation, size_note, unit_factor
from delvol.io.sky import DEFAULT_COSMOLOGY, get_cosmology
from delvol.progress import StageLog
from delvol.render.camera import AXIS_VIEWS, Camera
from delvol.render.colormaps import COLORMAPS
from delvol.render.renderer import Renderer
from delvol.render.settings import CUT_MODES, STRETCHES, WEIGHTINGS, RenderSettings
from delvol.render.sky_views import (
    DEFAULT_WEDGE_WIDTH,
    SKY_VIEWS,
    declinations,
    observer_camera,
    wedge_camera,
    wedge_selection,
)


def parse_size(text: str) -> tuple[int, int]:
    """``"1920x1080"`` -> (1920, 1080)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1920x1080, got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return w, h


def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    """The look of the volume and its layers, overlays and galaxy sprites included."""
    look = parser.add_argument_group("look")
    look.add_argument("--stretch", choices=STRETCHES, default="log", help="density stretch (default log)")
    look.add_argument("--colormap", choices=COLORMAPS, default="magma", help="colormap (default magma)")
    look.add_argument("--exposure", type=float, default=0.0, help="brightness in stops (default 0)")
    look.add_argument(
        "--window",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        help="density window as log10 of the accumulated value (default: from percentiles)",
    )
    look.add_argument(
        "--percentiles",
        type=float,
        nargs=2,
        metavar=("LO", "HI"),
        default=(2.0, 99.8),
        help="percentiles of the non-empty pixels that set the automatic window (default 2 99.8)",
    )
    look.add_argument("--gamma", type=float, default=1.0, help="gamma after the stretch (default 1)")
    look.add_argument(
        "--weighting",
        choices=WEIGHTINGS,
        default="sum",
        help="per-face weight: sum (default), length (sqrt of area) or area",
    )
    look.add_argument("--show-hull", action="store_true", help="draw faces that touch the convex hull too")
    look.add_argument("--no-faces", action="store_true", help="hide the Delaunay faces")
    look.add_argument("--points", action="store_true", help="show the densest vertices as sprites")
    look.add_argument(
        "--point-percentile",
        type=float,
        default=99.0,
        help="sprites for vertices above this density percentile (default 99)",
    )
    look.add_argument("--point-size", type=float, default=3.0, help="sprite size in pixels (default 3)")
    cut = parser.add_argument_group("cut plane")
    cut.add_argument(
        "--cut",
        choices=CUT_MODES,
        default="off",
        help="discard what lies in front of a plane (half) or outside a slab around it",
    )
    cut.add_argument("--cut-normal", type=float, nargs=3, default=(0.0, 0.0, 1.0), metavar=("X", "Y", "Z"))
    cut.add_argument("--cut-offset", type=float, help="plane position along the normal (default: data centre)")
    cut.add_argument("--cut-width", type=float, help="slab thickness (default: a tenth of the data size)")
    obj = parser.add_argument_group("overlays")
    obj.add_argument("--obj", action="append", default=[], metavar="FILE", help="draw a Wavefront .obj (repeatable)")
    obj.add_argument("--obj-scale", type=float, default=1.0, help="multiply overlay coordinates (unit change)")
    obj.add_argument(
        "--obj-offset",
        type=float,
        nargs=3,
        default=(0.0, 0.0, 0.0),
        metavar=("X", "Y", "Z"),
        help="then add this offset",
    )
    obj.add_argument(
        "--obj-rotate",
        type=rotation_argument,
        metavar="RX,RY,RZ|AX,AY,AZ@DEG",
        help="rotate overlays first: Euler angles in degrees about the fixed x, then y, then z axes "
        "(90,0,0 stands a y-up model upright), or an axis and an angle",
    )
    obj.add_argument(
        "--obj-units",
        choices=tuple(LENGTHS),
        help="the overlays' length unit, converted to the data's with the cosmology's h (then --obj-scale)",
    )
    obj.add_argument("--obj-style", choices=("wire", "surface"), default="wire", help="overlay style (default wire)")
    add_sprite_arguments(parser)


def add_camera_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the camera is."""
    cam = parser.add_argument_group("camera")
    cam.add_argument("--camera", metavar="STATE.json", help="camera state saved by the viewer")
    cam.add_argument("--azimuth", type=float, default=30.0, help="degrees about the up axis (default 30)")
    cam.add_argument(
        "--elevation", type=float, help="degrees above the horizontal (default 20; fly --orbit: the camera's)"
    )
    cam.add_argument("--distance", type=float, help="from the data centre (default: fit the data)")
    cam.add_argument(
        "--view",
        choices=(*AXIS_VIEWS, *SKY_VIEWS),
        help="look along an axis from this side; wedge: a declination slice face-on, observer at the apex; "
        "observer: from the origin towards the footprint (default for sky catalogues: wedge)",
    )
    cam.add_argument("--wedge-dec", type=float, metavar="DEG", help="centre of the wedge's slice (default: median Dec)")
    cam.add_argument(
        "--wedge-width",
        type=float,
        default=DEFAULT_WEDGE_WIDTH,
        metavar="DEG",
        help=f"declination range of the wedge (default {DEFAULT_WEDGE_WIDTH:g})",
    )
    cam.add_argument("--zoom", type=float, default=1.0, help="magnify the fitted view by this factor (default 1)")
    cam.add_argument("--ortho", action="store_true", help="orthographic projection")
    cam.add_argument("--fov", type=float, default=45.0, help="vertical field of view in degrees (default 45)")
    cam.add_argument(
        "--up",
        type=float,
        nargs=3,
        default=(0.0, 0.0, 1.0),
        metavar=("X", "Y", "Z"),
        help="world up direction (default +z)",
    )


def settings_from_args(args: argparse.Namespace, tess: Tessellation) -> RenderSettings:
    """RenderSettings from the look and cut options."""
    return _settings(args, *tess.bounds)


def _settings(args: argparse.Namespace, lower: np.ndarray, upper: np.ndarray) -> RenderSettings:
    normal = np.asarray(args.cut_normal, dtype=np.float64)
    if not np.linalg.norm(normal) > 0:
        raise DelvolError("--cut-normal must not be the zero vector")
    normal /= np.linalg.norm(normal)
    offset = args.cut_offset if args.cut_offset is not None else float(normal @ (lower + upper) / 2)
    width = args.cut_width if args.cut_width is not None else 0.1 * float(np.linalg.norm(upper - lower))
    try:
        return RenderSettings(
            stretch=args.stretch,
            exposure=args.exposure,
            window=tuple(args.window) if args.window else None,
            percentiles=tuple(args.percentiles),
            gamma=args.gamma,
            colormap=args.colormap,
            weighting=args.weighting,
            hide_hull=not args.show_hull,
            show_faces=not args.no_faces,
            show_points=args.points,
            point_percentile=args.point_percentile,
            point_size=args.point_size,
            cut_mode=args.cut,
            cut_normal=normal,
            cut_offset=offset,
            cut_width=width,
        )
    except ValueError as exc:
        raise DelvolError(str(exc)) from exc


DEFAULT_ELEVATION = 20.0


def camera_from_args(args: argparse.Namespace, tess: Tessellation, aspect: float) -> Camera:
    """A camera that frames the data, or the one stored in ``--camera``."""
    return _camera(args, *tess.bounds, aspect, tess.points[: tess.n_primary])


def resolve_view(args: argparse.Namespace, points: PointSet) -> None:
    """Give a sky catalogue the wedge view unless the camera was chosen; check sky views."""
    sky = points.metadata.get("frame") == "equatorial comoving"
    chosen = args.view is not None or args.camera or args.distance is not None or args.elevation is not None
    if sky and not chosen:
        args.view = "wedge"
    if args.view in SKY_VIEWS and not sky:
        raise DelvolError(f"--view {args.view} needs a sky catalogue (RA, Dec, redshift)", args.file)


def hidden_vertices(args: argparse.Namespace, tess: Tessellation) -> np.ndarray | None:
    """Vertices whose faces the view leaves out: those outside the wedge's slice."""
    if args.view != "wedge":
        return None
    primary = tess.points[: tess.n_primary]
    centre = float(np.median(declinations(primary))) if args.wedge_dec is None else args.wedge_dec
    return ~wedge_selection(tess.points, centre, args.wedge_width)


def _camera(
    args: argparse.Namespace, lower: np.ndarray, upper: np.ndarray, aspect: float, points: np.ndarray | None = None
) -> Camera:
    cam = Camera(projection="orthographic" if args.ortho else "perspective")
    try:
        cam.set_state({"fov_y": args.fov, "up": args.up})
    except ValueError as exc:
        raise DelvolError(str(exc).replace("camera fov_y", "--fov").replace("camera up", "--up")) from None
    if not (np.isfinite(args.zoom) and args.zoom > 0):
        raise DelvolError(f"--zoom must be a positive number, got {args.zoom:g}")
    if args.distance is not None and not (np.isfinite(args.distance) and args.distance > 0):
        raise DelvolError(f"--distance must be a positive number, got {args.distance:g}")
    elevation = DEFAULT_ELEVATION if args.elevation is None else args.elevation
    if args.view == "wedge" and points is not None:
        try:
            inside = wedge_selection(points, args.wedge_dec, args.wedge_width)
        except ValueError as exc:
            raise DelvolError(f"--view wedge: {exc}") from None
        wedge_camera(cam, points[inside], lower, upper, aspect)
    elif args.view == "observer" and points is not None:
        observer_camera(cam, points, lower, upper, aspect)
    else:
        axis_view = args.view if args.view in AXIS_VIEWS else None
        cam.fit(lower, upper, aspect, args.azimuth, elevation, args.distance, axis_view, points)
    focus = cam.focus
    cam.ortho_height /= args.zoom
    if args.view != "observer":
        cam.focus_distance /= args.zoom
        cam.position = focus - cam.focus_distance * cam.forward
    else:
        cam.fov_y = float(np.degrees(2 * np.arctan(np.tan(np.radians(cam.fov_y) / 2) / args.zoom)))
    if args.camera:
        cam.set_state(read_camera_state(args.camera))
    return cam


def read_camera_state(path: str) -> dict:
    """A camera state JSON file, with one-line errors."""
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
        Camera().set_state(state)
    except OSError as exc:
        raise DelvolError(exc.strerror or str(exc), path) from exc
    except (ValueError, TypeError, AttributeError) as exc:
        raise DelvolError(f"not a camera state ({exc})", path) from exc
    return state


def rotation_argument(text: str) -> np.ndarray:
    """Parse ``--obj-rotate``."""
    try:
        return parse_rotation(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_overlays(renderer: Renderer, args: argparse.Namespace, points: PointSet, tess: Tessellation) -> None:
    """Load every ``--obj`` file onto the renderer; note overlays far off the data's size."""
    if not args.obj:
        return
    scale = args.obj_scale
    if args.obj_units is not None:
        cosmology = get_cosmology(points.metadata.get("cosmology") or DEFAULT_COSMOLOGY)
        h = float(points.metadata.get("h", cosmology.h))
        scale *= unit_factor(args.obj_units, points.metadata.get("units"), h)
    lower, upper = tess.bounds
    for path in args.obj:
        mesh = load_obj(path, scale, args.obj_offset, args.obj_rotate)
        renderer.add_overlay(mesh.vertices, mesh.triangles, mesh.lines, style=args.obj_style)
        extent = float(np.linalg.norm(np.ptp(mesh.vertices, axis=0)))
        note = size_note(Path(path).name, extent, float(np.linalg.norm(upper - lower)))
        if note:
            print(note, file=sys.stderr)


def add_scene_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE and everything about what is drawn and from where: reading, look, camera."""
    add_input_arguments(parser)
    add_render_arguments(parser)
    add_camera_arguments(parser)


def add_frame_arguments(parser: argparse.ArgumentParser) -> None:
    """Output size and supersampling, for offscreen frames."""
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), metavar="WxH", help="default 1920x1080")
    parser.add_argument(
        "--supersample",
        type=int,
        default=1,
        choices=range(1, 9),
        metavar="N",
        help="render N times larger and average down (default 1)",
    )


def load_scene(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, Tessellation]:
    """Check every option, then read and tessellate FILE.

    The look and camera options are checked on a stand-in box first, so that a bad value
    fails at once rather than after minutes of tessellation.
    """
    check_sprite_input(args)
    width, height = args.size
    _settings(args, np.zeros(3), np.ones(3))
    _camera(args, np.zeros(3), np.ones(3), width / height)
    points, tess = load_and_tessellate(args, log)
    resolve_view(args, points)
    return points, tess


def build_renderer(
    ctx: moderngl.Context, args: argparse.Namespace, points: PointSet, tess: Tessellation, synchronous: bool
) -> Renderer:
    """A renderer with the tessellation, the overlays and the sprites the arguments ask for.

    ``synchronous`` sprites wait for every thumbnail (offscreen frames must not depend on
    timing); otherwise they load in the background.
    """
    renderer = Renderer(ctx, settings_from_args(args, tess), debug=args.debug)
    try:
        renderer.set_tessellation(tess, hidden_vertices(args, tess))
        add_overlays(renderer, args, points, tess)
        add_sprites(renderer, args, points, synchronous=synchronous)
    except BaseException:
        renderer.release()
        raise
    return renderer


@contextmanager
def offscreen_renderer(
    args: argparse.Namespace, points: PointSet, tess: Tessellation, log: StageLog
) -> Iterator[Renderer]:
    """An EGL context with a :func:`build_renderer` renderer, both released afterwards."""
    from delvol.render.context import create_offscreen_context

    ctx = create_offscreen_context()
    try:
        with log.stage("upload"):
            renderer = build_renderer(ctx, args, points, tess, synchronous=True)
        try:
            yield renderer
            report_sprite_failures(renderer)
        finally:
            renderer.release()
    finally:
        ctx.release()
