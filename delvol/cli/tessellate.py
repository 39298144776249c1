"""``delvol tessellate FILE -o out.npz``: export the tessellation arrays (or ``-o DIR/``, block by block)."""

from __future__ import annotations

import argparse
import os
import sys

from delvol.cli.block_options import add_block_arguments, block_runner, check_block_arguments, n_blocks
from delvol.cli.common import add_input_arguments, input_errors, load_and_tessellate, load_options, periodic_size
from delvol.geometry.store import save_tessellation
from delvol.io import load_points
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tessellate",
        help="write points, masses, tetrahedra, neighbors, faces, tet_volume, cell_volume, density, hull to .npz",
    )
    add_input_arguments(p)
    add_block_arguments(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.npz|DIR/",
        help="output .npz file; a folder (ending in /) gets one file per block plus an index, for data larger "
        "than memory (implies --blocks auto unless given)",
    )
    p.set_defaults(func=run)


def is_folder_output(path: str) -> bool:
    """``-o DIR/``: a name ending in a separator, or an existing folder."""
    return path.endswith(("/", os.sep)) or os.path.isdir(path)


def run(args: argparse.Namespace) -> int:
    check_block_arguments(args)
    log = StageLog()
    if is_folder_output(args.output):
        return _run_folder(args, log)
    _, tess = load_and_tessellate(args, log)
    with log.stage("write"):
        save_tessellation(tess, args.output)
    print(
        f"wrote {args.output}: {len(tess.points):,} points, {len(tess.tetrahedra):,} tetrahedra, "
        f"{len(tess.faces):,} faces",
        file=sys.stderr,
    )
    return 0


def _run_folder(args: argparse.Namespace, log: StageLog) -> int:
    """Build block by block and write each block as it arrives: no process holds the whole job."""
    from delvol.blocks.build import build_block
    from delvol.blocks.run import job_folder, job_info, prepare_job
    from delvol.blocks.store import write_blocks

    if args.blocks is None:
        args.blocks = "auto"
    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    periodic = periodic_size(args, points)
    with block_runner(args, log) as runner, input_errors(args), job_folder() as folder:
        with log.stage("partition"):
            job, pts, m, lower = prepare_job(
                points.positions,
                points.masses,
                n_blocks(args, len(points), runner),
                folder,
                periodic=periodic,
                padding=args.padding,
            )
        with log.stage("blocks"):
            index = write_blocks(
                args.output,
                runner.map(build_block, job, list(range(job.layout.n_blocks))),
                pts,
                m,
                box_size=job.layout.box_size,
                box_lower=lower,
                info=job_info(job),
            )
    blocks = index["blocks"]
    print(
        f"wrote {args.output}: {len(blocks)} blocks, {len(pts):,} points, "
        f"{sum(b['n_tetrahedra'] for b in blocks):,} tetrahedra, {sum(b['n_faces'] for b in blocks):,} faces, "
        f"{sum(b['n_ghost'] for b in blocks) / len(pts):.0%} ghost points",
        file=sys.stderr,
    )
    return 0
