"""Blocked tessellations on disk: one .npz per block, the per-point arrays, and an index.

``delvol tessellate FILE --blocks N -o DIR/`` writes::

    DIR/index.json          what is where, and the build's options and counts
    DIR/points.npz          points (wrapped when periodic), masses, density, cell_volume, hull
    DIR/block-00000.npz     core, vertex_keys, vertex_position, tetrahedra, tet_volume, faces
    ...

A block's ``tetrahedra`` and ``faces`` index its ``vertex_keys``; a key is
``code * N + i`` for input point ``i`` (code 0) or its periodic image (codes 1-26, the
shifts of :data:`~delvol.geometry.periodic.SHIFTS`). Neighbour tables are left out: across
seams they need every block at once, and :func:`load_blocks` rebuilds them when the
whole tessellation fits in memory. The folder is written beside its destination and
moved into place at the end (:func:`delvol.atomic.atomic_folder`), so an interrupted run
leaves no half-written output.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from delvol import __version__
from delvol.atomic import atomic_folder
from delvol.blocks.assemble import PointArrays, assemble
from delvol.blocks.build import BlockResult, build_block, without_simplices
from delvol.blocks.job import Job
from delvol.blocks.lookup import IMAGE_SHIFTS
from delvol.blocks.run import BlockSummary, block_totals
from delvol.errors import DelvolError
from delvol.geometry.tessellation import Tessellation
from delvol.io.pointset import PointSet

if TYPE_CHECKING:
    from delvol.blocks.run import Runner

INDEX = "index.json"
FORMAT = "delvol-blocks"
FORMAT_VERSION = 1
_ENTRY_STATS = ("n_tetrahedra", "n_faces", "n_ghost", "rounds", "seconds", "peak_rss_mb", "n_duplicates")
_NPZ_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, MemoryError)
"""What numpy raises for a missing, truncated or foreign .npz file, one without an array asked for, or one
whose member claims more than memory holds."""
_BLOCK_ARRAYS = ("core", "vertex_keys", "vertex_position", "tetrahedra", "tet_volume", "faces")


def block_file(block: int) -> str:
    return f"block-{block:05d}.npz"


def is_block_folder(path: str | os.PathLike) -> bool:
    return (Path(path) / INDEX).is_file()


def write_blocks(
    folder: str | os.PathLike,
    runner: Runner,
    job: Job,
    positions: np.ndarray,
    masses: np.ndarray,
    *,
    box_size: float | None,
    box_lower: np.ndarray | None,
    info: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build every block and write it where it was built, then the per-point arrays and the index.

    Each worker writes its blocks' files itself and sends back only the per-point arrays,
    so no process ever holds more than the block it builds: the folder must be on a
    filesystem the workers share with this process (as the job folder must). Refuses to
    replace a folder that is not a delvol block folder. ``metadata`` (the points'
    :attr:`PointSet.metadata`) keeps what is known of the source: its plain values are
    stored for :func:`folder_points`. Returns the index.
    """
    with atomic_folder(folder, is_block_folder, "delvol block folder") as tmp:
        per_point = PointArrays(len(positions))
        entries = []
        for r in runner.map(partial(build_and_save, folder=str(tmp)), job, list(range(job.layout.n_blocks))):
            per_point.add(r)
            entries.append(
                {
                    "block": r.block,
                    "file": block_file(r.block),
                    "n_core": len(r.core),
                    **{k: r.stats[k] for k in _ENTRY_STATS},
                }
            )
        np.savez(
            tmp / "points.npz",
            points=positions,
            masses=masses,
            density=per_point.density,
            cell_volume=per_point.cell_volume,
            hull=per_point.hull,
        )
        index = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "delvol": __version__,
            "n_points": len(positions),
            "box_size": box_size,
            "box_lower": None if box_lower is None else [float(v) for v in box_lower],
            "info": info,
            "metadata": {k: v for k, v in (metadata or {}).items() if isinstance(v, (str, int, float, bool))},
            "blocks": sorted(entries, key=lambda e: e["block"]),
        }
        (tmp / INDEX).write_text(json.dumps(index, indent=1))
    return index


