"""Blocked builds from start to finish: partition, run the blocks, assemble or write them."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from delvol.blocks.assemble import PointArrays, assemble
from delvol.blocks.build import BlockResult, build_block
from delvol.blocks.job import Job, global_hull, write_cores
from delvol.blocks.layout import partition
from delvol.blocks.region import count_grid
from delvol.geometry.engines import resolve_engine
from delvol.geometry.periodic import box_lower_corner, wrap_into_box
from delvol.geometry.tessellation import Tessellation, _validate
from delvol.progress import QUIET, StageLog

BYTES_PER_POINT = 4000
"""Peak bytes per point of a block build: Qhull's ~2.4 kB, the arrays, a ghost shell's share."""
MIN_BLOCK_POINTS = 20_000  # below this a block's fixed costs (processes, files) dominate


class Runner(Protocol):
    """Runs block tasks somewhere: in this process, or on a Dask cluster."""

    @property
    def n_workers(self) -> int: ...

    def map(self, fn: Callable[..., Any], job: Job, blocks: list[int]) -> Iterator[Any]:
        """Run ``fn(job, block)`` for every block; yield the results as they finish."""
        ...


class SerialRunner:
    """Runs the blocks one after another in this process (tests, and a single worker)."""

    n_workers = 1

    def map(self, fn: Callable[..., Any], job: Job, blocks: list[int]) -> Iterator[Any]:
        for block in blocks:
            yield fn(job, block)


def auto_blocks(n_points: int, n_workers: int, memory_per_worker: float) -> int:
    """A block count for ``auto``: every worker busy, and each block's build within half its memory."""
    by_memory = int(np.ceil(n_points * BYTES_PER_POINT / (0.5 * memory_per_worker)))
    most = max(1, n_points // MIN_BLOCK_POINTS)
    return int(min(max(n_workers, by_memory), most))


@contextmanager
def job_folder(parent: str | os.PathLike | None = None) -> Iterator[Path]:
    """A fresh folder for a job's inputs, removed afterwards.

    ``parent`` defaults to ``$DELVOL_WORK_DIR``, else the system's temporary folder; a
    cluster by address needs it on a filesystem that every worker mounts.
    """
    parent = parent or os.environ.get("DELVOL_WORK_DIR") or None
    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="delvol-job-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prepare_job(
    points: np.ndarray,
    masses: np.ndarray | None,
    n_blocks: int,
    folder: str | os.PathLike,
    *,
    periodic: float | None = None,
    padding: float = 5.0,
    shell: float = 5.0,
    engine: str = "auto",
) -> tuple[Job, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate, partition and write the points; return the job and the (wrapped) inputs."""
    pts, m = _validate(points, masses)
    box = lower = None
    if periodic is not None:
        lower = box_lower_corner(pts, float(periodic))
        pts = wrap_into_box(pts, lower, float(periodic))
        box = (lower, float(periodic))
    layout = partition(pts, n_blocks, box=box)
    counts = write_cores(folder, pts, m, layout)
    if periodic is None:
        hull = global_hull(folder, layout.n_blocks)
    else:
        hull = (np.zeros(0, dtype=np.int64), np.zeros((0, 3)), np.zeros(0))
    grid = count_grid(pts, layout.bounds, periodic is not None)
    job = Job(str(folder), layout, counts, grid, *hull, shell, padding, resolve_engine(engine))
    return job, pts, m, lower


class PreparedJob(NamedTuple):
    """A job ready to run, and its inputs as the blocks see them."""

    job: Job
    points: np.ndarray
    """The input points, wrapped into the box when periodic."""
    masses: np.ndarray
    box_lower: np.ndarray | None


@contextmanager
def prepared_job(
    points: np.ndarray,
    masses: np.ndarray | None,
    n_blocks: int,
    *,
    work_dir: str | os.PathLike | None = None,
    log: StageLog = QUIET,
    **build: Any,
) -> Iterator[PreparedJob]:
    """A :func:`job_folder` with the points partitioned and written, removed afterwards.

    ``build`` holds :func:`prepare_job`'s keywords (periodic, padding, shell, engine).
    """
    with job_folder(work_dir) as folder:
        with log.stage("partition"):
            prepared = PreparedJob(*prepare_job(points, masses, n_blocks, folder, **build))
        yield prepared


def job_info(job: Job) -> dict[str, Any]:
    """The build options of a job, as ``Tessellation.info`` records them."""
    return {
        "n_input": job.n_points,
        "engine": job.engine,
        "periodic": job.layout.box_size,
        "padding": job.padding if job.layout.box_size is not None else None,
        "blocks": {"n_blocks": job.layout.n_blocks, "shell": job.shell},
    }


def build_info(job: Job, results: list[BlockResult]) -> dict[str, Any]:
    """:func:`job_info` plus what the blocks did: duplicates, ghosts, shell rounds, memory."""
    info = job_info(job)
    info["blocks"].update(block_totals([r.stats for r in results]))
    info["n_duplicates"] = info["blocks"].pop("n_duplicates")
    return info


def block_totals(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Ghosts, blocks regrown, most rounds, largest worker peak, faces and duplicates over every block's stats.

    Block folders written before duplicates were counted per block count none.
    """
    return {
        "n_ghost": int(sum(s["n_ghost"] for s in stats)),
        "regrown": int(sum(s["rounds"] > 1 for s in stats)),
        "max_rounds": int(max(s["rounds"] for s in stats)),
        "peak_rss_mb": float(max(s["peak_rss_mb"] for s in stats)),
        "n_faces": int(sum(s["n_faces"] for s in stats)),
        "n_duplicates": int(sum(s.get("n_duplicates", 0) for s in stats)),
    }


@dataclass(eq=False)
class BlockSummary:
    """What ``delvol info`` reports of a blocked build, without assembling it.

    ``tetrahedra`` and ``faces`` are zero-stride stand-ins with the right lengths: the
    counts are all a summary needs, and the arrays stay on the workers.
    """

    density: np.ndarray
    hull: np.ndarray
    tetrahedra: np.ndarray
    faces: np.ndarray
    box_size: float | None
    info: dict[str, Any]

    @property
    def n_primary(self) -> int:
        return len(self.density)

    @classmethod
    def of_counts(
        cls,
        density: np.ndarray,
        hull: np.ndarray,
        n_tetrahedra: int,
        n_faces: int,
        box_size: float | None,
        info: dict[str, Any],
    ) -> BlockSummary:
        """A summary with stand-in arrays of ``n_tetrahedra`` and ``n_faces`` rows."""
        tetrahedra = np.broadcast_to(np.int32(0), (n_tetrahedra, 4))
        return cls(density, hull, tetrahedra, np.broadcast_to(np.int32(0), (n_faces, 3)), box_size, info)


def summarize_blocks(runner: Runner, job: Job) -> BlockSummary:
    """Build every block and keep only the per-point arrays and the counts."""
    per_point = PointArrays(job.n_points)
    n_tets = n_faces = 0
    images: set[int] = set()
    results = []
    for r in runner.map(build_block, job, list(range(job.layout.n_blocks))):
        per_point.add(r)
        n_tets += len(r.tetrahedra)
        n_faces += len(r.faces)
        images.update(r.vertex_keys[r.vertex_keys >= job.n_points].tolist())
        r.vertex_keys = r.vertex_position = r.tetrahedra = r.faces = r.tet_volume = None
        results.append(r)
    info = build_info(job, results)
    info["n_images"] = len(images)
    return BlockSummary.of_counts(per_point.density, per_point.hull, n_tets, n_faces, job.layout.box_size, info)


def tessellate_blocks(
    points: np.ndarray,
    masses: np.ndarray | None = None,
    *,
    blocks: int = 8,
    periodic: float | None = None,
    padding: float = 5.0,
    shell: float = 5.0,
    engine: str = "auto",
    runner: Runner | None = None,
    work_dir: str | os.PathLike | None = None,
    log: StageLog = QUIET,
) -> Tessellation:
    """:func:`~delvol.geometry.tessellate`, block by block; the same tessellation, assembled.

    Parameters
    ----------
    points, masses, periodic, padding, engine
        As for :func:`~delvol.geometry.tessellate`; every block uses the same engine.
    blocks : int
        Number of blocks.
    shell : float
        First ghost shell, in each block's mean spacings (at least 5 is the safe start;
        thinner shells are grown by certification).
    runner : Runner, optional
        Where the blocks run; default: one after another in this process.
    work_dir : path, optional
        Parent of the job folder (see :func:`job_folder`).
    log : StageLog

    Returns
    -------
    Tessellation
        Densities equal the single run's to rounding; the same tetrahedra and faces, in
        block order; ``info["blocks"]`` records the blocks' counts.
    """
    runner = runner or SerialRunner()
    build = {"periodic": periodic, "padding": padding, "shell": shell, "engine": engine}
    with prepared_job(points, masses, blocks, work_dir=work_dir, log=log, **build) as (job, pts, m, lower):
        with log.stage("blocks"):
            results = list(runner.map(build_block, job, list(range(job.layout.n_blocks))))
    with log.stage("assemble"):
        return assemble(results, pts, m, box_size=job.layout.box_size, box_lower=lower, info=build_info(job, results))
