"""``delvol info FILE``: what the file holds and what its tessellation looks like."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import numpy as np

from delvol.cli.common import add_field_arguments, add_input_arguments, input_scene
from delvol.errors import DelvolError
from delvol.geometry import Tessellation
from delvol.geometry.fields import FieldSpec, point_field, units_of
from delvol.io import PointSet
from delvol.progress import StageLog
from delvol.scene.description import Scene

if TYPE_CHECKING:
    from delvol.blocks.run import BlockSummary

PERCENTILES = (0, 1, 5, 25, 50, 75, 95, 99, 100)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="tessellate a file and report counts, bounds, densities and timings")
    add_input_arguments(p)
    add_field_arguments(p, "report percentiles of a per-point field")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    log = StageLog()
    scene = input_scene(args)
    folder = scene.block_folder
    if folder is not None and not args.field:
        from delvol.blocks.store import folder_summary

        points = scene.read_points(log)
        with log.stage("read blocks"):
            summary = folder_summary(folder)
        print(report(points, summary, log.timings))
        return 0
    if scene.tessellation.blocks is not None and not args.field:
        points, summary = _summarize_blocks(scene, log)
        print(report(points, summary, log.timings))
        return 0
    points, tess = scene.read(log)
    lines = [report(points, tess, log.timings)]
    for spec in args.field:
        try:
            lines.append(field_report(spec, point_field(tess, points.fields, spec), units_of(spec, points.metadata)))
        except ValueError as exc:
            raise DelvolError(f"{spec}: {exc}", args.file) from exc
    print("\n".join(lines))
    return 0


def _summarize_blocks(scene: Scene, log: StageLog) -> tuple[PointSet, BlockSummary]:
    """Build in blocks and keep only the counts and per-point arrays (nothing is assembled)."""
    from delvol.blocks.run import summarize_blocks

    with scene.block_job(log) as (points, runner, prepared), log.stage("blocks"):
        return points, summarize_blocks(runner, prepared.job)


def field_report(spec: FieldSpec, values: np.ndarray, units: str) -> str:
    """Percentiles of a per-point field: of each component, and of the length of vectors."""
    flat = values.reshape(len(values), -1)
    rows = {"": flat[:, 0]} if flat.shape[1] == 1 else {f" [{k}]": flat[:, k] for k in range(flat.shape[1])}
    if flat.shape[1] == 3:
        rows = {f" {axis}": flat[:, k] for k, axis in enumerate("xyz")}
        rows[" length"] = np.linalg.norm(flat, axis=1)
    lines = [f"field         {spec}  ({units}, shape {values.shape})"]
    width = max(len(str(spec) + suffix) for suffix in rows) + 2
    for suffix, column in rows.items():
        pct = np.nanpercentile(column, PERCENTILES)
        values_text = "  ".join(f"p{q}={v:.4g}" for q, v in zip(PERCENTILES, pct, strict=True))
        lines.append(f"  {str(spec) + suffix:<{width}}{values_text}")
    return "\n".join(lines)


def format_redshift(z: float) -> str:
    """A redshift as people write it: rounding noise such as 2.2e-16 is 0."""
    return "0" if abs(z) < 1e-9 else f"{z:.6g}"


def boundary(points: PointSet, tess: Tessellation | BlockSummary) -> str:
    """How the edges of the data were treated, for the report."""
    if tess.box_size is not None:
        return "periodic: no edges"
    if "boundary" in points.metadata:
        return points.metadata["boundary"]
    return "convex hull: faces touching it are hidden, and hull points' densities are biased low (--mask for surveys)"


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
    for key in ("box_size", "cosmology"):
        if meta.get(key) is not None:
            lines.append(f"{key:<14}{meta[key]}")
    if meta.get("redshift") is not None:
        lines.append(f"redshift      {format_redshift(meta['redshift'])}")
    if meta.get("redshift_space"):
        lines.append(f"redshift sp.  {meta['redshift_space']}")
    if meta.get("where"):
        lines.append(f"where         {' and '.join(meta['where'])}")
    periodic = "no"
    if tess.box_size is not None:
        periodic = f"periodic box {tess.box_size:g}"
        if "n_images" in tess.info:  # a block folder does not count them
            periodic += f", {tess.info['n_images']:,} image vertices"
    elif meta.get("box_size") is not None:
        periodic = f"no (the file states a box of {meta['box_size']:g}: add --periodic to wrap it)"
    lines += [
        f"periodic      {periodic}",
        f"engine        {tess.info.get('engine', 'scipy')}",
        f"tetrahedra    {len(tess.tetrahedra):,}  ({len(tess.tetrahedra) / n:.2f} per point)",
        f"faces         {len(tess.faces):,}  ({len(tess.faces) / n:.2f} per point)",
        f"duplicates    {tess.info.get('n_duplicates', 0):,} (merged into their kept twin)",
        f"hull points   {np.count_nonzero(tess.hull[: tess.n_primary]):,}  "
        f"({np.mean(tess.hull[: tess.n_primary]):.2%} of points)",
        f"boundary      {boundary(points, tess)}",
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
