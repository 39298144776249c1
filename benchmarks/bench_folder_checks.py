"""What the checks of a block file cost: ``read_block`` against reading the same arrays unchecked.

A block of ``--points`` vertices with the counts a Delaunay block has per point (6.5
tetrahedra, 13 faces; indices in range) is written once; then, interleaved, the checked
read (:func:`delvol.blocks.store.read_block`: types, shapes, counts against the index
entry, index ranges, finite positions) and ``np.load`` of every array alone, as
``read_block`` read it before the checks. Prints the times and their median ratio.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.timing import interleaved, median, paired_ratios
from delvol.blocks.store import block_file, read_block


def write_block(folder: Path, n: int, seed: int = 0) -> dict:
    """A block file of ``n`` vertices (all core) with realistic counts; returns its index entry."""
    rng = np.random.default_rng(seed)
    n_tets, n_faces = int(6.5 * n), 13 * n
    arrays = {
        "core": np.arange(n, dtype=np.int64),
        "vertex_keys": rng.permutation(n).astype(np.int64),
        "vertex_position": rng.random((n, 3)),
        "tetrahedra": rng.integers(0, n, (n_tets, 4), dtype=np.int32),
        "tet_volume": rng.random(n_tets),
        "faces": rng.integers(0, n, (n_faces, 3), dtype=np.int32),
    }
    np.savez(folder / block_file(0), **arrays)
    return {"block": 0, "file": block_file(0), "n_core": n, "n_tetrahedra": n_tets, "n_faces": n_faces}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        entry = write_block(folder, args.points)
        path = folder / block_file(0)
        size = path.stat().st_size / 2**20

        def unchecked() -> None:
            with np.load(path) as data:
                [data[name] for name in data.files]

        times = interleaved(
            {"checked": lambda: read_block(folder, entry, args.points, None), "unchecked": unchecked}, args.repeat
        )
    for name in times.wall:
        print(f"{name:10s} wall {median(times.wall[name]) * 1e3:7.1f} ms  cpu {median(times.cpu[name]) * 1e3:7.1f} ms")
    ratio = median(paired_ratios(times.cpu["checked"], times.cpu["unchecked"]))
    print(f"block of {args.points:,} vertices ({size:.0f} MiB): checked / unchecked read, CPU time: {ratio:.3f}")


if __name__ == "__main__":
    main()
