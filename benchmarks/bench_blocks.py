"""Blocked builds on Dask: speed-up with workers, ghost overhead by block count, peak memory.

``python -m benchmarks.bench_blocks speedup --sizes 1e6 4e6``
    Wall time of a blocked build (two blocks) on a LocalCluster of 2 worker processes
    against 1, and against a plain single run, interleaved round by round. The cluster is
    started before the clock runs; the time covers partition, blocks and assembly.
``python -m benchmarks.bench_blocks ghosts --size 2e5 --blocks 2 4 8 16 27``
    Ghost points per core point, shell rounds, and the blocks' summed build time against
    a single run's, with the blocks run one after another in this process.
``python -m benchmarks.bench_blocks memory --size 1.2e6 --blocks 8 [--engine scipy]``
    The largest single process's peak resident memory during a blocked build written to
    a block folder (the driver, or any worker), against a single run's, each in a fresh
    process.
``python -m benchmarks.bench_blocks grid --size 2e5 --shape 256 --blocks 8``
    The client's peak memory while a blocked density grid is written to a ``.npy``
    through a memory map, block by block (as ``delvol grid --blocks`` does), against
    filling the grid in memory and saving it; each in a fresh process, the peak counted
    from after the blocks are built (the cluster, the points and the per-point arrays
    are the same in both). Beside them, the time and peak of sampling the same blocks
    written to a folder by rasterising their tetrahedra (``delvol grid DIR/``, here and on
    the workers), and the blocked grid's time over the folder's.
``python -m benchmarks.bench_blocks large --size 4e7 --blocks 32 --points big.npy --out big/``
    One out-of-core run: the clustered set is made (or reused from ``--points``) and
    built block by block into the folder ``--out``, as ``delvol tessellate --blocks -o
    DIR/`` does; prints the wall time by stage, the driver's and the largest worker's
    peak memory, and the ghost points per core point.
``python -m benchmarks.bench_blocks folder-render --size 1e6 --blocks 16 --frame 1280x720``
    One block folder rendered three ways, each in a fresh process: assembled (as a folder
    that fits is), block by block in the process (as a larger one is), and on a
    LocalCluster of ``--workers``, tree-summed. Prints each one's peak memory (the
    process's; the workers' are not counted) and wall time, and the largest pixel
    difference from the assembled image.

All point sets are the clustered (Soneira–Peebles) sets of :mod:`benchmarks.pointsets`,
the same script that makes the 4e7-point set. Runs over ~3 GB go under
``flock /tmp/delvol-heavy.lock``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.pointsets import soneira_peebles


def _single(points: np.ndarray) -> float:
    from delvol.geometry import tessellate

    start = time.perf_counter()
    tessellate(points)
    return time.perf_counter() - start


def _blocked(points: np.ndarray, runner, blocks: int) -> float:
    from delvol.blocks import tessellate_blocks

    start = time.perf_counter()
    tessellate_blocks(points, blocks=blocks, runner=runner)
    return time.perf_counter() - start


def speedup(sizes: list[float], rounds: int, blocks: int) -> None:
    from delvol.blocks.cluster import dask_runner

    for size in sizes:
        points = soneira_peebles(int(size))
        times: dict[str, list[float]] = {"single": [], "workers 1": [], "workers 2": []}
        for r in range(rounds):
            order = ["single", "workers 1", "workers 2"]
            order = order[r % 3 :] + order[: r % 3]
            for name in order:
                if name == "single":
                    times[name].append(_single(points))
                else:
                    with dask_runner(workers=int(name[-1])) as runner:
                        times[name].append(_blocked(points, runner, blocks))
                print(f"  {size:.0e} {name}: {times[name][-1]:.1f} s", file=sys.stderr, flush=True)
        med = {k: float(np.median(v)) for k, v in times.items()}
        print(
            json.dumps(
                {
                    "points": int(size),
                    "blocks": blocks,
                    "seconds": med,
                    "speedup_2_over_1_workers": med["workers 1"] / med["workers 2"],
                    "speedup_2_workers_over_single": med["single"] / med["workers 2"],
                }
            ),
            flush=True,
        )


def ghosts(size: float, block_counts: list[int]) -> None:
    from delvol.blocks.build import build_block
    from delvol.blocks.run import SerialRunner, job_folder, prepare_job

    points = soneira_peebles(int(size))
    single = _single(points)
    for blocks in block_counts:
        with job_folder() as folder:
            job, *_ = prepare_job(points, None, blocks, folder)
            stats = [r.stats for r in SerialRunner().map(build_block, job, list(range(blocks)))]
        print(
            json.dumps(
                {
                    "points": int(size),
                    "blocks": blocks,
                    "ghost_per_core": sum(s["n_ghost"] for s in stats) / len(points),
                    "regrown": sum(s["rounds"] > 1 for s in stats),
                    "max_rounds": max(s["rounds"] for s in stats),
                    "block_seconds_over_single": sum(s["seconds"] for s in stats) / single,
                }
            ),
            flush=True,
        )


def _peak_mb() -> float:
    from delvol.memory import peak_rss

    return peak_rss() / 2**20


def _memory_child(mode: str, path: str, blocks: int, workers: int, engine: str) -> None:
    """In a fresh process: one build; print this process's (and the workers') peaks."""
    points = np.load(path)
    if mode == "single":
        from delvol.geometry import tessellate

        tessellate(points, engine=engine)
        print(json.dumps({"peak_mb": _peak_mb()}))
        return
    from delvol.blocks.cluster import dask_runner
    from delvol.blocks.run import job_folder, job_info, prepare_job
    from delvol.blocks.store import read_index, write_blocks

    with dask_runner(workers=workers) as runner, job_folder() as folder, tempfile.TemporaryDirectory() as out:
        job, pts, m, lower = prepare_job(points, None, blocks, folder, engine=engine)
        write_blocks(Path(out) / "blocks", runner, job, pts, m, box_size=None, box_lower=lower, info=job_info(job))
        stats = read_index(Path(out) / "blocks")["blocks"]
    workers_mb = [s["peak_rss_mb"] for s in stats]
    print(json.dumps({"driver_peak_mb": _peak_mb(), "worker_peak_mb": max(workers_mb)}))


def _children(what: str, modes: tuple[str, ...], size: float, *args: object) -> dict[str, dict]:
    """Run ``_WHAT MODE POINTS ARGS...`` in a fresh process for each mode, on one clustered set; their JSON by mode."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.npy"
        np.save(path, soneira_peebles(int(size)))
        results = {}
        for mode in modes:
            child = [sys.executable, "-m", "benchmarks.bench_blocks", f"_{what}", mode, str(path), *map(str, args)]
            out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
    return results


