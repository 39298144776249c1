"""Arguments and steps shared by the subcommands that read a point file."""

from __future__ import annotations

import argparse

import numpy as np

from delvol.errors import DelvolError
from delvol.geometry import DegenerateInputError, Tessellation
from delvol.geometry.store import cached_tessellate
from delvol.io import LoadOptions, PointSet, load_points
from delvol.progress import StageLog


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE plus the loader and tessellation options."""
    parser.add_argument("file", metavar="FILE", help="point file (.npy, .npz, CSV, HDF5, Gadget, FITS, store .db)")
    load = parser.add_argument_group("reading")
    load.add_argument("--format", help="force the file format instead of detecting it")
    load.add_argument("--max-points", type=int, metavar="N", help="keep a seeded random subsample of N points")
    load.add_argument("--seed", type=int, default=0, help="seed of the subsample (default 0)")
    load.add_argument(
        "--box",
        type=float,
        nargs=6,
        metavar=("X0", "Y0", "Z0", "X1", "Y1", "Z1"),
        help="keep only points inside this box",
    )
    tess = parser.add_argument_group("tessellation")
    tess.add_argument(
        "--periodic",
        nargs="?",
        const="file",
        metavar="L",
        help="periodic box of side L (without L: the box size stated in the file)",
    )
    tess.add_argument(
        "--padding",
        type=float,
        default=5.0,
        help="periodic padding in mean interparticle spacings (default 5, at least 3.4)",
    )
    tess.add_argument("--no-cache", action="store_true", help="neither read nor write the tessellation cache")


def load_options(args: argparse.Namespace) -> LoadOptions:
    """The :class:`LoadOptions` described by the parsed arguments."""
    box = None
    if args.box is not None:
        box = (np.array(args.box[:3]), np.array(args.box[3:]))
    return LoadOptions(format=args.format, max_points=args.max_points, seed=args.seed, box=box)


def periodic_size(args: argparse.Namespace, points: PointSet) -> float | None:
    """The periodic box side asked for, resolving ``--periodic`` without a value."""
    if args.periodic is None:
        return None
    if args.periodic == "file":
        size = points.metadata.get("box_size")
        if size is None:
            raise DelvolError("--periodic needs a box size: the file does not state one", args.file)
        return float(size)
    try:
        return float(args.periodic)
    except ValueError:
        raise DelvolError(f"--periodic expects a number, got {args.periodic!r}") from None


def load_and_tessellate(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, Tessellation]:
    """Read FILE and tessellate it (through the cache unless ``--no-cache``)."""
    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    try:
        tess = cached_tessellate(
            points.positions,
            points.masses,
            use_cache=not args.no_cache,
            log=log,
            periodic=periodic_size(args, points),
            padding=args.padding,
        )
    except DegenerateInputError as exc:
        raise DelvolError(str(exc), args.file) from exc
    return points, tess
