"""Small galaxy stores for the sprite tests: a patch of sky with thumbnails of known colours."""

from __future__ import annotations

import csv
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from delvol.cli import main
from delvol.io.galaxy_store.database import GalaxyStore
from delvol.scene.camera import Camera

RED, GREEN, BLUE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (0, 0, 0)
ROW = (1, 2, 3, 4)
"""Ids that :func:`patch_store` puts in a row in front of the others."""
FOV = 8.0  # degrees: the 6-degree patch as the observer sees it


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


def patch_store(folder: Path, images: dict[int, bytes]) -> Path:
    """Galaxies :data:`ROW` in a row at redshift 0.03, 1.5 degrees apart; the others behind them."""
    rng = np.random.default_rng(1)
    row = {objid: 151.0 + 1.5 * k for k, objid in enumerate(ROW)}
    sky = {
        "ra": [row.get(objid, rng.uniform(150, 156)) for objid in images],
        "dec": [3.0 if objid in row else rng.uniform(0, 6) for objid in images],
        "redshift": [0.03 if objid in row else rng.uniform(0.033, 0.045) for objid in images],
    }
    return build_store(folder, images, extra=sky)


def observer_camera(
    folder: Path, db: Path, size: tuple[int, int], projection: str = "perspective"
) -> tuple[Camera, Path]:
    """The observer's view of the patch, and the file that gives it to ``--camera``."""
    with GalaxyStore(db) as store:
        positions = store.positions()
    cam = Camera(projection=projection, fov_y=FOV)
    cam.fit(positions.min(axis=0), positions.max(axis=0), aspect=size[0] / size[1])
    centre = positions.mean(axis=0)
    cam.look_at(np.zeros(3), centre)
    cam.ortho_height = 2 * np.tan(np.radians(FOV / 2)) * np.linalg.norm(centre)
    path = folder / f"{projection}.json"
    path.write_text(cam.to_json())
    return cam, path
