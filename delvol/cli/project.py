"""``delvol project FILE --axis z --size 512 -o map.fits``: the exact surface density."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from delvol.cli.common import add_field_arguments, add_input_arguments, check_output, input_scene
from delvol.cli.dataclass_args import add_options, from_args, with_flags
from delvol.errors import DelvolError
from delvol.io.maps import MAP_SUFFIXES, field_map_path
from delvol.progress import StageLog
from delvol.scene.projection import ProjectionOptions


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("project", help="the exact DTFE surface density along an axis, as FITS or .npy")
    add_input_arguments(p)
    add_options(p, ProjectionOptions, "map")
    add_field_arguments(p, "also map this field's density-weighted mean along the line of sight")
    p.add_argument("-o", "--output", required=True, metavar="MAP.fits", help="output .fits or .npy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from delvol.gl.projection import project_scene

    if Path(args.output).suffix.lower() not in MAP_SUFFIXES:
        raise DelvolError("the output must be a .fits or .npy file", args.output)
    try:
        options = from_args(ProjectionOptions, args)
    except ValueError as exc:
        raise DelvolError(with_flags(str(exc), [ProjectionOptions])) from exc
    check_output(args.output)
    if Path(args.output).suffix.lower() == ".npy":
        for spec in args.field:
            check_output(field_map_path(args.output, str(spec)))
    try:
        result = project_scene(input_scene(args), options, StageLog(), fields=args.field)
    except ValueError as exc:
        if isinstance(exc, DelvolError):
            raise
        raise DelvolError(f"--field: {exc}", args.file) from exc
    result.save(args.output, Path(args.file).name)
    columns, rows = options.size
    print(
        f"wrote {args.output}: {columns}x{rows} along {options.axis}, "
        f"extent {' '.join(f'{e:g}' for e in result.extent)}, "
        f"mass in the map {result.mass:.6g} (points: {result.points_mass:.6g})"
        + "".join(f", {name} map" for name in result.fields),
        file=sys.stderr,
    )
    return 0
