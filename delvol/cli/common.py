"""Arguments and steps shared by the subcommands that read a point file."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.geometry import DegenerateInputError, Tessellation
from delvol.geometry.store import cached_tessellate
from delvol.io import LoadOptions, PointSet, load_points
from delvol.io.columns import ROLES
from delvol.io.readers import FORMATS
from delvol.io.sky import DEFAULT_COSMOLOGY, UNITS, get_cosmology
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
    return LoadOptions(
        format=args.format,
        max_points=args.max_points,
        seed=args.seed,
        box=box,
        columns=args.columns,
        ptypes=args.ptypes,
        cosmology=args.cosmology,
        units=args.units,
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


def load_and_tessellate(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, Tessellation]:
    """Read FILE and tessellate it (through the cache unless ``--no-cache``).

    With ``--blocks`` the tessellation is built in blocks on Dask and assembled.
    """
    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    if getattr(args, "blocks", None) is not None:
        from delvol.blocks import tessellate_blocks
        from delvol.cli.block_options import block_runner, n_blocks

        with block_runner(args, log) as runner, input_errors(args):
            tess = tessellate_blocks(
                points.positions,
                points.masses,
                blocks=n_blocks(args, len(points), runner),
                periodic=periodic_size(args, points),
                padding=args.padding,
                runner=runner,
                log=log,
            )
        return points, tess
    check_memory(len(points), args)
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


@contextmanager
def input_errors(args: argparse.Namespace) -> Iterator[None]:
    """Re-raise the geometry layer's DegenerateInputError as a DelvolError naming FILE."""
    try:
        yield
    except DegenerateInputError as exc:
        raise DelvolError(str(exc), args.file) from exc


SINGLE_RUN_BYTES_PER_POINT = 3000
"""Peak of a single build: Qhull's ~2.4 kB per point plus the arrays it returns."""


def available_memory() -> float | None:
    """Bytes of memory available now (Linux), or None where that cannot be told."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(n_points: int, args: argparse.Namespace) -> None:
    """Refuse a single-process build that cannot fit, before minutes of Qhull, not after.

    This is also the viewer's limit: it holds one whole tessellation, so beyond memory
    the answer is a blocked render or fly-through (``--blocks``), or ``--max-points``.
    """
    need, free = n_points * SINGLE_RUN_BYTES_PER_POINT, available_memory()
    if free is None or need <= free:
        return
    blocks = "" if args.command == "view" else "--blocks N to build in blocks on Dask, or "
    raise DelvolError(
        f"{n_points:,} points need about {need / 1e9:.1f} GB to tessellate in one process, more than the "
        f"{free / 1e9:.1f} GB available; use {blocks}--max-points N",
        args.file,
    )
