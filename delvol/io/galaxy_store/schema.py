"""The galaxy store's SQLite layout: tables, identifier quoting, opening and checking a file.

A store holds three tables:

``galaxies``
    ``objid`` (INTEGER or TEXT primary key), ``ra``, ``dec`` (degrees), ``redshift``, then
    every other catalogue column under its own (quoted) name.
``images``
    ``objid`` (primary key, references ``galaxies``), ``img`` (the original encoded bytes,
    unchanged), ``format`` (Pillow's name, e.g. ``"JPEG"``), ``width``, ``height``.
``meta``
    ``key``/``value`` text pairs: ``format``, ``schema_version``, provenance of the last
    ingest, the id columns and the cosmology.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError

STORE_FORMAT = "delvol-galaxy-store"
SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
CORE_COLUMNS = ("objid", "ra", "dec", "redshift")
# Names an extra column may not take: the core columns, and the aliases SQLite gives the
# rowid, which a real column of that name would shadow in ``ORDER BY rowid``.
RESERVED_NAMES = frozenset({*CORE_COLUMNS, "rowid", "oid", "_rowid_"})
BUSY_TIMEOUT_S = 30.0
FOLD_TIMEOUT_S = 10.0
"""How long the end of an ingest waits for readers before leaving rows in the ``-wal`` file."""
SQLITE_FULL = 13
PAGE_SIZE = 8192
"""Bytes per database page. A row lives whole on one page when it fits, so 4 KiB pages
hold a single 2.5 kB thumbnail each (1.65x the image bytes); 8 KiB pages hold three
(1.10x), and cost 424x424 SDSS JPEGs (~14 kB, in overflow pages) 4 % more than 4 KiB."""


def quote_identifier(name: str) -> str:
    """``name`` as an SQL identifier that no quote, semicolon or space can break out of.

    Raises
    ------
    DelvolError
        For an empty name or one holding a NUL character, which SQLite cannot store.
    """
    if not name or "\x00" in name:
        raise DelvolError(f"unusable column name {name!r}")
    return '"' + name.replace('"', '""') + '"'


def sql_type(values: np.ndarray) -> str:
    """The SQLite column type for a NumPy column: INTEGER, REAL or TEXT."""
    kind = values.dtype.kind
    if kind == "f":
        return "REAL"
    if kind in "bi":
        return "INTEGER"
    if kind == "u":
        # SQLite integers are signed 64-bit; larger unsigned values keep every digit as text.
        return "INTEGER" if values.size == 0 or int(values.max()) <= np.iinfo(np.int64).max else "TEXT"
    return "TEXT"


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string, for provenance entries in ``meta``."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def create_tables(conn: sqlite3.Connection, objid_type: str) -> None:
    """Create the three tables and mark the file as a store (inside the caller's transaction)."""
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    write_meta(conn, {"format": STORE_FORMAT, "schema_version": str(SCHEMA_VERSION), "created": utc_now()})
    conn.execute(
        f"CREATE TABLE galaxies (objid {objid_type} PRIMARY KEY NOT NULL, "
        "ra REAL NOT NULL, dec REAL NOT NULL, redshift REAL NOT NULL)"
    )
    conn.execute(
        f"CREATE TABLE images (objid {objid_type} PRIMARY KEY NOT NULL REFERENCES galaxies (objid), "
        "img BLOB NOT NULL, format TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL)"
    )


def write_meta(conn: sqlite3.Connection, items: dict[str, str]) -> None:
    """Set or replace ``meta`` entries (inside the caller's transaction)."""
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        list(items.items()),
    )