def build_and_save(job: Job, block: int, folder: str) -> BlockResult:
    """Build one block, write its file into ``folder``; return it without its simplices."""
    result = build_block(job, block)
    np.savez(Path(folder) / block_file(block), **{key: getattr(result, key) for key in _BLOCK_ARRAYS})
    result.stats["n_tetrahedra"] = len(result.tetrahedra)
    return without_simplices(result)


def read_index(folder: str | os.PathLike) -> dict[str, Any]:
    """The index of a block folder, checked (:func:`check_index`); DelvolError if it is not one."""
    path = Path(folder) / INDEX
    try:
        index = json.loads(path.read_text())
    except OSError as exc:
        raise DelvolError(f"not a delvol block folder ({exc.strerror or exc})", path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DelvolError(f"not a delvol block folder (damaged index: {exc})", path) from None
    if not isinstance(index, dict):
        raise DelvolError("not a delvol block folder (the index is no JSON object)", path)
    if index.get("format") != FORMAT or index.get("format_version") != FORMAT_VERSION:
        raise DelvolError(f"not a delvol block folder of format {FORMAT_VERSION}", folder)
    check_index(index, Path(folder))
    return index


_ENTRY_COUNTS = ("block", "n_core", "n_tetrahedra", "n_faces", "n_ghost", "rounds")


def check_index(index: dict[str, Any], folder: Path) -> None:
    """Refuse an index that the readers could trip over, before any block is read.

    Every key the readers use is there with its type; each block is listed once, under
    its own file name (``block-NNNNN.npz``, so no entry names a file outside the folder),
    and that file exists; the blocks' cores add up to ``n_points``. Costs a stat per block.

    Raises
    ------
    DelvolError
        Naming ``index.json`` (or the missing block file) and the first problem found.
    """
    path = folder / INDEX

    def require(ok: bool, problem: str) -> None:
        if not ok:
            raise DelvolError(f"damaged index: {problem}", path)

    missing = [key for key in ("n_points", "box_size", "box_lower", "info", "blocks") if key not in index]
    require(not missing, f"no {', '.join(map(repr, missing))}")
    n, box_size, box_lower, blocks = index["n_points"], index["box_size"], index["box_lower"], index["blocks"]
    require(_is_count(n) and n > 0, f"'n_points' is {n!r}, not a positive integer")
    require(box_size is None or (_is_number(box_size) and box_size > 0), f"'box_size' is {box_size!r}")
    lower_ok = isinstance(box_lower, list) and len(box_lower) == 3 and all(map(_is_number, box_lower))
    require(box_lower is None or lower_ok, f"'box_lower' is {box_lower!r}, not 3 numbers")
    info, metadata = index["info"], index.get("metadata", {})
    require(isinstance(info, dict) and isinstance(info.get("blocks", {}), dict), "'info' is no JSON object")
    require(isinstance(metadata, dict), "'metadata' is no JSON object")
    require(isinstance(blocks, list) and len(blocks) > 0, "'blocks' is no list of block entries")
    seen: set[int] = set()
    for i, entry in enumerate(blocks):
        require(isinstance(entry, dict), f"block entry {i} is no JSON object")
        bad = [key for key in _ENTRY_COUNTS if not _is_count(entry.get(key))]
        bad += [key for key in ("n_duplicates",) if key in entry and not _is_count(entry[key])]
        bad += [key for key in ("peak_rss_mb",) if not _is_number(entry.get(key))]
        require(not bad, f"block entry {i}: {', '.join(bad)} missing or not a count")
        block = entry["block"]
        require(block not in seen, f"block {block} is listed twice")
        seen.add(block)
        require(
            entry.get("file") == block_file(block),
            f"block {block} names {entry.get('file')!r}, not {block_file(block)}",
        )
        if not (folder / block_file(block)).is_file():
            raise DelvolError(f"block file missing (index.json lists {len(blocks)} blocks)", folder / block_file(block))
    cores = sum(entry["n_core"] for entry in blocks)
    require(cores == n, f"the blocks' cores hold {cores} points, 'n_points' is {n}")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_block(folder: str | os.PathLike, entry: dict[str, Any], n_points: int, box_size: float | None) -> BlockResult:
    """One block of a block folder, checked (:func:`block_arrays`; its per-point arrays are in ``points.npz``)."""
    arrays: dict[str, Any] = dict(
        zip(_BLOCK_ARRAYS, block_arrays(folder, entry, _BLOCK_ARRAYS, n_points, box_size), strict=True)
    )
    empty = np.zeros(0)
    return BlockResult(block=entry["block"], density=empty, cell_volume=empty, hull=empty.astype(bool), **arrays)


_POINT_KINDS = {"points": "f", "masses": "f", "density": "f", "cell_volume": "f", "hull": "b"}
"""The per-point arrays of a block folder's ``points.npz`` ((N, 3) points, then (N,) arrays) and their dtype kinds."""


def read_points(
    folder: str | os.PathLike, n_points: int, names: tuple[str, ...] = tuple(_POINT_KINDS)
) -> dict[str, np.ndarray]:
    """Per-point arrays of a block folder by name, memory-mapped (:func:`point_array`).

    ``n_points`` is the count of the folder's index, which the caller has read.
    """
    return {name: point_array(folder, name, (n_points, 3) if name == "points" else (n_points,)) for name in names}


def box_lower_of(index: dict[str, Any]) -> np.ndarray | None:
    """The lower corner of a checked index's periodic box, or None."""
    return None if index["box_lower"] is None else np.array(index["box_lower"])


def folder_points(folder: str | os.PathLike) -> PointSet:
    """The input points of a block folder, with what its index knows of their source."""
    index = read_index(folder)
    # Every array checked (headers alone, the points' finiteness) before anything runs.
    arrays = read_points(folder, index["n_points"])
    built_from = index.get("metadata", {})
    what = "delvol block folder"
    if "source" in built_from:
        what += f" of {Path(built_from['source']).name} ({built_from.get('format', '?')})"
    metadata = {**built_from, "source": str(folder), "format": what}
    return PointSet(arrays["points"], arrays["masses"], metadata=metadata)


def folder_summary(folder: str | os.PathLike) -> BlockSummary:
    """What ``delvol info`` reports of a block folder, from its index and per-point arrays alone."""
    index = read_index(folder)
    arrays = read_points(folder, index["n_points"], ("density", "hull"))
    entries = index["blocks"]
    info = dict(index["info"])
    info["blocks"] = {**info.get("blocks", {}), **block_totals(entries)}
    info["n_duplicates"] = info["blocks"].pop("n_duplicates")
    return BlockSummary.of_counts(
        arrays["density"],
        arrays["hull"],
        sum(e["n_tetrahedra"] for e in entries),
        sum(e["n_faces"] for e in entries),
        index["box_size"],
        info,
    )


def block_arrays(
    folder: str | os.PathLike, entry: dict[str, Any], names: tuple[str, ...], n_points: int, box_size: float | None
) -> list[np.ndarray]:
    """Some arrays of one block file (of an entry :func:`check_index` passed), read whole and checked.

    Their types and shapes, and their counts against the index entry; the vertex
    indices of ``tetrahedra`` and ``faces``, the point keys and the core indices within
    range; positions and volumes finite. A pass or two over each array, against the
    file's read (``benchmarks/bench_folder_checks.py``).

    Raises
    ------
    DelvolError
        Naming the block file: missing, damaged, or failing a check.
    """
    path = Path(folder) / block_file(entry["block"])
    indexed = {"tetrahedra", "faces"} & set(names)
    wanted = (*names, "vertex_keys") if indexed and "vertex_keys" not in names else names
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in wanted}
    except _NPZ_ERRORS as exc:
        raise DelvolError(f"unreadable block file ({_reason(exc)})", path) from None
    problem = _block_problem(arrays, entry, n_points, box_size is not None)
    if problem:
        raise DelvolError(f"damaged block file: {problem}", path)
    return [arrays[name] for name in names]


