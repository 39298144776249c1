"""``delvol grid FILE --shape 128 -o field.npy``: the DTFE field on a regular grid."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from delvol.atomic import atomic_path
from delvol.cli.common import add_input_arguments, check_output, load_and_tessellate
from delvol.errors import DelvolError
from delvol.geometry.interpolate import density_grid
from delvol.memory import require_memory
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if len(args.shape) not in (1, 3) or min(args.shape) < 1:
        raise DelvolError(f"--shape takes one or three positive integers, got {' '.join(map(str, args.shape))}")
    shape = tuple(args.shape * 3 if len(args.shape) == 1 else args.shape)
    if args.extent is not None and not np.all(np.array(args.extent[:3]) < np.array(args.extent[3:])):
        raise DelvolError("--extent needs X0 < X1, Y0 < Y1 and Z0 < Z1")
    # The float64 field, plus as much again for the interpolation's per-cell work arrays.
    require_memory(2 * 8 * float(np.prod(shape, dtype=np.float64)), f"a {'x'.join(map(str, shape))} grid")
    check_output(args.output)
    log = StageLog()
    _, tess = load_and_tessellate(args, log)
    lower, upper = tess.bounds
    if args.extent is not None:
        lower, upper = np.array(args.extent[:3]), np.array(args.extent[3:])
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
