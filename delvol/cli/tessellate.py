"""``delvol tessellate FILE -o out.npz``: export the tessellation arrays."""

from __future__ import annotations

import argparse
import sys

from delvol.cli.common import add_input_arguments, check_output, load_and_tessellate
from delvol.geometry.store import save_tessellation
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tessellate",
        help="write points, masses, tetrahedra, neighbors, faces, tet_volume, cell_volume, density, hull to .npz",
    )
    add_input_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="output .npz file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_output(args.output)
    log = StageLog()
    _, tess = load_and_tessellate(args, log)
    with log.stage("write"):
        save_tessellation(tess, args.output)
    print(
        f"wrote {args.output}: {len(tess.points):,} points, {len(tess.tetrahedra):,} tetrahedra, "
        f"{len(tess.faces):,} faces",
        file=sys.stderr,
    )
    return 0