@contextmanager
def sqlite_errors(path: Path) -> Iterator[None]:
    """Turn SQLite errors into one-line :class:`DelvolError` naming the store."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL or "disk is full" in str(exc):
            raise DelvolError(
                "disk full; every batch committed before is kept, and running the same ingest again resumes",
                path,
            ) from exc
        raise DelvolError(f"SQLite: {exc}", path) from exc
    except sqlite3.DatabaseError as exc:
        # The base class is what SQLite's CORRUPT and NOTADB codes arrive as.
        raise DelvolError(f"damaged or truncated galaxy store (SQLite: {exc})", path) from exc


def check_file(path: Path, mode: str) -> None:
    """Refuse, before SQLite sees it, a file that cannot be a store.

    A missing file is fine in append mode (it will be created). Truncation is found from
    the page count in the header, which is cheap where ``PRAGMA integrity_check`` reads
    every page; it is skipped while a write-ahead log holds pages not yet copied back.
    """
    if not path.exists():
        if mode == "r":
            raise DelvolError("no such file", path)
        return
    if not path.is_file():
        raise DelvolError("not a regular file", path)
    size = path.stat().st_size
    if size == 0:
        if mode == "r":
            raise DelvolError("empty file, not a galaxy store", path)
        return
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise DelvolError("not a SQLite database, so not a delvol galaxy store", path)
    if len(header) < 100:
        raise DelvolError(f"truncated database ({size} bytes, shorter than its header)", path)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    n_pages = int.from_bytes(header[28:32], "big")
    header_size_valid = header[24:28] == header[92:96]
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if header_size_valid and not wal_pending and size < n_pages * page_size:
        raise DelvolError(f"truncated database ({size:,} bytes, its header promises {n_pages * page_size:,})", path)


def connect(path: Path, mode: str) -> sqlite3.Connection:
    """An autocommit connection; for ``"r"`` one that cannot change the store.

    A reader opens read-write with ``query_only`` on where it may, because then the last
    connection to close folds the write-ahead log into the file and removes it (a
    ``mode=ro`` connection cannot). Failing that it opens ``mode=ro``, and on read-only
    media, where SQLite cannot create the ``-shm`` file a WAL store needs, as immutable.
    """
    check_file(path, mode)
    if mode != "r":
        with sqlite_errors(path):
            return sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    uri = path.resolve().as_uri()
    for query, setup in (("?mode=rw", "PRAGMA query_only = ON"), ("?mode=ro", None), ("?mode=ro&immutable=1", None)):
        if query.endswith("immutable=1") and _wal_pending(path):
            break  # immutable would silently ignore committed rows still in the log
        conn = None
        try:
            conn = sqlite3.connect(uri + query, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)
            if setup:
                conn.execute(setup)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            last = exc
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            with sqlite_errors(path):
                raise exc from None
    with sqlite_errors(path):
        raise last


def _wal_pending(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0


def start_writing(conn: sqlite3.Connection, path: Path, new: bool) -> None:
    """Switch a checked store to write-ahead logging before writing to it.

    WAL lets readers go on while an ingest writes; NORMAL sync keeps every committed batch
    through a crash of the process, syncing only at checkpoints. A new store gets
    :data:`PAGE_SIZE` pages (fixed once WAL is on).
    """
    with sqlite_errors(path):
        if new:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """Put the store in write-ahead-log mode unless it is already, retrying for up to :data:`BUSY_TIMEOUT_S`.

    Asking for WAL on a WAL store still needs the file to itself, so it would wait out the
    busy timeout behind any open read transaction and fail: the mode is read first. The
    switch itself is refused at once, without SQLite's busy handler, while another
    connection writes or switches the file: two ingests starting together on a new store.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            if (conn.execute("PRAGMA journal_mode").fetchone()[0] or "").lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, 0.2)


def read_meta(conn: sqlite3.Connection, path: Path, mode: str) -> dict[str, str]:
    """The ``meta`` table, after checking that this is a store of a known version.

    Returns an empty dict for a brand-new database opened to append (no tables yet).

    Raises
    ------
    DelvolError
        A foreign SQLite file, a store of an unknown schema version, or a damaged file.
    """
    with sqlite_errors(path):
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables and mode == "a":
            return {}
        if not {"meta", "galaxies", "images"} <= tables:
            raise DelvolError("a SQLite database but not a delvol galaxy store (no delvol meta table)", path)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("format") != STORE_FORMAT:
        raise DelvolError("a SQLite database but not a delvol galaxy store (no delvol format in meta)", path)
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise DelvolError(
            f"galaxy store schema version {meta.get('schema_version')!r} is unknown "
            f"(this delvol reads version {SCHEMA_VERSION})",
            path,
        )
    return meta


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taking the write lock at the start so it cannot fail halfway.

    When SQLite has already rolled back by itself (it does on a full disk), no ROLLBACK is
    issued, and a failing ROLLBACK never hides the error that caused it.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the error being raised says why
        raise


def fold_wal(conn: sqlite3.Connection, timeout_s: float | None = None) -> bool:
    """Copy every committed page from the write-ahead log into the database file, and empty the log.

    Afterwards the ``.db`` file alone is the whole store: it can be copied on its own, and
    opens from read-only media. The checkpoint waits up to ``timeout_s`` (default
    :data:`FOLD_TIMEOUT_S`) for readers to finish the read transactions they hold
    (delvol's own readers hold only short ones).

    Returns
    -------
    bool
        Whether the log is now empty; False when a reader kept a snapshot open throughout
        (its pages are folded in when the last connection to the store closes).
    """
    if not (conn.execute("PRAGMA journal_mode").fetchone()[0] or "").lower() == "wal":
        return True
    timeout_s = FOLD_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        conn.execute(f"PRAGMA busy_timeout = {round(timeout_s * 1000)}")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT_S * 1000)}")
    return busy == 0
