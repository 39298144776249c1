"""Cost of ``--color-by``: a frame with a field against the same frame by density alone.

The field adds one varying and a product per fragment (the FIELD shader variant), a
per-vertex float, and a third channel read in the tone map. Frames at 1280x720 of 1e5
clustered points (and of the real 262,144-particle snapshot with its velocity divergence
when ../shared/data is present) are timed interleaved, so the ratio is meaningful on a
shared machine; CPU time is what counts on llvmpipe.

    python -m benchmarks.bench_color_by [--points 1e5] [--repeat 7] [--no-real]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.bench_render import SIZE, clustered
from benchmarks.timing import interleaved, median, paired_ratios, print_table
from delvol.geometry.fields import FieldCache, FieldSpec
from delvol.geometry.store import cached_tessellate
from delvol.io import LoadOptions, load_points
from delvol.render.camera import Camera
from delvol.render.context import create_offscreen_context
from delvol.render.passes import FloatTarget
from delvol.render.renderer import Renderer
from delvol.render.settings import RenderSettings

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "nbody" / "mini_n64_l32_z0_particles.hdf5"


def compare(ctx, label: str, tess, field: np.ndarray, repeat: int) -> list[str]:
    """Time full frames (accumulate, tone map, finish) with and without the field."""
    renderer = Renderer(ctx, RenderSettings(window=(0.0, 1.0), field_window=(-1.0, 1.0)))
    renderer.set_tessellation(tess)
    camera = Camera()
    camera.fit(*tess.bounds, aspect=SIZE[0] / SIZE[1])
    vp = camera.view_projection(SIZE[0] / SIZE[1])
    target = FloatTarget(ctx, SIZE)

    def frame(values):
        def run():
            renderer.set_field(values, "f")
            renderer.render(target.fbo, vp)
            ctx.finish()

        return run

    frame(field)()  # warm-up: both shader variants compiled
    frame(None)()
    times = interleaved({"density": frame(None), "field": frame(field)}, repeat)
    target.release()
    renderer.release()
    ratio = median(paired_ratios(times.cpu["field"], times.cpu["density"]))
    return [label, f"{median(times.cpu['density']):.3f}", f"{median(times.cpu['field']):.3f}", f"{ratio:.3f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=float, default=1e5)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-real", action="store_true")
    args = parser.parse_args()
    ctx = create_offscreen_context()
    rows = []
    points = clustered(int(args.points))
    tess = cached_tessellate(points)
    rows.append(compare(ctx, f"{int(args.points):,} clustered, f = x", tess, tess.points[:, 0], args.repeat))
    if REAL.is_file() and not args.no_real:
        real = load_points(REAL, LoadOptions(fields=("vel",)))
        tess = cached_tessellate(real.positions, periodic=32.0)
        spec = FieldSpec("vel", derived="divergence")
        values = FieldCache(tess, real.fields, real.metadata).vertex_values(spec)
        rows.append(compare(ctx, "Abacus 262,144, vel:divergence", tess, values, args.repeat))
    print(f"frames of {SIZE[0]}x{SIZE[1]}, CPU seconds (median of {args.repeat} interleaved rounds)")
    print_table(["scene", "density", "with field", "ratio"], rows)
    ctx.release()


if __name__ == "__main__":
    main()
