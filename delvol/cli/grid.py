"""``delvol grid FILE --shape 128 -o field.npy``: the DTFE density, or any field, on a regular grid."""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext

import numpy as np

from delvol.atomic import atomic_npy, atomic_path
from delvol.cli.common import add_input_arguments, check_output, input_scene
from delvol.cli.dataclass_args import argument_type
from delvol.errors import DelvolError
from delvol.geometry import Tessellation
from delvol.geometry.fields import DERIVED, WEIGHTINGS, FieldSpec, field_grid
from delvol.geometry.interpolate import density_grid
from delvol.memory import in_slabs, require_memory
from delvol.progress import StageLog
from delvol.scene.description import Scene


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grid", help="sample the DTFE density or a field on a regular grid (NaN outside the hull)")
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
    p.add_argument(
        "--field",
        type=argument_type(FieldSpec.parse),
        metavar="NAME",
        help="sample this per-point field instead of the density: vel, u, temperature or any column "
        "(NAME:x picks a component, NAME:divergence a derived quantity)",
    )
    p.add_argument(
        "--derived",
        choices=[d.replace("_", "-") for d in DERIVED],
        help="a quantity from the field's gradient (vector fields such as vel); vectors and tensors "
        "put their components last",
    )
    p.add_argument(
        "--weighting",
        choices=WEIGHTINGS,
        default="volume",
        help="volume: the linear DTFE interpolation (default); mass: that of rho*f over that of rho",
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT.npy", help="output .npy file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if len(args.shape) not in (1, 3) or min(args.shape) < 1:
        raise DelvolError(f"--shape takes one or three positive integers, got {' '.join(map(str, args.shape))}")
    shape = tuple(args.shape * 3 if len(args.shape) == 1 else args.shape)
    if args.extent is not None and not np.all(np.array(args.extent[:3]) < np.array(args.extent[3:])):
        raise DelvolError("--extent needs X0 < X1, Y0 < Y1 and Z0 < Z1")
    spec = args.field
    if args.derived is not None:
        if spec is None or spec.derived is not None:
            raise DelvolError("--derived needs --field NAME (a plain field name, such as vel)")
        spec = FieldSpec(spec.name, derived=args.derived.replace("-", "_"), component=spec.component)
    if spec is not None and spec.derived is not None and args.weighting != "volume":
        raise DelvolError("derived quantities are gradients of the volume-weighted field: drop --weighting mass")
    if spec is None and args.weighting != "volume":
        raise DelvolError("--weighting applies to --field; the density has no weighting")
    args.field = [spec] if spec is not None else []
    check_output(args.output)
    log = StageLog()
    scene = input_scene(args)
    if scene.block_folder is not None:
        if spec is not None:
            raise DelvolError(
                "--field: a block folder holds no fields (tessellate -o DIR/ writes the density only); "
                "grid the point file instead",
                args.file,
            )
        scene.check_folder_options()
        lower, upper, outside = _folder_density(args, scene, shape, log)
        written = shape
    elif scene.tessellation.blocks is not None and spec is None:
        lower, upper, outside = _blocked_density(args, scene, shape, log)
        written = shape
    else:
        # The float64 field, plus as much again for the interpolation's per-cell work arrays.
        require_memory(2 * 8 * float(np.prod(shape, dtype=np.float64)), f"a {'x'.join(map(str, shape))} grid")
        # A field needs every point's gradient at once: the blocks are assembled first.
        points, tess = scene.read(log)
        lower, upper = _extent(args, tess)
        with log.stage("interpolate"):
            if spec is None:
                field = density_grid(tess, shape, lower, upper)
            else:
                field = grid_of(spec, points.fields[spec.name], tess, shape, lower, upper, args.weighting)
        with atomic_path(args.output, suffix=".npy") as tmp:
            np.save(tmp, field)
        outside, written = _outside(field), field.shape
    what = "density" if spec is None else str(spec)
    print(
        f"wrote {args.output}: {what}, shape {written}, extent {lower.tolist()} to {upper.tolist()}, "
        f"{outside:.1%} outside the hull",
        file=sys.stderr,
    )
    return 0


def grid_of(
    spec: FieldSpec,
    values: np.ndarray,
    tess: Tessellation,
    shape: tuple[int, int, int],
    lower: np.ndarray,
    upper: np.ndarray,
    weighting: str,
) -> np.ndarray:
    """A field spec on the grid, with a one-line error for a field that cannot give it."""
    try:
        return field_grid(tess, spec.component_of(values), shape, lower, upper, weighting, spec.derived)
    except ValueError as exc:
        raise DelvolError(f"{spec}: {exc}") from exc


def _extent(args: argparse.Namespace, tess) -> tuple[np.ndarray, np.ndarray]:
    """``--extent``, or the tessellation's bounds (the periodic box, or the data's)."""
    if args.extent is not None:
        return np.array(args.extent[:3]), np.array(args.extent[3:])
    return tess.bounds


def _outside(field: np.ndarray) -> float:
    """The fraction of cells outside the hull (NaN in any component), read a slab at a time."""
    inside = sum(int(np.isfinite(slab.reshape(*slab.shape[:3], -1)).all(axis=-1).sum()) for slab in in_slabs(field))
    return 1 - inside / float(np.prod(field.shape[:3], dtype=np.float64))


def _blocked_density(
    args: argparse.Namespace, scene: Scene, shape: tuple[int, int, int], log: StageLog
) -> tuple[np.ndarray, np.ndarray, float]:
    """Sample the density grid block by block on the workers (certified like the build) into the output.

    The output is written through a memory map, block by block, so the client holds about
    one block's samples, never the grid; its disk space is reserved before the build.
    Returns the extent and the fraction of cells outside the hull.
    """
    from delvol.blocks.grid import blocked_grid

    with atomic_npy(args.output, shape) as out, scene.built_blocks(log) as (_, blocked):
        lower, upper = _extent(args, blocked)
        with log.stage("interpolate"):
            blocked_grid(blocked, shape, lower, upper, out=out)
        return lower, upper, _outside(out)


def _folder_density(
    args: argparse.Namespace, scene: Scene, shape: tuple[int, int, int], log: StageLog
) -> tuple[np.ndarray, np.ndarray, float]:
    """Rasterise a block folder's tetrahedra into the output, block by block (on Dask with ``--workers``).

    The folder is checked before the output is opened; the output is a memory map whose
    pages are dropped as samples arrive. Returns the extent and the fraction of cells
    outside the hull.
    """
    from delvol.blocks.cluster import dask_runner
    from delvol.blocks.folder_grid import BlockFolder, folder_grid

    options = scene.tessellation
    with log.stage("read blocks"):
        folder = BlockFolder.open(args.file)
        lower, upper = _extent(args, folder)
    on_dask = options.workers is not None or options.scheduler is not None
    cluster = dask_runner(options.workers, options.scheduler, verbose=log.verbose) if on_dask else nullcontext()
    with atomic_npy(args.output, shape) as out, cluster as runner:
        with log.stage("interpolate"):
            folder_grid(folder, shape, lower, upper, out=out, runner=runner)
        return lower, upper, _outside(out)
