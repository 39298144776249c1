"""The galaxy store: a whole catalogue with one encoded image per galaxy, in one SQLite file.

One file is easy to move and kind to distributed file systems, where many small files are
slow to list and open. Images are stored exactly as the source bytes and decoded only on
request. The layout is described in :mod:`delvol.io.galaxy_store.schema`; filling a store from a
catalogue and an image folder is :func:`delvol.io.galaxy_store.ingest.ingest`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from delvol.errors import DelvolError
from delvol.io.fields import field_from_columns
from delvol.io.galaxy_store.schema import (
    connect,
    create_tables,
    fold_wal,
    quote_identifier,
    read_meta,
    sqlite_errors,
    start_writing,
    transaction,
    write_meta,
)
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.sky import DEFAULT_COSMOLOGY, sky_to_cartesian
from delvol.io.where import where_mask

_IMAGE_COLUMNS = "objid, img, format, width, height"

GalaxyId = int | str
"""A galaxy's id in a store: an integer, or text for composite or non-numeric ids."""


class StoredImage(NamedTuple):
    """One row of the ``images`` table: the encoded bytes and what their header says."""

    objid: int | str
    data: bytes
    format: str
    width: int
    height: int


class GalaxyStore:
    """A galaxy store file, opened read-only (``"r"``) or to add to (``"a"``).

    Parameters
    ----------
    path : str or os.PathLike
    mode : {"r", "a"}
        ``"r"`` opens through a ``mode=ro`` URI, so viewing never writes to the file.
        ``"a"`` creates the file if needed and switches it to write-ahead logging, so
        readers keep working while a writer adds batches.

    Raises
    ------
    DelvolError
        The file is missing (``"r"``), not SQLite, a foreign SQLite database, a store of an
        unknown schema version, or damaged.

    Notes
    -----
    Rows come back in ``rowid`` order: catalogue order for text ids, id order for integer
    ids (SQLite makes an integer primary key the rowid).
    """

    def __init__(self, path: str | os.PathLike, mode: str = "r") -> None:
        if mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' or 'a', got {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self._conn = connect(self.path, mode)
        try:
            self.meta = read_meta(self._conn, self.path, mode)
            if mode == "a":
                start_writing(self._conn, self.path, new=not self.meta)
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        """Close the connection; a writer first folds its write-ahead log into the file (:meth:`fold`).

        A fold that fails (a full disk, say) is left for the next writer or the last
        connection to finish; it must not hide the error that ended the writing.
        """
        try:
            if self.mode == "a":
                self.fold()
        except DelvolError:
            pass
        finally:
            self._conn.close()

    def fold(self) -> bool:
        """Fold the write-ahead log into the ``.db`` file, so that the file alone is the store.

        Returns False when a reader's open snapshot kept that from finishing in time; see
        :func:`~delvol.io.galaxy_store.schema.fold_wal`.
        """
        self._require_append()
        with sqlite_errors(self.path):
            return fold_wal(self._conn)

    def __enter__(self) -> GalaxyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with sqlite_errors(self.path):
            return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def snapshot(self) -> Iterator[GalaxyStore]:
        """Hold one read transaction, so that several reads see the same state of the store.

        Without it each read sees the latest committed batch of a concurrent ingest.
        """
        with sqlite_errors(self.path):
            self._conn.execute("BEGIN")
        try:
            yield self
        finally:
            with sqlite_errors(self.path):
                self._conn.execute("COMMIT")

    def __len__(self) -> int:
        return self._query("SELECT count(*) FROM galaxies")[0][0]

    def columns(self) -> dict[str, str]:
        """Declared SQLite type of each ``galaxies`` column, in table order."""
        return {row[1]: row[2] for row in self._query("PRAGMA table_info(galaxies)")}

    @cached_property
    def objid_type(self) -> str:
        """``"INTEGER"`` or ``"TEXT"``; fixed when the store is created."""
        return self.columns()["objid"]

    def objids(self) -> np.ndarray:
        """Every galaxy's id (int64 or str)."""
        values = [row[0] for row in self._query("SELECT objid FROM galaxies ORDER BY rowid")]
        return _column_array(values, self.objid_type)

    def catalog(self) -> dict[str, np.ndarray]:
        """The whole ``galaxies`` table as a dict of columns, in table order.

        A dict rather than a structured array because catalogue column names may be
        anything (spaces, quotes). REAL columns become float64 with NaN for NULL, INTEGER
        columns int64 (float64 with NaN if any value is NULL), TEXT columns str with ``""``
        for NULL.
        """
        types = self.columns()
        names = ", ".join(quote_identifier(name) for name in types)
        rows = self._query(f"SELECT {names} FROM galaxies ORDER BY rowid")
        values = list(zip(*rows, strict=True)) if rows else [() for _ in types]
        return {name: _column_array(list(col), decl) for (name, decl), col in zip(types.items(), values, strict=True)}

    def column(self, name: str) -> np.ndarray:
        """One ``galaxies`` column in :meth:`objids` order, typed as in :meth:`catalog`.

        Raises
        ------
        DelvolError
            The store has no such column.
        """
        types = self.columns()
        if name not in types:
            raise DelvolError(f"no column {name!r}; the columns are {', '.join(types)}", self.path)
        values = [row[0] for row in self._query(f"SELECT {quote_identifier(name)} FROM galaxies ORDER BY rowid")]
        return _column_array(values, types[name])

    def galaxy(self, objid: int | str) -> dict[str, Any]:
        """One galaxy's catalogue row, column by column in table order, as SQLite holds it.

        Raises
        ------
        DelvolError
            No galaxy has this id.
        """
        names = list(self.columns())
        columns = ", ".join(quote_identifier(name) for name in names)
        rows = self._query(f"SELECT {columns} FROM galaxies WHERE objid = ?", (self._key(objid),))
        if not rows:
            raise DelvolError(f"no galaxy {objid!r}", self.path)
        return dict(zip(names, rows[0], strict=True))

    @property
    def cosmology(self) -> str:
        """The cosmology recorded at ingest (:data:`~delvol.io.sky.DEFAULT_COSMOLOGY` if none is)."""
        return self.meta.get("cosmology") or DEFAULT_COSMOLOGY

    def positions(self, cosmology: str | None = None, units: str = "Mpc/h") -> np.ndarray:
        """Comoving (x, y, z) of every galaxy, shape (N, 3), in :meth:`objids` order.

        Parameters
        ----------
        cosmology : str, optional
            Astropy cosmology name; defaults to :attr:`cosmology`, the one recorded at ingest.
        units : {"Mpc/h", "Mpc"}
        """
        sky = np.array(self._query("SELECT ra, dec, redshift FROM galaxies ORDER BY rowid"), dtype=np.float64)
        if len(sky) == 0:
            return np.zeros((0, 3))
        try:
            return sky_to_cartesian(sky[:, 0], sky[:, 1], sky[:, 2], cosmology or self.cosmology, units)
        except ValueError as exc:  # an unknown cosmology or unit
            raise DelvolError(str(exc), self.path) from exc

    def _key(self, objid: int | str) -> int | str:
        """``objid`` as the type the store keys on (a CLI argument is always text)."""
        if self.objid_type == "INTEGER":
            try:
                return int(objid)
            except ValueError:
                raise DelvolError(f"no galaxy {objid!r} (this store's ids are integers)", self.path) from None
        return str(objid)

    def image_record(self, objid: int | str) -> StoredImage:
        """The stored image of one galaxy with its format and size.

        Raises
        ------
        DelvolError
            No image is stored for ``objid``.
        """
        rows = self._query(f"SELECT {_IMAGE_COLUMNS} FROM images WHERE objid = ?", (self._key(objid),))
        if not rows:
            raise DelvolError(f"no image for galaxy {objid!r}", self.path)
        return StoredImage(*rows[0])

    def image_bytes(self, objid: int | str) -> bytes:
        """The encoded image of one galaxy, byte for byte as it was ingested."""
        return self.image_record(objid).data

    def image(self, objid: int | str) -> np.ndarray:
        """One galaxy's image decoded by Pillow: (H, W, bands) uint8, or (H, W) for greyscale."""
        return decode_image(self.image_record(objid), self.path)

    def image_objids(self) -> np.ndarray:
        """Ids of the galaxies that have an image."""
        values = [row[0] for row in self._query("SELECT objid FROM images ORDER BY rowid")]
        return _column_array(values, self.objid_type)

    def iter_images(self, batch: int = 256, last: int | None = None) -> Iterator[list[StoredImage]]:
        """Every stored image in ``rowid`` order, ``batch`` at a time.

        Each batch is one short read of its own, so iterating slowly never holds a read
        transaction open (which would keep a concurrent ingest from folding its write-ahead
        log back into the file). An image replaced meanwhile comes back as the new one.

        Parameters
        ----------
        batch : int
        last : int, optional
            Stop after this ``rowid`` (see :meth:`last_image_row`); default: all there are.
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        after = None  # rowids may be zero or negative: integer ids are the rowids
        bound = (1 << 63) - 1 if last is None else last
        while rows := self._query(
            f"SELECT rowid, {_IMAGE_COLUMNS} FROM images WHERE (?1 IS NULL OR rowid > ?1) AND rowid <= ?2 "
            "ORDER BY rowid LIMIT ?3",
            (after, bound, batch),
        ):
            after = rows[-1][0]
            yield [StoredImage(*row[1:]) for row in rows]

    def last_image_row(self) -> int:
        """The largest ``rowid`` of the ``images`` table (the smallest possible when it is empty)."""
        return self._query("SELECT coalesce(max(rowid), -9223372036854775808) FROM images")[0][0]

    def image_summary(self) -> list[tuple[str, int, int, int, int, int, int]]:
        """Per image format: count, total bytes, min/max width, min/max height."""
        return self._query(
            "SELECT format, count(*), sum(length(img)), min(width), max(width), min(height), max(height) "
            "FROM images GROUP BY format ORDER BY format"
        )

    def count_without_image(self) -> int:
        """How many galaxies have no image."""
        return self._query("SELECT count(*) FROM galaxies WHERE objid NOT IN (SELECT objid FROM images)")[0][0]

    def integrity_check(self) -> list[str]:
        """SQLite's full ``PRAGMA integrity_check``: ``["ok"]`` for a sound file."""
        return [row[0] for row in self._query("PRAGMA integrity_check")]

    def prepare(self, objid_type: str, extras: dict[str, str], meta: dict[str, str]) -> None:
        """Create the tables if the store is new, add missing extra columns, and set ``meta``.

        Existing columns and rows are never dropped.

        Parameters
        ----------
        objid_type : {"INTEGER", "TEXT"}
        extras : dict
            SQLite type of each extra catalogue column, by its stored name.
        meta : dict
            ``meta`` entries to set or replace.

        Raises
        ------
        DelvolError
            The store keys on the other id type.
        """
        self._require_append()
        with sqlite_errors(self.path), transaction(self._conn):
            # Read again inside the write lock, in case another writer created the store.
            if not read_meta(self._conn, self.path, "a"):
                create_tables(self._conn, objid_type)
            elif self.objid_type != objid_type:
                raise DelvolError(
                    f"the store's ids are {self.objid_type.lower()} but this catalogue's are {objid_type.lower()}",
                    self.path,
                )
            present = {name.lower() for name in self.columns()}
            for name, decl in extras.items():
                if name.lower() not in present:
                    self._conn.execute(f"ALTER TABLE galaxies ADD COLUMN {quote_identifier(name)} {decl}")
            write_meta(self._conn, meta)
            self.meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())

    def write_batch(self, columns: Sequence[str], rows: Sequence[tuple], images: Sequence[StoredImage]) -> None:
        """Insert or update galaxies and their images in one transaction.

        A reader sees all of the batch or none of it, and a crash loses at most this
        batch. ``ON CONFLICT`` updates make writing the same rows again harmless.

        Parameters
        ----------
        columns : sequence of str
            ``galaxies`` column names, ``"objid"`` first.
        rows : sequence of tuple
            Values in ``columns`` order.
        images : sequence of StoredImage
        """
        self._require_append()
        quoted = [quote_identifier(name) for name in columns]
        updates = ", ".join(f"{q} = excluded.{q}" for q in quoted[1:])
        with sqlite_errors(self.path), transaction(self._conn):
            self._conn.executemany(
                f"INSERT INTO galaxies ({', '.join(quoted)}) VALUES ({', '.join('?' * len(quoted))}) "
                f"ON CONFLICT (objid) DO UPDATE SET {updates}",
                rows,
            )
            self._conn.executemany(
                f"INSERT INTO images ({_IMAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (objid) DO UPDATE SET "
                "img = excluded.img, format = excluded.format, width = excluded.width, height = excluded.height",
                images,
            )

    def set_meta(self, **items: str) -> None:
        """Set ``meta`` entries in one transaction."""
        self._require_append()
        with sqlite_errors(self.path), transaction(self._conn):
            write_meta(self._conn, items)
        self.meta.update(items)

    def _require_append(self) -> None:
        if self.mode != "a":
            raise ValueError(f"{self.path} is open read-only; open it with mode='a' to write")


