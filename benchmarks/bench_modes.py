"""Frame times of the three volume modes side by side, and the opacity mode's sort.

For each N (1e5 and 2.6e5 clustered points by default) it times complete frames of
``faces``, ``integral`` and ``opacity`` (accumulation, tone map, finished), interleaved
round by round so that the ratios see the same machine load, and the opacity mode's
visibility sort alone (power distances and argsort of every tetrahedron). Wall times on
a shared machine swing with its load: the ratios, taken within a round, do not, and the
process CPU time (llvmpipe's threads included) is the work done. Goals:
``integral`` <= 2.5x ``faces``, and an exact ``opacity`` frame (re-sort and draw) of
1e5 points <= 2 s on llvmpipe.

    python -m benchmarks.bench_modes [--sizes 1e5 2.6e5] [--repeat 3] [--size 960x540]
"""

from __future__ import annotations

import argparse

from benchmarks.pointsets import soneira_peebles
from benchmarks.timing import interleaved, median, paired_ratios, print_table, verdict
from delvol.geometry import tessellate
from delvol.gl.context import create_offscreen_context
from delvol.gl.passes import FloatTarget
from delvol.gl.renderer import Renderer
from delvol.scene.camera import Camera
from delvol.scene.settings import MODES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e5, 2.6e5])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", default="960x540", help="frame WxH (default 960x540)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    ctx = create_offscreen_context()
    print(f"GL renderer: {ctx.info['GL_RENDERER']}, frame {size[0]}x{size[1]}, {args.repeat} rounds")
    rows = []
    for n in (int(v) for v in args.sizes):
        tess = tessellate(soneira_peebles(n))
        renderers = {mode: Renderer(ctx) for mode in MODES}
        target = FloatTarget(ctx, size)
        camera = Camera()
        camera.fit(*tess.bounds, size[0] / size[1])
        vp = camera.view_projection(size[0] / size[1])
        for mode, renderer in renderers.items():
            renderer.settings.mode = mode
            renderer.set_tessellation(tess)
            renderer.render(target.fbo, vp)  # warm-up: uploads, shader compilation, the window
            ctx.finish()

        def frame(renderer: Renderer, fbo=target.fbo, vp=vp) -> None:
            renderer.render(fbo, vp)
            ctx.finish()

        times = interleaved({mode: (lambda r=r: frame(r)) for mode, r in renderers.items()}, args.repeat)
        tetra = renderers["opacity"].tetra
        sorts = []
        for _ in range(args.repeat):
            frame(renderers["opacity"])
            sorts.append(tetra.sort_seconds)
        ratio = median(paired_ratios(times.wall["integral"], times.wall["faces"]))
        opacity_ratio = median(paired_ratios(times.wall["opacity"], times.wall["faces"]))
        opacity = median(times.wall["opacity"])
        rows.append(
            [
                f"{n:,}",
                f"{tetra.n_tets:,}",
                *(f"{median(times.wall[m]) * 1e3:.0f}" for m in MODES),
                f"{median(sorts) * 1e3:.0f}",
                f"{ratio:.2f} {verdict(ratio <= 2.5)}",
                f"{opacity_ratio:.2f}",
                f"{median(times.cpu['opacity']):.2f} s",
                f"{opacity:.2f} s" + (f" {verdict(opacity <= 2.0)}" if n == 100_000 else ""),
            ]
        )
        for renderer in renderers.values():
            renderer.release()
        target.release()
    print_table(
        [
            "N",
            "tetrahedra",
            "faces ms",
            "integral ms",
            "opacity ms",
            "sort ms",
            "integral/faces",
            "opacity/faces",
            "opacity CPU",
            "exact opacity",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
