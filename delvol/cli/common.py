"""Arguments and steps shared by the subcommands that read a point file."""

from __future__ import annotations

import argparse

import numpy as np

from delvol.errors import DelvolError
from delvol.geometry import DegenerateInputError, Tessellation
from delvol.geometry.store import cached_tessellate
from delvol.geometry.survey import TREATMENTS, Survey, boundary_buffer
from delvol.io import LoadOptions, PointSet, load_points
from delvol.io.columns import ROLES
from delvol.io.mask import read_mask
from delvol.io.readers import FORMATS
from delvol.io.redshift_space import AXES
from delvol.io.sky import DEFAULT_COSMOLOGY, UNITS, comoving_distance, get_cosmology
from delvol.progress import StageLog


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
        "--where",
        action="append",
        default=[],
        metavar="COL<OP>VALUE",
        help="keep only rows where the column compares so with the value: = != < <= > >= "
        "(repeatable, all must hold; for example class=GALAXY, redshift>0.01)",
    )
    load.add_argument(
        "--redshift-space",
        choices=AXES,
        metavar="AXIS",
        help="move snapshot particles along x, y or z by their velocities / aH(z), wrapping the box",
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
    survey = parser.add_argument_group("survey geometry (sky catalogues)")
    survey.add_argument(
        "--mask",
        metavar="FILE",
        help="angular footprint: a HEALPix FITS map (any nside, RING or NESTED) or an RA/Dec cell list; "
        "galaxies outside it are dropped and buffer points close the survey's edges",
    )
    survey.add_argument("--zmin", type=float, help="lower redshift limit (default: the data's lowest)")
    survey.add_argument("--zmax", type=float, help="upper redshift limit (default: the data's highest)")
    survey.add_argument(
        "--buffer",
        choices=TREATMENTS,
        default=TREATMENTS[0],
        help="buffer points with --mask: the edge galaxies reflected across the boundaries (default), "
        "or random points at the mean density",
    )


def load_options(args: argparse.Namespace) -> LoadOptions:
    """The :class:`LoadOptions` described by the parsed arguments."""
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
        where=tuple(args.where),
        redshift_space=args.redshift_space,
    )


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


def survey_from_args(args: argparse.Namespace, points: PointSet) -> Survey | None:
    """The survey volume that ``--mask``, ``--zmin`` and ``--zmax`` describe, or None."""
    if args.mask is None:
        if args.zmin is not None or args.zmax is not None:
            raise DelvolError("--zmin and --zmax need --mask (the survey's footprint)")
        return None
    if points.metadata.get("frame") != "equatorial comoving":
        raise DelvolError("--mask applies to sky catalogues (RA, Dec, redshift)", args.file)
    if args.periodic is not None:
        raise DelvolError("--mask and --periodic exclude each other")
    footprint = read_mask(args.mask)
    r = np.linalg.norm(points.positions, axis=1)
    limits = [args.zmin, args.zmax]
    cosmology, units = points.metadata["cosmology"], points.metadata["units"]
    given = [z for z in limits if z is not None]
    if any(not (np.isfinite(z) and z > -1) for z in given):
        raise DelvolError("--zmin and --zmax must be redshifts above -1")
    distances = comoving_distance(np.array(given, dtype=np.float64), cosmology, units) if given else []
    it = iter(distances)
    r_min = float(next(it)) if args.zmin is not None else float(r.min())
    r_max = float(next(it)) if args.zmax is not None else float(r.max())
    if r_min >= r_max:
        raise DelvolError("--zmin must be below --zmax")
    return Survey(footprint, max(r_min, 0.0), r_max)


def load_and_tessellate(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, Tessellation]:
    """Read FILE and tessellate it (through the cache unless ``--no-cache``).

    With ``--mask``, galaxies outside the survey volume are dropped and buffer points are
    appended (see :mod:`delvol.geometry.survey`); ``points.metadata["boundary"]`` then
    says how the boundary was treated.
    """
    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    survey = survey_from_args(args, points)
    positions, masses, n_buffer = points.positions, points.masses, 0
    if survey is not None:
        with log.stage("survey buffer"):
            inside = survey.contains(points.positions)
            if np.count_nonzero(inside) < 4:
                raise DelvolError("fewer than 4 galaxies lie inside the mask and redshift range", args.file)
            dropped = len(points) - int(np.count_nonzero(inside))
            points = points.subset(inside)
            buffer = boundary_buffer(points.positions, survey, args.buffer, seed=args.seed)
        n_buffer = len(buffer.points)
        positions = np.concatenate([points.positions, buffer.points])
        if masses is not None:
            masses = np.concatenate([points.masses, np.zeros(n_buffer)])
        points.metadata["boundary"] = (
            f"survey mask {survey.footprint.describe()}; distances {survey.r_min:.4g}..{survey.r_max:.4g}; "
            f"{dropped:,} galaxies outside dropped; {buffer.describe()}"
        )
    try:
        tess = cached_tessellate(
            positions,
            masses,
            use_cache=not args.no_cache,
            log=log,
            periodic=periodic_size(args, points),
            padding=args.padding,
            **({"n_buffer": n_buffer} if n_buffer else {}),
        )
    except DegenerateInputError as exc:
        raise DelvolError(str(exc), args.file) from exc
    return points, tess
