"""``delvol info FILE``: what the file holds and what its tessellation looks like."""

from __future__ import annotations

import argparse

import numpy as np

from delvol.blocks.run import BlockSummary
from delvol.cli.block_options import add_block_arguments, block_runner, check_block_arguments, n_blocks
from delvol.cli.common import add_input_arguments, input_errors, load_and_tessellate, load_options, periodic_size
from delvol.geometry import Tessellation
from delvol.io import PointSet, load_points
from delvol.progress import StageLog

PERCENTILES = (0, 1, 5, 25, 50, 75, 95, 99, 100)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="tessellate a file and report counts, bounds, densities and timings")
    add_input_arguments(p)
    add_block_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_block_arguments(args)
    log = StageLog()
    if args.blocks is not None:
        points, tess = _summarize_blocks(args, log)
    else:
        points, tess = load_and_tessellate(args, log)
    print(report(points, tess, log.timings))
    return 0


def _summarize_blocks(args: argparse.Namespace, log: StageLog) -> tuple[PointSet, BlockSummary]:
    """Build in blocks and keep only the counts and per-point arrays (nothing is assembled)."""
    from delvol.blocks.run import job_folder, prepare_job, summarize_blocks

    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    with block_runner(args, log) as runner, input_errors(args), job_folder() as folder:
        with log.stage("partition"):
            job, *_ = prepare_job(
                points.positions,
                points.masses,
                n_blocks(args, len(points), runner),
                folder,
                periodic=periodic_size(args, points),
                padding=args.padding,
            )
        with log.stage("blocks"):
            summary = summarize_blocks(runner, job)
    return points, summary


def report(points: PointSet, tess: Tessellation | BlockSummary, timings: dict[str, float]) -> str:
    """The human-readable summary printed by ``delvol info``."""
    meta = points.metadata
    n = len(points)
    lo, hi = points.bounds
    units = meta.get("units", "unknown")
    rho = tess.density[: tess.n_primary]
    pct = np.nanpercentile(rho, PERCENTILES)
    lines = [
        f"file          {meta.get('source', '?')}  (format {meta.get('format', '?')})",
        f"points        {n:,}" + (f" of {meta['n_total']:,}" if meta.get("n_total", n) != n else ""),
        f"units         {units}",
        f"bounds        x [{lo[0]:.6g}, {hi[0]:.6g}]  y [{lo[1]:.6g}, {hi[1]:.6g}]  z [{lo[2]:.6g}, {hi[2]:.6g}]",
    ]
    for key in ("box_size", "cosmology", "redshift"):
        if meta.get(key) is not None:
            lines.append(f"{key:<14}{meta[key]}")
    periodic = "no"
    if tess.box_size is not None:
        periodic = f"periodic box {tess.box_size:g}, {tess.info.get('n_images', 0):,} image vertices"
    lines += [
        f"periodic      {periodic}",
        f"tetrahedra    {len(tess.tetrahedra):,}  ({len(tess.tetrahedra) / n:.2f} per point)",
        f"faces         {len(tess.faces):,}  ({len(tess.faces) / n:.2f} per point)",
        f"duplicates    {tess.info.get('n_duplicates', 0):,} (merged into their kept twin)",
        f"hull points   {np.count_nonzero(tess.hull[: tess.n_primary]):,}  "
        f"({np.mean(tess.hull[: tess.n_primary]):.2%} of points)",
        "density       " + "  ".join(f"p{q}={v:.4g}" for q, v in zip(PERCENTILES, pct, strict=True)),
        f"density span  {pct[-1] / pct[0]:.3g} (max/min)" if pct[0] > 0 else "density span  -",
    ]
    if "blocks" in tess.info and "n_ghost" in tess.info["blocks"]:
        b = tess.info["blocks"]
        lines.append(
            f"blocks        {b['n_blocks']}, {b['n_ghost'] / n:.0%} ghost points, {b['regrown']} regrown "
            f"(at most {b['max_rounds']} rounds), largest worker peak {b['peak_rss_mb']:.0f} MB"
        )
    if "cache" in tess.info:
        lines.append(f"cache         {tess.info['cache']}")
    lines.append("timings       " + "  ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    return "\n".join(lines)
