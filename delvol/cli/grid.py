"""``delvol grid FILE --shape 128 -o field.npy``: the DTFE field on a regular grid."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from delvol.atomic import atomic_path
from delvol.cli.block_options import add_block_arguments, check_block_arguments
from delvol.cli.common import add_input_arguments, input_errors, load_and_tessellate, load_options, periodic_size
from delvol.errors import DelvolError
from delvol.geometry.interpolate import density_grid
from delvol.io import load_points
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grid", help="sample the DTFE density on a regular grid (NaN outside the hull)")
    add_input_arguments(p)
    p.add_argument(
        "--shape",
        type=int,
        nargs="+",
        default=[128],
        metavar="N",
        help="cells per axis: one number, or three (default 128)",
    )
    p.add_argument(
        "--extent",
        type=float,
        nargs=6,
        metavar=("X0", "Y0", "Z0", "X1", "Y1", "Z1"),
        help="grid corners (default: the periodic box, or the data bounds)",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT.npy", help="output .npy file")
    add_block_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if len(args.shape) not in (1, 3) or min(args.shape) < 1:
        raise DelvolError(f"--shape takes one or three positive integers, got {' '.join(map(str, args.shape))}")
    shape = tuple(args.shape * 3 if len(args.shape) == 1 else args.shape)
    if args.extent is not None and not np.all(np.array(args.extent[:3]) < np.array(args.extent[3:])):
        raise DelvolError("--extent needs X0 < X1, Y0 < Y1 and Z0 < Z1")
    check_block_arguments(args)
    log = StageLog()
    if args.blocks is not None:
        field, lower, upper = _blocked_field(args, shape, log)
    else:
        _, tess = load_and_tessellate(args, log)
        lower, upper = _extent(args, tess)
        with log.stage("interpolate"):
            field = density_grid(tess, shape, lower, upper)
    with atomic_path(args.output, suffix=".npy") as tmp:
        np.save(tmp, field)
    print(
        f"wrote {args.output}: shape {shape}, extent {lower.tolist()} to {upper.tolist()}, "
        f"{np.isnan(field).mean():.1%} outside the hull",
        file=sys.stderr,
    )
    return 0


def _extent(args: argparse.Namespace, tess) -> tuple[np.ndarray, np.ndarray]:
    if args.extent is not None:
        return np.array(args.extent[:3]), np.array(args.extent[3:])
    return tess.bounds


def _blocked_field(args: argparse.Namespace, shape: tuple[int, int, int], log: StageLog):
    """Build in blocks on Dask and sample each block's share of the grid on its worker."""
    from delvol.blocks.grid import blocked_grid
    from delvol.blocks.render import blocked_scene
    from delvol.cli.block_options import block_runner, n_blocks

    with log.stage("read"):
        points = load_points(args.file, load_options(args))
    with block_runner(args, log) as runner, input_errors(args):
        with blocked_scene(
            runner,
            points.positions,
            points.masses,
            n_blocks(args, len(points), runner),
            periodic=periodic_size(args, points),
            padding=args.padding,
            log=log,
        ) as scene:
            lower, upper = _extent(args, scene)
            with log.stage("interpolate"):
                return blocked_grid(scene, shape, lower, upper), lower, upper