def memory(size: float, blocks: int, workers: int, engine: str) -> None:
    results = _children("memory", ("single", "blocked"), size, blocks, workers, engine)
    largest = max(results["blocked"]["driver_peak_mb"], results["blocked"]["worker_peak_mb"])
    print(
        json.dumps(
            {
                "points": int(size),
                "blocks": blocks,
                "engine": engine,
                "single_peak_mb": results["single"]["peak_mb"],
                **results["blocked"],
                "largest_process_over_single": largest / results["single"]["peak_mb"],
            }
        ),
        flush=True,
    )


def _grid_child(mode: str, path: str, shape: int, blocks: int, workers: int) -> None:
    """In a fresh process: build the blocks, then write the grid one way; print the added peak and the time.

    ``memory`` and ``memmap``: :func:`blocked_grid` on the built scene (each block
    re-tessellated on a worker), into memory and saved, or through a memory map.
    ``folder`` and ``folder-dask``: the blocks written to a block folder, then
    :func:`folder_grid` rasterising its tetrahedra into a memory map, in this process or on
    the workers (``delvol grid DIR/`` without and with ``--workers``).
    """
    from delvol.blocks.cluster import dask_runner
    from delvol.blocks.run import prepared_job

    grid = (shape, shape, shape)
    out = Path(path).with_suffix(f".{mode}.npy")
    with dask_runner(workers=workers) as runner, prepared_job(np.load(path), None, blocks) as prepared:
        if mode.startswith("folder"):
            from delvol.blocks.folder_grid import BlockFolder, folder_grid
            from delvol.blocks.run import job_info
            from delvol.blocks.store import write_blocks

            job, pts, m, lower = prepared
            where = Path(path).with_suffix(".blocks")
            if not where.exists():
                write_blocks(where, runner, job, pts, m, box_size=None, box_lower=lower, info=job_info(job))
            folder = BlockFolder.open(where)
            on = runner if mode == "folder-dask" else None
            print(json.dumps(_timed(out, grid, lambda field: folder_grid(folder, grid, *folder.bounds, field, on))))
            return
        from delvol.blocks.grid import blocked_grid
        from delvol.blocks.render import blocked_scene

        with blocked_scene(runner, prepared) as scene:
            if mode == "memmap":
                measured = _timed(out, grid, lambda field: blocked_grid(scene, grid, *scene.bounds, out=field))
            else:
                measured = _timed(out, grid, None, lambda: blocked_grid(scene, grid, *scene.bounds))
    print(json.dumps(measured))


