"""Arguments and steps shared by the subcommands that read a point file."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from delvol.atomic import check_destination
from delvol.errors import DelvolError
from delvol.geometry import DegenerateInputError, Tessellation
from delvol.geometry.engines import ENGINE_CHOICES
from delvol.geometry.fields import FieldSpec
from delvol.geometry.store import cached_tessellate
from delvol.io import LoadOptions, PointSet, load_points
from delvol.io.columns import ROLES
from delvol.io.fields import MEAN_MOLECULAR_WEIGHT
from delvol.io.readers import FORMATS
from delvol.io.sky import DEFAULT_COSMOLOGY, UNITS, get_cosmology
from delvol.memory import QHULL_BYTES_PER_POINT, available_memory, format_bytes, tessellation_memory
from delvol.progress import StageLog

BOX_FROM_FILE = object()
"""``--periodic`` without a value: the box size the file states (not a string, which argparse would parse)."""


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE plus the loader and tessellation options."""
    parser.add_argument(
        "file", metavar="FILE", help="point file (.npy, .npz, CSV or text, HDF5, Gadget-2, FITS, store .db)"
    )
    load = parser.add_argument_group("reading")
    load.add_argument("--format", choices=list(FORMATS), help="force the file format instead of detecting it")
    load.add_argument(
        "--columns",
        type=column_roles,
        default={},
        metavar="ROLE=NAME[,...]",
        help=f"which column or field plays each role ({', '.join(ROLES)}), for example x=px,y=py,z=pz "
        "(default: matched by name; x, y, z when all three exist, else ra, dec and redshift)",
    )
    load.add_argument(
        "--type",
        dest="ptypes",
        type=particle_types,
        metavar="N[,N...]",
        help="particle types to read from a snapshot, for example 1 or 0,4 (default: all)",
    )
    load.add_argument(
        "--cosmology",
        type=cosmology_name,
        help="astropy cosmology turning sky catalogues into comoving positions "
        f"(default: a galaxy store's own, else {DEFAULT_COSMOLOGY})",
    )
    load.add_argument(
        "--units", choices=UNITS, default=UNITS[0], help=f"length unit for sky catalogues (default {UNITS[0]})"
    )
    load.add_argument(
        "--mu",
        type=float,
        default=MEAN_MOLECULAR_WEIGHT,
        metavar="MU",
        help="mean molecular weight turning gas internal energy into temperature "
        f"(default {MEAN_MOLECULAR_WEIGHT:.3f}, fully ionised primordial gas; 1.22 for neutral gas)",
    )
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
        const=BOX_FROM_FILE,
        type=box_side,
        metavar="L",
        help="periodic box of side L (without L: the box size stated in the file)",
    )
    tess.add_argument(
        "--padding",
        type=float,
        default=5.0,
        help="periodic padding in mean interparticle spacings (default 5, at least 3.4)",
    )
    tess.add_argument(
        "--engine",
        choices=ENGINE_CHOICES,
        default="auto",
        help="Delaunay engine: scipy (Qhull), shull or gmsh (optional, GPL: pip install 'delvol[fast]'); "
        "auto, the default, is the fastest installed",
    )
    tess.add_argument("--no-cache", action="store_true", help="neither read nor write the tessellation cache")


def load_options(args: argparse.Namespace) -> LoadOptions:
    """The :class:`LoadOptions` described by the parsed arguments."""
    if not args.mu > 0:
        raise DelvolError(f"--mu must be a positive mean molecular weight, got {args.mu:g}")
    box = None
    if args.box is not None:
        box = (np.array(args.box[:3]), np.array(args.box[3:]))
    return LoadOptions(
        format=args.format,
        max_points=args.max_points,
        seed=args.seed,
        box=box,
        columns=args.columns,
        ptypes=args.ptypes,
        cosmology=args.cosmology,
        units=args.units,
        fields=tuple(dict.fromkeys(spec.name for spec in field_specs(args))),
        mean_molecular_weight=args.mu,
    )


