"""Arguments and steps shared by the subcommands that read a point file."""

from __future__ import annotations

import argparse
import os
import sys

from delvol.atomic import check_destination
from delvol.cli.dataclass_args import add_options, argument_type, from_args, with_flags
from delvol.errors import DelvolError
from delvol.geometry import Tessellation
from delvol.geometry.fields import FieldSpec
from delvol.geometry.options import TessellationOptions
from delvol.io import LoadOptions, PointSet
from delvol.progress import StageLog
from delvol.scene.description import Scene

FIELD_HELP = (
    "vel, u, temperature or any column; NAME:x for a component, "
    "NAME:divergence (vorticity-magnitude, shear-magnitude) per point"
)
"""What ``--field`` takes, for the help of every command that has it."""

BOX_FROM_FILE = object()
"""``--periodic`` without a value: the box size the file states (not a string, which argparse would parse)."""


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE plus the loader and tessellation options."""
    parser.add_argument(
        "file", metavar="FILE", help="point file (.npy, .npz, CSV or text, HDF5, Gadget-2, FITS, store .db)"
    )
    add_options(parser, LoadOptions, "reading")
    add_options(parser, TessellationOptions, "tessellation")


def add_field_arguments(parser: argparse.ArgumentParser, purpose: str) -> None:
    """``--field NAME``, repeatable: per-point fields for ``purpose`` (the help's first words)."""
    parser.add_argument(
        "--field",
        type=argument_type(FieldSpec.parse),
        action="append",
        default=[],
        metavar="NAME",
        help=f"{purpose} (repeatable): {FIELD_HELP}",
    )


def load_options(args: argparse.Namespace) -> LoadOptions:
    """The :class:`LoadOptions` described by the parsed arguments, reading every ``--field``."""
    specs: list[FieldSpec] = getattr(args, "field", None) or []
    return from_args(LoadOptions, args, fields=tuple(dict.fromkeys(spec.name for spec in specs)))


def input_scene(args: argparse.Namespace) -> Scene:
    """The scene of FILE with the reading and tessellation options (its look and camera the defaults)."""
    try:
        tessellation = from_args(TessellationOptions, args)
    except ValueError as exc:
        raise DelvolError(with_flags(str(exc), [TessellationOptions])) from exc
    return Scene(args.file, load=load_options(args), tessellation=tessellation)


def load_and_tessellate(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, Tessellation]:
    """Read FILE and tessellate it (through the cache unless ``--no-cache``)."""
    return input_scene(args).read(log)


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