_BLOCK_LAYOUT = {
    "core": ("iu", (), "n_core"),
    "vertex_keys": ("iu", (), None),
    "vertex_position": ("f", (3,), None),
    "tetrahedra": ("iu", (4,), "n_tetrahedra"),
    "tet_volume": ("f", (), "n_tetrahedra"),
    "faces": ("iu", (3,), "n_faces"),
}
"""Each block array's dtype kinds, trailing shape, and the index entry's count of its rows (None: one per vertex)."""


def _block_problem(arrays: dict[str, np.ndarray], entry: dict[str, Any], n_points: int, periodic: bool) -> str:
    """What is wrong with some arrays of a block, or ''."""
    vertices = next((a.shape[0] for k, a in arrays.items() if k in ("vertex_keys", "vertex_position") and a.ndim), 0)
    for name, array in arrays.items():
        kinds, trailing, count = _BLOCK_LAYOUT[name]
        expected = (vertices if count is None else entry[count], *trailing)
        if array.dtype.kind not in kinds:
            return f"{name!r} is of type {array.dtype}"
        if array.shape != expected:
            return f"{name!r} has shape {array.shape}, not {expected}"
    limits = {"core": n_points, "vertex_keys": n_points * (len(IMAGE_SHIFTS) if periodic else 1)}
    limits |= {"tetrahedra": vertices, "faces": vertices}
    for name, limit in limits.items():
        index = arrays.get(name)
        # Seen unsigned, a negative index is past every limit: one pass, not a min and a max.
        if index is not None and index.size and index.view(index.dtype.str.replace("i", "u")).max() >= limit:
            return f"{name!r} holds {index.min()}..{index.max()}, beyond 0..{limit - 1}"
    for name in ("vertex_position", "tet_volume"):
        values = arrays.get(name)
        if values is not None and values.size and not (np.isfinite(values.min()) and np.isfinite(values.max())):
            return f"{name!r} is not finite"
    return ""


