"""Galaxy sprite benchmark: choosing sprites, decoding thumbnails, and the cost in a render.

Measures

* choosing the K largest sprites on screen among N galaxies (:mod:`delvol.scene.sprite_layout`),
  which the viewer does whenever the view changes;
* decoding thumbnails from a galaxy store through :class:`~delvol.scene.thumbnails.ThumbnailLoader`
  with 1, 2 and 4 worker threads, against a plain full-size decode on one thread;
* ``delvol render`` of the store with and without ``--sprites``.

The images are the 424x424 SDSS cutouts of ../shared/data/galaxy_jpg when present (each
stored under several ids), else synthetic JPEGs of the same size.

Usage::

    python benchmarks/bench_sprites.py [-n 2000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from delvol.cli import main
from delvol.io.galaxy_store.database import GalaxyStore
from delvol.scene.camera import Camera
from delvol.scene.sprite_layout import Galaxies, largest, screen_layout
from delvol.scene.thumbnails import ThumbnailLoader

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "galaxy_jpg"


def best_of(repeats: int, run) -> float:
    """Shortest wall time of ``repeats`` runs: the machine may be shared."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_choice() -> None:
    rng = np.random.default_rng(0)
    cam = Camera()
    cam.fit(np.zeros(3), np.full(3, 300.0), aspect=16 / 9)
    cam.look_at(np.array([150.0, 150.0, -10.0]), np.array([150.0, 150.0, 150.0]))
    for n in (10_000, 120_606, 1_000_000):
        galaxies = Galaxies(rng.random((n, 3)) * 300, 0.1, np.arange(n))
        seconds = best_of(7, lambda g=galaxies: largest(screen_layout(g, cam, (1280, 720)), 200))
        print(f"choose 200 of {n:>9,} galaxies: {seconds * 1000:7.1f} ms")


def cutouts(n: int) -> list[bytes]:
    if REAL.is_dir():
        files = sorted(REAL.glob("*.jpg"))
        return [files[i % len(files)].read_bytes() for i in range(n)]
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 60, (424, 424, 3), dtype=np.uint8)).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def make_store(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(1)
    (folder / "img").mkdir(parents=True)
    for objid, data in enumerate(cutouts(n)):
        (folder / "img" / f"{objid}.jpg").write_bytes(data)
    with open(folder / "cat.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["objid", "ra", "dec", "redshift"])
        for objid in range(n):
            writer.writerow([objid, rng.uniform(150, 160), rng.uniform(0, 10), rng.uniform(0.02, 0.05)])
    db = folder / "g.db"
    main(["store", "ingest", str(folder / "cat.csv"), "-o", str(db), "--images", str(folder / "img")])
    return db


def bench_decode(db: Path, n: int) -> None:
    with GalaxyStore(db) as store:
        ids = store.objids().tolist()

        def full_decode() -> None:
            for objid in ids:
                with Image.open(io.BytesIO(store.image_bytes(objid))) as img:
                    img.convert("RGBA")

        seconds = best_of(1, full_decode)
    print(f"full-size decode, 1 thread:      {n / seconds:7.0f} images/s")
    for workers in (1, 2, 4):

        def load(workers: int = workers) -> None:
            loader = ThumbnailLoader(lambda: GalaxyStore(db), workers=workers)
            loader.request(ids)
            loader.wait(ids)
            loader.close()

        seconds = best_of(1, load)
        print(f"thumbnails, {workers} worker thread(s):   {n / seconds:7.0f} thumbnails/s")


def bench_render(db: Path, folder: Path) -> None:
    base = ["render", str(db), "-o", str(folder / "out.png"), "--size", "1280x720", "--no-cache"]
    for label, extra in (("without sprites", []), ("with 200 sprites", ["--sprites", "--sprite-size", "2Mpc"])):
        seconds = best_of(2, lambda extra=extra: main(base + extra))
        print(f"delvol render {label:<17} {seconds:6.2f} s")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="galaxies in the store (default 2000)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    bench_choice()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        db = make_store(Path(tmp), args.n)
        bench_decode(db, args.n)
        bench_render(db, Path(tmp))


if __name__ == "__main__":
    run()
