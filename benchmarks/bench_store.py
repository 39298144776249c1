"""Galaxy store benchmark: ingest speed, random thumbnail reads and size, side by side.

Generates N small JPEGs (64×64 noise plus a gradient) and a catalogue, then measures

* ingest by :func:`delvol.io.galaxy_store.ingest.ingest` against the naive loop it replaced
  (``DROP TABLE``, then one ``INSERT`` and one commit per row);
* random reads of single images from the store against reading the same files from the
  folder (warm cache: the files were just written and OS caches cannot be dropped here);
* the store's size against the files' apparent and allocated sizes.

Usage::

    python benchmarks/bench_store.py [-n 10000] [--reads 2000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import astropy.table  # noqa: F401  # imported up front: a one-off ~0.5 s is not ingest time
import numpy as np
from PIL import Image

from delvol.io.galaxy_store.database import GalaxyStore
from delvol.io.galaxy_store.ingest import IngestOptions, ingest

SIZE = 64


def make_inputs(folder: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    """``n`` JPEGs named ``{objid}.jpg`` in ``folder/img`` and ``folder/catalog.csv``."""
    rng = np.random.default_rng(seed)
    images = folder / "img"
    images.mkdir(parents=True)
    ramp = np.linspace(0, 160, SIZE)
    gradient = (ramp[:, None, None] + ramp[None, :, None] * np.array([0.2, 0.5, 1.0])) / 2
    for objid in range(n):
        noise = rng.normal(0, 25, (SIZE, SIZE, 3))
        pixels = np.clip(gradient + noise + rng.uniform(0, 90), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(images / f"{objid}.jpg", quality=85)
    catalog = folder / "catalog.csv"
    with open(catalog, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["objid", "ra", "dec", "redshift"])
        writer.writerows(
            zip(range(n), rng.uniform(0, 360, n), rng.uniform(-60, 60, n), rng.uniform(0.01, 0.3, n), strict=True)
        )
    return catalog, images


def row_loop(catalog: Path, images: Path, db: Path) -> None:
    """A naive ingest for comparison: drop the table, then insert and commit one row at a time."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE IF EXISTS galaxies")
    conn.execute("CREATE TABLE galaxies (objid TEXT PRIMARY KEY, ra REAL, dec REAL, redshift REAL, img BLOB)")
    with open(catalog, newline="") as fh:
        for row in csv.DictReader(fh):
            blob = (images / f"{row['objid']}.jpg").read_bytes()
            conn.execute(
                "INSERT INTO galaxies VALUES (?, ?, ?, ?, ?)",
                (row["objid"], float(row["ra"]), float(row["dec"]), float(row["redshift"]), blob),
            )
            conn.commit()
    conn.close()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def latencies(read: Callable[[int], bytes], ids: list[int]) -> np.ndarray:
    """Seconds per call of ``read`` over ``ids``."""
    out = np.empty(len(ids))
    for k, objid in enumerate(ids):
        start = time.perf_counter()
        read(objid)
        out[k] = time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="number of images (default 10000)")
    parser.add_argument("--reads", type=int, default=2_000, help="random single-image reads (default 2000)")
    parser.add_argument("--batch", type=int, default=500, help="delvol ingest batch (default 500)")
    parser.add_argument("--dir", type=Path, help="work folder on the disk to measure (default: a temporary one)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_store_", dir=args.dir))
    try:
        catalog, images = make_inputs(work, args.n)
        files = sorted(images.iterdir())
        apparent = sum(f.stat().st_size for f in files)
        allocated = sum(f.stat().st_blocks * 512 for f in files)
        print(f"{args.n:,} JPEGs of {SIZE}x{SIZE}, mean {apparent / args.n / 1e3:.1f} kB, in {work}")

        t_delvol = timed(lambda: ingest(catalog, work / "store.db", IngestOptions(images=images, batch=args.batch)))
        t_loop = timed(lambda: row_loop(catalog, images, work / "loop.db"))
        print("ingest (same images and catalogue, one run each)")
        print(f"  delvol, {args.batch} rows per transaction  {t_delvol:8.2f} s  {args.n / t_delvol:9,.0f} images/s")
        print(f"  loop, commit per row               {t_loop:8.2f} s  {args.n / t_loop:9,.0f} images/s")
        print(f"  speed-up                           {t_loop / t_delvol:8.1f}x")

        rng = np.random.default_rng(1)
        ids = rng.choice(args.n, min(args.reads, args.n), replace=False).tolist()
        with GalaxyStore(work / "store.db") as store:
            latencies(store.image_bytes, ids)  # warm both paths before measuring
            latencies(lambda i: (images / f"{i}.jpg").read_bytes(), ids)
            blob = latencies(store.image_bytes, ids)
            file = latencies(lambda i: (images / f"{i}.jpg").read_bytes(), ids)
        print(f"random single-image reads, {len(ids):,} ids, warm cache")
        print("                      p50 us    p99 us   total ms")
        for label, t in (("store blob", blob), ("file", file)):
            p50, p99 = np.percentile(t, [50, 99]) * 1e6
            print(f"  {label:<16}{p50:10.1f}{p99:10.1f}{t.sum() * 1e3:11.1f}")
        print(f"  blob/file total time ratio {blob.sum() / file.sum():.2f}")

        size = (work / "store.db").stat().st_size
        print("size")
        print(f"  store file                 {size / 1e6:8.2f} MB")
        print(f"  image files, apparent      {apparent / 1e6:8.2f} MB  (store/files {size / apparent:.3f})")
        print(f"  image files, allocated     {allocated / 1e6:8.2f} MB  (store/files {size / allocated:.3f})")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