def point_array(folder: str | os.PathLike, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One per-point array of a folder's ``points.npz``, memory-mapped, checked to be of ``shape``.

    ``np.savez`` stores its members uncompressed, so each is a ``.npy`` at an offset of the
    archive that can be mapped where it lies: a worker reads only the rows it touches.
    (A compressed member, from some other writer, is read whole.)

    Raises
    ------
    DelvolError
        Naming ``points.npz``: missing, damaged, without ``name``, or of another shape.
    """
    path = Path(folder) / "points.npz"
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(name + ".npy")
        if info.compress_type != zipfile.ZIP_STORED:
            with np.load(path, allow_pickle=False) as data:
                array = data[name]
        else:
            with open(path, "rb") as fh:
                fh.seek(info.header_offset + 26)  # the local header's name and extra lengths
                skip = sum(struct.unpack("<HH", fh.read(4)))
                fh.seek(info.header_offset + 30 + skip)
                npy = np.lib.format
                version = npy.read_magic(fh)
                read_header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                stored, fortran, dtype = read_header(fh)
                offset = fh.tell()
            array = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=stored, order="F" if fortran else "C")
    except (*_NPZ_ERRORS, struct.error) as exc:
        raise DelvolError(f"unreadable per-point array {name!r} ({_reason(exc)})", path) from None
    if array.dtype.kind != _POINT_KINDS[name]:
        raise DelvolError(f"per-point array {name!r} is of type {array.dtype}", path)
    if array.shape != shape:
        raise DelvolError(f"{name!r} has shape {array.shape}, the index says {shape}", path)
    if name == "points" and array.size and not (np.isfinite(array.min()) and np.isfinite(array.max())):
        raise DelvolError("the points are not all finite", path)  # min and max: no temporary array
    return array


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split())[:120] or type(exc).__name__


def load_blocks(folder: str | os.PathLike) -> Tessellation:
    """The whole tessellation of a block folder, assembled (neighbours rebuilt) in memory."""
    index = read_index(folder)
    n, box_size = index["n_points"], index["box_size"]
    points = read_points(folder, n)
    results = []
    covered = np.zeros(n, dtype=bool)
    for entry in index["blocks"]:
        r = read_block(folder, entry, n, box_size)
        r.density, r.cell_volume, r.hull = (points[k][r.core] for k in ("density", "cell_volume", "hull"))
        covered[r.core] = True
        results.append(r)
    if not covered.all():  # the cores add up to n (check_index): some point is in two
        raise DelvolError(f"{np.count_nonzero(~covered)} points are in no block's core", Path(folder) / INDEX)
    return assemble(
        results,
        points["points"],
        points["masses"],
        box_size=box_size,
        box_lower=box_lower_of(index),
        info=index["info"],
    )
