"""``delvol tessellate FILE -o out.npz``: export the tessellation arrays (and fields), or ``-o DIR/`` block by block."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

import numpy as np

from delvol.cli.common import add_field_arguments, add_input_arguments, check_output, input_scene
from delvol.errors import DelvolError
from delvol.geometry.cache import save_tessellation
from delvol.geometry.fields import point_field
from delvol.progress import StageLog
from delvol.scene.description import Scene


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tessellate",
        help="write points, masses, tetrahedra, neighbors, faces, tet_volume, cell_volume, density, hull to .npz",
    )
    add_input_arguments(p)
    add_field_arguments(p, "also write a per-point field as field_NAME (field_NAME_divergence), one row per vertex")
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
    """``-o DIR/``: a name ending in a separator, or a block folder written before.

    Any other existing folder is refused as an output file name (``check_output``), so a
    forgotten file name never turns into a folder of blocks.
    """
    from delvol.blocks.store import is_block_folder

    return path.endswith(("/", os.sep)) or is_block_folder(path)


def run(args: argparse.Namespace) -> int:
    log = StageLog()
    scene = input_scene(args)
    if is_folder_output(args.output):
        if args.field:
            raise DelvolError("--field is not written to a block folder; write an .npz file")
        return _run_folder(args, scene, log)
    check_output(args.output)
    points, tess = scene.read(log)
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


def _run_folder(args: argparse.Namespace, scene: Scene, log: StageLog) -> int:
    """Build block by block and write each block as it arrives: no process holds the whole job."""
    from delvol.blocks.run import job_info
    from delvol.blocks.store import write_blocks

    if scene.tessellation.blocks is None:
        scene = replace(scene, tessellation=replace(scene.tessellation, blocks="auto"))
    with scene.block_job(log) as (points, runner, (job, pts, m, lower)), log.stage("blocks"):
        index = write_blocks(
            args.output,
            runner,
            job,
            pts,
            m,
            box_size=job.layout.box_size,
            box_lower=lower,
            info=job_info(job),
            metadata=points.metadata,
        )
    blocks = index["blocks"]
    print(
        f"wrote {args.output}: {len(blocks)} blocks, {len(pts):,} points, "
        f"{sum(b['n_tetrahedra'] for b in blocks):,} tetrahedra, {sum(b['n_faces'] for b in blocks):,} faces, "
        f"{sum(b['n_ghost'] for b in blocks) / len(pts):.0%} ghost points",
        file=sys.stderr,
    )
    return 0