def decode_image(record: StoredImage, path: Path) -> np.ndarray:
    """Decode a stored image with Pillow.

    Raises
    ------
    DelvolError
        The bytes do not decode.
    """
    from io import BytesIO

    from PIL import Image

    try:
        with Image.open(BytesIO(record.data)) as img:
            return np.asarray(img)
    except (OSError, SyntaxError, ValueError) as exc:
        raise DelvolError(f"image of galaxy {record.objid!r} does not decode ({exc})", path) from exc


def _column_array(values: list, decl: str) -> np.ndarray:
    """A NumPy column from SQLite values of a column declared ``decl``."""
    if decl == "REAL":
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if decl == "INTEGER":
        if any(v is None for v in values):
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        return np.array(values, dtype=np.int64)
    return np.array(["" if v is None else str(v) for v in values], dtype=str)


def read_store(path: Path, options: LoadOptions) -> PointSet:
    """A galaxy store as a point set: comoving positions, with the objids as ids.

    Positions are in ``options.cosmology``, else in the cosmology the store was ingested
    with; ``metadata["cosmology"]`` says which.
    """
    metadata: dict[str, Any] = {"source": str(path), "format": "store", "units": options.units}
    with GalaxyStore(path) as store, store.snapshot():
        cosmology = options.cosmology or store.cosmology
        positions = store.positions(cosmology, options.units)
        ids = store.objids()
        columns = _Columns(store)
        fields = {name: field_from_columns(columns, name, path) for name in options.fields}
        keep = where_mask(columns, options.where, path) if options.where else None
    metadata.update(cosmology=cosmology, n_total=len(ids))
    points = PointSet(positions, ids=ids, metadata=metadata, fields=fields)
    if keep is None:
        return points
    if not keep.any():
        raise DelvolError(f"no galaxy passes --where {' '.join(options.where)}", path)
    points = points.subset(keep)
    points.metadata.update(where=list(options.where), n_read=len(keep))
    return points


class _Columns(Mapping):
    """A store's catalogue columns as a mapping that reads a column only when asked."""

    def __init__(self, store: GalaxyStore) -> None:
        self.store = store
        self.names = list(store.columns())

    def __getitem__(self, name: str) -> np.ndarray:
        return self.store.column(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)
