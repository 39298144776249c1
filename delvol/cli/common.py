"""Arguments and steps shared by the subcommands that read a point file."""

from __future__ import annotations

import argparse

from delvol.cli.dataclass_args import add_options, from_args
from delvol.geometry import Tessellation
from delvol.geometry.options import TessellationOptions
from delvol.io import LoadOptions, PointSet
from delvol.progress import StageLog
from delvol.scene.description import Scene


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE plus the loader and tessellation options."""
    parser.add_argument(
        "file", metavar="FILE", help="point file (.npy, .npz, CSV or text, HDF5, Gadget-2, FITS, store .db)"
    )
    add_options(parser, LoadOptions, "reading")
    add_options(parser, TessellationOptions, "tessellation")


def load_options(args: argparse.Namespace) -> LoadOptions:
    """The :class:`LoadOptions` described by the parsed arguments."""
    return from_args(LoadOptions, args)


def load_and_tessellate(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, Tessellation]:
    """Read FILE and tessellate it (through the cache unless ``--no-cache``)."""
    scene = Scene(args.file, load=load_options(args), tessellation=from_args(TessellationOptions, args))
    return scene.read(log)