def _timed(out: Path, grid: tuple[int, int, int], fill, make=None) -> dict:
    """Write the grid to ``out`` (``fill`` a memory map, or save what ``make`` returns); the added peak and time."""
    from benchmarks.peak_rss import _reset_peak, _status_kb
    from delvol.atomic import atomic_npy, atomic_path

    if not _reset_peak():
        raise SystemExit("cannot reset the peak (/proc/self/clear_refs)")
    base = _status_kb("VmRSS")
    start = time.perf_counter()
    if make is None:
        with atomic_npy(out, grid) as field:
            fill(field)
    else:
        field = make()
        with atomic_path(out) as tmp:
            np.save(tmp, field)
    seconds = time.perf_counter() - start
    added = (_status_kb("VmHWM") - base) / 1024
    checksum = float(np.nansum(np.load(out, mmap_mode="r")))
    out.unlink()
    return {"added_peak_mb": added, "base_mb": base / 1024, "seconds": seconds, "nansum": checksum}


def grid(size: float, shape: int, blocks: int, workers: int) -> None:
    modes = ("memory", "memmap", "folder", "folder-dask")
    results = _children("grid", modes, size, shape, blocks, workers)
    grid_mb = 8 * shape**3 / 2**20
    blocked = results["memmap"]["seconds"]
    print(
        json.dumps(
            {
                "points": int(size),
                "shape": shape,
                "blocks": blocks,
                "grid_mb": grid_mb,
                "block_samples_mb": 16 * shape**3 / blocks / 2**20,
                **results,
                "memmap_over_memory": results["memmap"]["added_peak_mb"] / results["memory"]["added_peak_mb"],
                "blocked_seconds_over_folder": blocked / results["folder"]["seconds"],
                "blocked_seconds_over_folder_dask": blocked / results["folder-dask"]["seconds"],
            }
        ),
        flush=True,
    )


def large(size: float, blocks: int, workers: int, points: str, out: str) -> None:
    if not Path(points).exists():
        np.save(points, soneira_peebles(int(size)))
    child = [sys.executable, "-m", "benchmarks.bench_blocks", "_large", points, out, str(blocks), str(workers)]
    print(subprocess.run(child, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1], flush=True)


def _large_child(points_path: str, out: str, blocks: int, workers: int) -> None:
    from delvol.blocks.cluster import dask_runner
    from delvol.blocks.run import job_folder, job_info, prepare_job
    from delvol.blocks.store import write_blocks

    seconds = {}
    start = time.perf_counter()
    points = np.load(points_path)
    with dask_runner(workers=workers) as runner, job_folder(Path(out).parent) as folder:
        job, pts, m, lower = prepare_job(points, None, blocks, folder)
        seconds["partition"] = time.perf_counter() - start
        index = write_blocks(out, runner, job, pts, m, box_size=None, box_lower=lower, info=job_info(job))
        seconds["blocks"] = time.perf_counter() - start - seconds["partition"]
    entries = index["blocks"]
    print(
        json.dumps(
            {
                "points": len(points),
                "blocks": blocks,
                "workers": workers,
                "engine": job.engine,
                "seconds": seconds,
                "driver_peak_mb": _peak_mb(),
                "worker_peak_mb": max(e["peak_rss_mb"] for e in entries),
                "ghost_per_core": sum(e["n_ghost"] for e in entries) / len(points),
                "max_rounds": max(e["rounds"] for e in entries),
                "n_tetrahedra": sum(e["n_tetrahedra"] for e in entries),
                "n_faces": sum(e["n_faces"] for e in entries),
            }
        ),
        flush=True,
    )


