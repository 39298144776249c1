"""Write a galaxy store back out as image files plus a catalogue CSV.

The output ingests again into an equal store: the images are the stored bytes, and
floats are written with Python's shortest round-tripping repr.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from delvol.atomic import atomic_path
from delvol.errors import DelvolError
from delvol.io.galaxy_store.database import GalaxyStore
from delvol.io.galaxy_store.images import check_format, file_stem, image_file_name
from delvol.progress import QUIET, StageLog

CATALOG_NAME = "catalog.csv"
EXPORT_BATCH = 256


def export_store(store_path: str | os.PathLike, folder: str | os.PathLike, log: StageLog = QUIET) -> tuple[int, int]:
    """Write every image as ``{objid}.{ext}`` and the catalogue as ``catalog.csv`` into ``folder``.

    Every file is written atomically; existing files of the same names are replaced.

    Returns
    -------
    n_images, n_galaxies : int

    Raises
    ------
    DelvolError
        The store is unreadable, or an id cannot be a file name (checked before writing).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DelvolError("not a folder; store export writes one file per image into a folder", folder)
    with GalaxyStore(store_path) as store:
        # One short read transaction for what must agree; the images then come in batches,
        # each read on its own, so a long export never keeps an ingest from checkpointing.
        with store.snapshot():
            image_ids = store.image_objids()
            for objid in image_ids.tolist():
                file_stem(objid)
            for fmt, *_ in store.image_summary():
                check_format(fmt, store.path)
            catalog = store.catalog()
            last = store.last_image_row()
        folder.mkdir(parents=True, exist_ok=True)
        batches = store.iter_images(EXPORT_BATCH, last)
        for batch in log.bar(batches, desc="export", total=math.ceil(len(image_ids) / EXPORT_BATCH), unit="batch"):
            for record in batch:
                with atomic_path(folder / image_file_name(record.objid, record.format, store.path)) as tmp:
                    tmp.write_bytes(record.data)
    write_catalog_csv(catalog, folder / CATALOG_NAME)
    return len(image_ids), len(catalog["objid"])


def write_catalog_csv(catalog: dict[str, np.ndarray], path: Path) -> None:
    """Columns as a CSV with a header row; NaN becomes an empty cell."""
    columns = [_csv_values(values) for values in catalog.values()]
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(catalog))
        writer.writerows(zip(*columns, strict=True))


def _csv_values(values: np.ndarray) -> list:
    if values.dtype.kind == "f":
        return ["" if math.isnan(v) else repr(v) for v in values.tolist()]
    return values.tolist()
