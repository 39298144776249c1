"""Small galaxy stores for the sprite tests: a patch of sky with thumbnails of known colours."""

from __future__ import annotations

import csv
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from delvol.cli import main

RED, GREEN, BLUE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)


def jpeg(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def solid_jpeg(color: tuple[int, int, int], size: int = 64) -> bytes:
    return jpeg(Image.new("RGB", (size, size), color))


def split_jpeg(top: tuple[int, int, int], bottom: tuple[int, int, int], size: int = 64) -> bytes:
    """Top half one colour, bottom half another: shows which way up a sprite is drawn."""
    image = Image.new("RGB", (size, size), bottom)
    image.paste(top, (0, 0, size, size // 2))
    return jpeg(image)


def build_store(folder: Path, images: dict[int, bytes], extra: dict[str, list] | None = None, seed: int = 0) -> Path:
    """A store of galaxies in a 6x6 degree patch at redshift 0.02-0.04, one image each.

    ``extra`` adds catalogue columns, or replaces the random ``ra``, ``dec`` or
    ``redshift``. The store is made by ``delvol store ingest``, as a user would.
    """
    rng = np.random.default_rng(seed)
    ids = list(images)
    n = len(ids)
    columns = {
        "objid": ids,
        "ra": rng.uniform(150, 156, n).tolist(),
        "dec": rng.uniform(0, 6, n).tolist(),
        "redshift": rng.uniform(0.02, 0.04, n).tolist(),
        **(extra or {}),
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "img").mkdir()
    for objid, data in images.items():
        (folder / "img" / f"{objid}.jpg").write_bytes(data)
    with open(folder / "cat.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))
    db = folder / "galaxies.db"
    assert main(["store", "ingest", str(folder / "cat.csv"), "-o", str(db), "--images", str(folder / "img")]) == 0
    return db
