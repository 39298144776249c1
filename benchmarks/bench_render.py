"""Frame times of the Delaunay-volume renderer, headless, and the viewer's progressive detail.

For each N (1e4 and 1e5 clustered synthetic points, and the real 262,144-particle
snapshot when ../shared/data is present) it prints the upload time, the time of a
complete frame at 1280x720 (all faces accumulated, tone-mapped, finished), and the
triangles drawn per second. On llvmpipe these are CPU figures.

Then it drives the viewer as a user would at N = 1e5: 60 frames holding W (moving),
then frames until the full image is in, and checks the goals: at least 20 fps while
moving, and the full image within 2 s of stopping.

    python benchmarks/bench_render.py [--sizes 1e4 1e5] [--no-real] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from delvol.app.viewer import Viewer
from delvol.geometry.cache import cached_tessellate
from delvol.gl.context import create_offscreen_context
from delvol.gl.passes import FloatTarget
from delvol.gl.renderer import Renderer
from delvol.scene.camera import Camera

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "nbody" / "mini_n64_l32_z0_pos_float32.npy"
SIZE = (1280, 720)


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Half the points in 200 Gaussian halos of varied size, half uniform, in a 100-unit box."""
    rng = np.random.default_rng(seed)
    centres = rng.random((200, 3)) * 100
    sizes = rng.uniform(0.5, 4.0, 200)
    which = rng.integers(0, 200, n // 2)
    halos = centres[which] + rng.normal(size=(n // 2, 3)) * sizes[which, None]
    return np.mod(np.concatenate([halos, rng.random((n - n // 2, 3)) * 100]), 100)


def frame_times(ctx, renderer: Renderer, camera: Camera, repeat: int) -> tuple[list[float], list[float]]:
    """Seconds for complete frames, and for their accumulation alone."""
    target = FloatTarget(ctx, SIZE)
    vp = camera.view_projection(SIZE[0] / SIZE[1])
    renderer.render(target.fbo, vp)  # warm-up: shader compilation, first texture uploads
    ctx.finish()
    totals, draws = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        renderer.resize(SIZE)
        renderer.clear()
        renderer.accumulate(vp)
        ctx.finish()
        drawn = time.perf_counter()
        renderer.composite(target.fbo, vp)
        ctx.finish()
        totals.append(time.perf_counter() - start)
        draws.append(drawn - start)
    target.release()
    return totals, draws


def progressive(ctx, renderer: Renderer, camera: Camera, n_points: int) -> tuple[float, float, int]:
    """(fps while moving, seconds to the full image after stopping, frames it took)."""
    viewer = Viewer(renderer, camera, n_points, echo=lambda line: None)
    target = FloatTarget(ctx, SIZE)
    viewer.frame(target.fbo, 0.0)  # measures the machine's face rate once
    viewer.key("w", True)
    dt, times = 1 / 30, []
    for _ in range(60):
        start = time.perf_counter()
        viewer.frame(target.fbo, dt)
        ctx.finish()
        dt = time.perf_counter() - start
        times.append(dt)
    viewer.key("w", False)
    stopped, frames = time.perf_counter(), 0
    while viewer.progress.done < 1.0 or frames == 0:
        viewer.frame(target.fbo, 1 / 30)
        ctx.finish()
        frames += 1
    full = time.perf_counter() - stopped
    target.release()
    return 1 / statistics.median(times[10:]), full, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5])
    parser.add_argument("--no-real", action="store_true", help="skip the real snapshot")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ctx = create_offscreen_context()
    print(f"GL renderer: {ctx.info['GL_RENDERER']}, frame {SIZE[0]}x{SIZE[1]}")
    cases = [(f"clustered N={int(n):,}", clustered(int(n)), None) for n in args.sizes]
    if REAL.exists() and not args.no_real:
        cases.append(("Abacus snapshot N=262,144 (periodic)", np.load(REAL), 32.0))
    print(f"{'data':40s} {'faces':>10s} {'upload ms':>10s} {'frame ms':>9s} {'draw ms':>8s} {'Mtri/s':>7s}")
    for label, points, box in cases:
        tess = cached_tessellate(points, periodic=box)
        renderer = Renderer(ctx)
        start = time.perf_counter()
        renderer.set_tessellation(tess)
        ctx.finish()
        upload = time.perf_counter() - start
        camera = Camera()
        camera.fit(tess.points.min(axis=0), tess.points.max(axis=0), SIZE[0] / SIZE[1])
        totals, draws = frame_times(ctx, renderer, camera, args.repeat)
        frame, draw = statistics.median(totals), statistics.median(draws)
        faces = renderer.volume.n_inner + (renderer.volume.n_hull if not renderer.settings.hide_hull else 0)
        print(
            f"{label:40s} {faces:>10,d} {upload * 1e3:>10.0f} {frame * 1e3:>9.0f} {draw * 1e3:>8.0f} "
            f"{faces / draw / 1e6:>7.2f}"
        )
        if len(points) == 100_000:
            fps, full, frames = progressive(ctx, renderer, camera, len(points))
            verdict = "PASS" if fps >= 20 and full <= 2.0 else "FAIL"
            print(
                f"  progressive detail: {fps:.1f} fps while moving (goal >= 20), full image "
                f"{full:.2f} s after stopping in {frames} frames (goal <= 2 s): {verdict}"
            )
        renderer.release()


if __name__ == "__main__":
    main()
