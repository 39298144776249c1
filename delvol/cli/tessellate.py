"""``delvol tessellate FILE -o out.npz``: export the tessellation arrays (and fields)."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from delvol.cli.common import add_field_arguments, add_input_arguments, check_output, load_and_tessellate
from delvol.errors import DelvolError
from delvol.geometry.cache import save_tessellation
from delvol.geometry.fields import point_field
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tessellate",
        help="write points, masses, tetrahedra, neighbors, faces, tet_volume, cell_volume, density, hull to .npz",
    )
    add_input_arguments(p)
    add_field_arguments(p, "also write a per-point field as field_NAME (field_NAME_divergence), one row per vertex")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="output .npz file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output(args.output)
    log = StageLog()
    points, tess = load_and_tessellate(args, log)
    extra: dict[str, np.ndarray] = {}
    with log.stage("fields"):
        for spec in args.field:
            try:
                extra["field_" + str(spec).replace(":", "_")] = point_field(tess, points.fields, spec)[tess.origin]
            except ValueError as exc:
                raise DelvolError(f"{spec}: {exc}", args.file) from exc
    with log.stage("write"):
        save_tessellation(tess, args.output, extra)
    print(
        f"wrote {args.output}: {len(tess.points):,} points, {len(tess.tetrahedra):,} tetrahedra, "
        f"{len(tess.faces):,} faces" + "".join(f", {key}" for key in extra),
        file=sys.stderr,
    )
    return 0