def folder_render(size: float, blocks: int, workers: int, frame: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        from delvol.blocks.run import SerialRunner, job_folder, job_info, prepare_job
        from delvol.blocks.store import write_blocks

        with job_folder(Path(tmp) / "work") as work:
            job, pts, m, lower = prepare_job(soneira_peebles(int(size)), None, blocks, work)
            write_blocks(Path(tmp) / "blocks", SerialRunner(), job, pts, m, box_size=None, box_lower=lower,
                         info=job_info(job))  # fmt: skip
        results = {}
        for mode in ("assembled", "in_process", "dask"):
            child = [sys.executable, "-m", "benchmarks.bench_blocks", "_folder_render", mode, tmp, frame, str(workers)]
            out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
        reference = np.load(Path(tmp) / "assembled.npy").astype(int)
        for mode in ("in_process", "dask"):
            results[mode]["max_pixel_difference"] = int(np.abs(np.load(Path(tmp) / f"{mode}.npy") - reference).max())
            results[mode]["peak_over_assembled"] = results[mode]["peak_mb"] / results["assembled"]["peak_mb"]
    print(json.dumps({"points": int(size), "blocks": blocks, "frame": frame, **results}), flush=True)


def _folder_render_child(mode: str, tmp: str, frame: str, workers: int) -> None:
    """In a fresh process: render the folder one way; print the peak and the time, save the image."""
    import delvol.gl.build
    from delvol.geometry.options import TessellationOptions
    from delvol.gl.build import render_scene
    from delvol.scene.description import Scene

    size = tuple(int(v) for v in frame.split("x"))
    scene = Scene(Path(tmp) / "blocks")
    if mode == "dask":
        scene = Scene(Path(tmp) / "blocks", tessellation=TessellationOptions(workers=workers))
    elif mode == "in_process":
        delvol.gl.build.DEFAULT_FACE_BUDGET = 0  # as a folder too large to assemble
    start = time.perf_counter()
    picture = render_scene(scene, (size[0], size[1]))
    seconds = time.perf_counter() - start
    np.save(Path(tmp) / f"{mode}.npy", picture.image)
    print(json.dumps({"peak_mb": _peak_mb(), "seconds": seconds, "faces": picture.n_faces}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("speedup")
    p.add_argument("--sizes", type=float, nargs="+", default=[1e6, 4e6])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--blocks", type=int, default=2)
    p = sub.add_parser("ghosts")
    p.add_argument("--size", type=float, default=2e5)
    p.add_argument("--blocks", type=int, nargs="+", default=[2, 4, 8, 16, 27])
    p = sub.add_parser("memory")
    p.add_argument("--size", type=float, default=1.2e6)
    p.add_argument("--blocks", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--engine", default="auto", help="Delaunay engine of both runs (auto: the fastest installed)")
    p = sub.add_parser("grid")
    p.add_argument("--size", type=float, default=2e5)
    p.add_argument("--shape", type=int, default=256)
    p.add_argument("--blocks", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p = sub.add_parser("_grid")
    p.add_argument("mode")
    p.add_argument("path")
    p.add_argument("shape", type=int)
    p.add_argument("blocks", type=int)
    p.add_argument("workers", type=int)
    p = sub.add_parser("large")
    p.add_argument("--size", type=float, default=4e7)
    p.add_argument("--blocks", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--points", required=True, help="the point set's .npy (made if missing)")
    p.add_argument("--out", required=True, help="the block folder to write")
    p = sub.add_parser("_large")
    p.add_argument("points")
    p.add_argument("out")
    p.add_argument("blocks", type=int)
    p.add_argument("workers", type=int)
    p = sub.add_parser("folder-render")
    p.add_argument("--size", type=float, default=1e6)
    p.add_argument("--blocks", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--frame", default="1280x720")
    p = sub.add_parser("_folder_render")
    p.add_argument("mode")
    p.add_argument("tmp")
    p.add_argument("frame")
    p.add_argument("workers", type=int)
    p = sub.add_parser("_memory")
    p.add_argument("mode")
    p.add_argument("path")
    p.add_argument("blocks", type=int)
    p.add_argument("workers", type=int)
    p.add_argument("engine")
    args = parser.parse_args()
    if args.what == "speedup":
        speedup(args.sizes, args.rounds, args.blocks)
    elif args.what == "ghosts":
        ghosts(args.size, args.blocks)
    elif args.what == "memory":
        memory(args.size, args.blocks, args.workers, args.engine)
    elif args.what == "grid":
        grid(args.size, args.shape, args.blocks, args.workers)
    elif args.what == "_grid":
        _grid_child(args.mode, args.path, args.shape, args.blocks, args.workers)
    elif args.what == "large":
        large(args.size, args.blocks, args.workers, args.points, args.out)
    elif args.what == "_large":
        _large_child(args.points, args.out, args.blocks, args.workers)
    elif args.what == "folder-render":
        folder_render(args.size, args.blocks, args.workers, args.frame)
    elif args.what == "_folder_render":
        _folder_render_child(args.mode, args.tmp, args.frame, args.workers)
    else:
        _memory_child(args.mode, args.path, args.blocks, args.workers, args.engine)


if __name__ == "__main__":
    main()