def field_spec(text: str) -> FieldSpec:
    """Parse a field option: ``NAME``, ``NAME:x`` or ``NAME:DERIVED`` (see :class:`FieldSpec`)."""
    try:
        return FieldSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_field_arguments(parser: argparse.ArgumentParser, purpose: str) -> None:
    """``--field NAME``, repeatable: per-point fields for ``purpose`` (the help's first words)."""
    parser.add_argument(
        "--field",
        type=field_spec,
        action="append",
        default=[],
        metavar="NAME",
        help=f"{purpose} (repeatable): vel, u, temperature or any column; NAME:x for a component, "
        "NAME:divergence (vorticity-magnitude, shear-magnitude) per point",
    )


def field_specs(args: argparse.Namespace) -> list[FieldSpec]:
    """The fields a command asks for: its ``--field`` options and its ``--color-by``."""
    specs = list(getattr(args, "field", None) or [])
    if getattr(args, "color_by", None) is not None:
        specs.append(args.color_by)
    return specs


def column_roles(text: str) -> dict[str, str]:
    """Parse ``--columns``: ``ROLE=NAME`` pairs separated by commas."""
    roles: dict[str, str] = {}
    for pair in text.split(","):
        role, sep, name = (part.strip() for part in pair.partition("="))
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"expected ROLE=NAME, got {pair!r}")
        if role not in ROLES:
            raise argparse.ArgumentTypeError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if role in roles:
            raise argparse.ArgumentTypeError(f"role {role!r} given twice")
        roles[role] = name
    return roles


def particle_types(text: str) -> list[int]:
    """Parse ``--type``: non-negative integers separated by commas."""
    try:
        types = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected particle types such as 1 or 0,4, got {text!r}") from None
    if min(types) < 0:
        raise argparse.ArgumentTypeError(f"particle types are not negative, got {text!r}")
    return types


def cosmology_name(name: str) -> str:
    """Check ``--cosmology`` against astropy's built-in cosmologies."""
    try:
        get_cosmology(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def box_side(text: str) -> float:
    """Parse ``--periodic L``: a positive, finite box side."""
    try:
        side = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a box side such as 500, got {text!r}") from None
    if not (np.isfinite(side) and side > 0):
        raise argparse.ArgumentTypeError(f"the box side must be positive and finite, got {text!r}")
    return side


def periodic_size(args: argparse.Namespace, points: PointSet) -> float | None:
    """The periodic box side asked for, resolving ``--periodic`` without a value."""
    if args.periodic is None:
        return None
    if args.periodic is BOX_FROM_FILE:
        size = points.metadata.get("box_size")
        if size is None:
            raise DelvolError("--periodic needs a box size: the file does not state one", args.file)
        return float(size)
    return args.periodic


def load_and_tessellate(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, Tessellation]:
    """Read FILE and tessellate it (through the cache unless ``--no-cache``)."""
    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    periodic = periodic_size(args, points)
    needed = tessellation_memory(len(points), periodic is not None)
    room = available_memory()
    if needed > room:
        padding = ", doubled by the periodic padding" if periodic is not None else ""
        print(
            f"delvol: warning: tessellating {len(points):,} points may need {format_bytes(needed)} "
            f"(about {QHULL_BYTES_PER_POINT / 1000:.1f} kB per point{padding}), "
            f"more than the {format_bytes(room)} available",
            file=sys.stderr,
        )
    try:
        tess = cached_tessellate(
            points.positions,
            points.masses,
            use_cache=not args.no_cache,
            log=log,
            periodic=periodic,
            padding=args.padding,
            engine=args.engine,
        )
    except DegenerateInputError as exc:
        raise DelvolError(str(exc), args.file) from exc
    return points, tess


def check_output(path: str | os.PathLike) -> None:
    """Check an output name before any work, and say when its folder will be created.

    ``-o`` into a missing folder creates it (as ``mkdir -p`` would) and says so on stderr,
    so that a typo in a folder name does not go unnoticed.

    Raises
    ------
    DelvolError
        The output is a folder, a device, a FIFO or a socket, or lies under a file.
    """
    if check_destination(path):
        print(f"delvol: note: creating folder {os.path.dirname(os.path.abspath(path))}", file=sys.stderr)
