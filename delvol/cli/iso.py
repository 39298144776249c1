"""``delvol iso FILE --level L -o halo.obj``: isodensity surfaces as Wavefront .obj."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from delvol.cli.common import add_input_arguments, check_output, load_and_tessellate
from delvol.cli.dataclass_args import argument_type
from delvol.errors import DelvolError
from delvol.geometry.isosurface import boundary_edges, density_isosurfaces, merge_surfaces
from delvol.io.obj import save_obj
from delvol.progress import StageLog
from delvol.scene.settings import parse_levels


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("iso", help="isodensity surfaces of the DTFE field, as a Wavefront .obj")
    add_input_arguments(p)
    p.add_argument(
        "--level", type=argument_type(parse_levels), required=True, metavar="L[,L...]", help="densities of the surfaces"
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT.obj", help="output .obj (one object per level)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if Path(args.output).suffix.lower() != ".obj":
        raise DelvolError("the output must be a .obj file", args.output)
    check_output(args.output)
    log = StageLog()
    _, tess = load_and_tessellate(args, log)
    with log.stage("marching tetrahedra"):
        surfaces = density_isosurfaces(tess, args.level)
    merged = merge_surfaces(surfaces)
    note = "\n".join(f"level {lv:g}: {len(s.triangles)} triangles" for lv, s in zip(args.level, surfaces, strict=True))
    save_obj(args.output, merged.vertices, merged.triangles, merged.normals, f"delvol iso {args.file}\n{note}")
    open_edges = len(boundary_edges(merged.triangles)) if len(merged.triangles) else 0
    print(
        f"wrote {args.output}: {len(merged.triangles):,} triangles at {len(args.level)} level(s), "
        f"{open_edges} open edges (at the hull)",
        file=sys.stderr,
    )
    return 0
