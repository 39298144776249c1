"""``delvol project FILE --axis z --size 512 -o map.fits``: the exact surface density."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from delvol import __version__
from delvol.atomic import atomic_path
from delvol.cli.common import add_input_arguments, check_output, load_and_tessellate
from delvol.errors import DelvolError
from delvol.progress import StageLog

OUTPUTS = (".fits", ".npy")


def map_size(text: str) -> tuple[int, int]:
    """``"512"`` -> (512, 512); ``"512x256"`` -> (512, 256): columns and rows."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"size must look like 512 or 512x256, got {text!r}")
    return (parts[0], parts[-1])


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="the exact DTFE surface density along an axis, as FITS or .npy")
    add_input_arguments(p)
    p.add_argument("--axis", choices=("x", "y", "z"), default="z", help="line of sight (default z)")
    p.add_argument("--size", type=map_size, default=(512, 512), metavar="N[xM]", help="pixels (default 512)")
    p.add_argument(
        "--extent",
        type=float,
        nargs=4,
        metavar=("X0", "X1", "Y0", "Y1"),
        help="map range in the two remaining axes, in their order (default: the data bounds or the periodic box)",
    )
    p.add_argument(
        "--supersample",
        type=int,
        default=2,
        choices=range(1, 9),
        metavar="N",
        help="integrate N x N rays per pixel and average (default 2)",
    )
    p.add_argument("-o", "--output", required=True, metavar="MAP.fits", help="output .fits or .npy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.gl.context import create_offscreen_context
    from delvol.gl.projection import default_extent, map_axes, surface_density

    suffix = Path(args.output).suffix.lower()
    if suffix not in OUTPUTS:
        raise DelvolError("the output must be a .fits or .npy file", args.output)
    check_output(args.output)
    if args.extent is not None and not (args.extent[0] < args.extent[1] and args.extent[2] < args.extent[3]):
        raise DelvolError("--extent needs X0 < X1 and Y0 < Y1")
    log = StageLog()
    points, tess = load_and_tessellate(args, log)
    extent = tuple(args.extent) if args.extent is not None else default_extent(tess, args.axis)
    ctx = create_offscreen_context()
    try:
        with log.stage("project"):
            image = surface_density(ctx, tess, args.axis, args.size, extent, args.supersample)
    finally:
        ctx.release()
    u, v, _ = map_axes(args.axis)
    pixel = ((extent[1] - extent[0]) / args.size[0], (extent[3] - extent[2]) / args.size[1])
    mass = float(image.sum() * pixel[0] * pixel[1])
    units = str(points.metadata.get("units", "") or "")
    if suffix == ".npy":
        with atomic_path(args.output, suffix=".npy") as tmp:
            np.save(tmp, image)
    else:
        _write_fits(args, image, extent, pixel, (u, v), units, points.masses is not None, mass, tess.box_size)
    total = float(tess.masses[: tess.n_primary].sum())
    print(
        f"wrote {args.output}: {args.size[0]}x{args.size[1]} along {args.axis}, "
        f"extent {' '.join(f'{e:g}' for e in extent)}, mass in the map {mass:.6g} (points: {total:.6g})",
        file=sys.stderr,
    )
    return 0


def _write_fits(args, image, extent, pixel, axes, units, has_masses, mass, box_size) -> None:
    from astropy.io import fits

    names = "XYZ"
    header = fits.Header()
    for n, (axis, lo, step) in enumerate(zip(axes, extent[::2], pixel, strict=True), start=1):
        header[f"CTYPE{n}"] = (names[axis], f"{names[axis].lower()} coordinate")
        if units:  # CUNIT must be a unit: left out when the input does not state one
            header[f"CUNIT{n}"] = (units, "length unit of the input coordinates")
        header[f"CRPIX{n}"] = (1.0, "reference pixel (the first)")
        header[f"CRVAL{n}"] = (lo + 0.5 * step, "coordinate of the first pixel's centre")
        header[f"CDELT{n}"] = (step, "pixel scale in length units")
    length = units or "length"
    header["LUNIT"] = (length, "length unit of the coordinates and the pixel scale")
    header["BUNIT"] = (f"mass/({length})^2", "surface density: integral of rho along the axis")
    header["LOSAXIS"] = (args.axis, "line-of-sight axis (projected along)")
    for key, value in zip(("XMIN", "XMAX", "YMIN", "YMAX"), extent, strict=True):
        header[key] = (value, "map extent, pixel edges, in length units")
    header["MASSCONV"] = (
        "masses from the input file" if has_masses else "unit mass per point",
        "mass convention",
    )
    header["MAPMASS"] = (mass, "sum of the map times the pixel area")
    header["PERIODIC"] = (box_size if box_size is not None else False, "periodic box side, or F")
    header["SUPERSMP"] = (args.supersample, "rays per pixel side, averaged")
    header["ESTIMATR"] = ("DTFE", "rho_i = 4 m_i / W_i, linear in each tetrahedron")
    header["ORIGIN"] = (f"delvol {__version__}", "software")
    header["SOURCE"] = (Path(args.file).name[:68], "input file")
    with atomic_path(args.output, suffix=".fits") as tmp:
        fits.PrimaryHDU(image.astype(np.float64), header).writeto(tmp, overwrite=True)
