"""Fill a galaxy store from a catalogue and a folder of images, in resumable batches.

Each batch of galaxies and their images is one transaction, so a reader never sees a
galaxy whose image is half written, and a crash loses at most the batch in flight. Rows
are upserted, so running the same ingest again changes nothing; images already in the
store are not read again unless asked, so a rerun after a crash resumes where it stopped.
Nothing already in the store is ever dropped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from delvol import __version__
from delvol.errors import DelvolError
from delvol.io.galaxy_store.catalog import EXAMPLES, CatalogRows, plan_catalog
from delvol.io.galaxy_store.database import GalaxyStore, StoredImage
from delvol.io.galaxy_store.images import match_images, probe_image, read_file
from delvol.io.galaxy_store.schema import utc_now
from delvol.io.sky import DEFAULT_COSMOLOGY, get_cosmology
from delvol.io.tables import read_table
from delvol.progress import QUIET, StageLog

LISTED_BAD_IMAGES = 20
"""How many unreadable images the report names one by one."""


@dataclass
class IngestOptions:
    """What to ingest besides the catalogue, and how.

    Attributes
    ----------
    images : Path, optional
        Folder of image files, one per galaxy.
    pattern : str
        File name of a galaxy's image, with ``{objid}`` standing for its id; ending in
        ``.*``, any image extension (the default ``{objid}.*`` reads back what
        :func:`~delvol.io.galaxy_store.export.export_store` writes).
    id_columns : list of str, optional
        Catalogue columns making the id (see :mod:`delvol.io.galaxy_store.catalog`).
    where : list of str
        ``COL=VALUE`` row filters.
    batch : int
        Galaxies per transaction.
    replace : bool
        Read and store images again even if the store already holds one for that id.
    verify : bool
        Decode every image fully to check it, instead of reading its header only.
    cosmology : str
        Recorded as the store's default for converting to comoving positions.
    """

    images: Path | None = None
    pattern: str = "{objid}.*"
    id_columns: list[str] | None = None
    where: list[str] = field(default_factory=list)
    batch: int = 500
    replace: bool = False
    verify: bool = False
    cosmology: str = DEFAULT_COSMOLOGY


@dataclass
class IngestReport:
    """What an ingest did, and what it could not match or read."""

    catalog: Path
    store: Path
    n_read: int
    n_selected: int
    n_galaxies: int = 0
    n_images: int = 0
    n_images_kept: int = 0
    missing_images: list = field(default_factory=list)
    orphan_images: list[str] = field(default_factory=list)
    bad_images: list[tuple[str, str]] = field(default_factory=list)
    bad_coordinates: list = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    skipped_columns: list[str] = field(default_factory=list)
    folded: bool = True

    def lines(self) -> list[str]:
        """The human-readable summary."""
        out = [
            f"catalogue     {self.catalog}: {self.n_read:,} rows, {self.n_selected:,} selected",
            f"store         {self.store}",
            f"galaxies      {self.n_galaxies:,} written",
            f"images        {self.n_images:,} written, {self.n_images_kept:,} already stored",
        ]
        for label, ids in (
            ("no image", self.missing_images),
            ("no galaxy", self.orphan_images),
            ("bad ra/dec/z", self.bad_coordinates),
        ):
            if ids:
                out.append(f"{label:<14}{len(ids):,} (e.g. {', '.join(map(str, ids[:EXAMPLES]))})")
        out += [f"renamed       column {old!r} stored as {new!r}" for old, new in self.renamed.items()]
        if self.skipped_columns:
            out.append(f"not stored    array-valued columns {', '.join(map(repr, self.skipped_columns))}")
        if not self.folded:
            out.append(
                f"note          a reader holds the store open, so the last rows are still in {self.store.name}-wal; "
                "they move into the .db file when it closes (copy both files until then)"
            )
        if self.bad_images:
            out.append(f"unreadable    {len(self.bad_images):,} images skipped:")
            out += [f"  {path}: {reason}" for path, reason in self.bad_images[:LISTED_BAD_IMAGES]]
            if len(self.bad_images) > LISTED_BAD_IMAGES:
                out.append(f"  ... and {len(self.bad_images) - LISTED_BAD_IMAGES:,} more")
        return out


def ingest(
    catalog: str | os.PathLike,
    store_path: str | os.PathLike,
    options: IngestOptions | None = None,
    log: StageLog = QUIET,
) -> IngestReport:
    """Add a catalogue, and optionally its images, to a galaxy store (created if absent).

    Parameters
    ----------
    catalog : str or os.PathLike
        CSV, text or FITS table read by :func:`~delvol.io.tables.read_table`.
    store_path : str or os.PathLike
    options : IngestOptions, optional
    log : StageLog
        Shows a progress bar when verbose.

    Returns
    -------
    IngestReport

    Raises
    ------
    DelvolError
        Unreadable catalogue, bad options, ids that are not unique or not of the kind the
        store already holds, or a file that is not a galaxy store.
    """
    options = options or IngestOptions()
    catalog, store_path = Path(catalog), Path(store_path)
    if options.batch < 1:
        raise DelvolError(f"--batch must be at least 1, got {options.batch}")
    if options.cosmology != DEFAULT_COSMOLOGY:  # checking a name imports astropy.cosmology: ~1 s
        try:
            get_cosmology(options.cosmology)
        except ValueError as exc:
            raise DelvolError(str(exc)) from None
    if not catalog.is_file():
        raise DelvolError("no such file" if not catalog.exists() else "not a regular file", catalog)
    with log.stage("read catalogue"):
        plan = plan_catalog(read_table(catalog), catalog, options.id_columns, options.where)
    objids = plan.objids
    paths, orphans = match_images(options.images, options.pattern, objids) if options.images else ([], [])
    report = IngestReport(
        catalog,
        store_path,
        plan.n_read,
        plan.n_selected,
        orphan_images=orphans,
        bad_coordinates=plan.bad_coordinates,
        renamed=plan.renamed,
        skipped_columns=plan.skipped_columns,
    )
    with GalaxyStore(store_path, "a") as store:
        _check_same_ids(store, plan)
        store.prepare(plan.objid_type, plan.extra_types, _provenance(catalog, plan, options))
        present = set() if options.replace else set(store.image_objids().tolist())
        report.n_images_kept = sum(objid in present for objid in objids)
        starts = range(0, len(objids), options.batch)
        for start in log.bar(starts, desc="ingest", unit="batch"):
            stop = start + options.batch
            images = []
            if options.images is not None:
                images = _read_images(objids[start:stop], paths[start:stop], present, options.verify, report)
            store.write_batch(plan.columns, plan.rows[start:stop], images)
            report.n_galaxies += len(plan.rows[start:stop])
            report.n_images += len(images)
        store.set_meta(ingest_finished=utc_now())
        report.folded = store.fold()
    return report


def _read_images(
    objids: list, paths: list[Path | None], present: set, verify: bool, report: IngestReport
) -> list[StoredImage]:
    """The images of one batch, read before its transaction so the write lock is held briefly."""
    images = []
    for objid, path in zip(objids, paths, strict=True):
        if objid in present:
            continue
        if path is None:
            report.missing_images.append(objid)
            continue
        try:
            data = read_file(path)
            fmt, width, height = probe_image(data, verify)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            report.bad_images.append((str(path), reason))
            report.missing_images.append(objid)
            continue
        images.append(StoredImage(objid, data, fmt, width, height))
    return images


def _check_same_ids(store: GalaxyStore, plan: CatalogRows) -> None:
    """Refuse to mix ids made one way with ids made another in the same store."""
    if "id_columns" not in store.meta:
        return
    before = json.loads(store.meta["id_columns"])
    if before != plan.id_columns:
        raise DelvolError(
            f"the store's ids come from {','.join(before) or 'row numbers'} but this catalogue's "
            f"from {','.join(plan.id_columns) or 'row numbers'}; pass --id {','.join(before) or '...'} "
            "or ingest into a new store",
            store.path,
        )


def _provenance(catalog: Path, plan: CatalogRows, options: IngestOptions) -> dict[str, str]:
    return {
        "delvol_version": __version__,
        "source": str(catalog.resolve()),
        "images_dir": str(options.images.resolve()) if options.images else "",
        "pattern": options.pattern,
        "id_columns": json.dumps(plan.id_columns),
        "where": json.dumps(options.where),
        "cosmology": options.cosmology,
        "ingest_started": utc_now(),
        "ingest_finished": "",
    }
