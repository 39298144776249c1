"""Turn a catalogue table into galaxy-store rows: ids, sky coordinates and extra columns.

Sky columns are found as the point loaders find them
(:data:`delvol.io.columns.DEFAULT_NAMES`: ``ra``, ``dec``, ``redshift`` before ``z``,
because SDSS exports carry a ``z`` magnitude too); ids come from ``objid``, else ``id``.
Names match exactly before they match ignoring case.

Id policy: every selected row must have an id and the ids must be unique among the
selected rows; a blank or null id cell, or a repeated id (the error lists examples), stops
the ingest. One id column keeps its type (integer or text; integral floats become
integers). Several id columns make a text id joined by ``-`` (``plate,mjd,fiberid`` gives
``"3306-54922-491"``) and stay as extra columns too. With no id column the 0-based row
number in the file (counted before ``--where``) is the id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.io.columns import DEFAULT_NAMES, SKY
from delvol.io.galaxy_store.schema import CORE_COLUMNS, RESERVED_NAMES, quote_identifier, sql_type
from delvol.io.sky import valid_declination
from delvol.io.tables import find_column
from delvol.io.where import where_mask

EXAMPLES = 5
"""How many example values an error or report quotes."""
ROLE_CANDIDATES = {role: DEFAULT_NAMES[role] for role in SKY}
ID_CANDIDATES = ("objid", "id")


@dataclass
class CatalogRows:
    """The ``galaxies`` rows made from a catalogue.

    Attributes
    ----------
    columns : list of str
        Stored column names, ``objid``, ``ra``, ``dec``, ``redshift`` first.
    rows : list of tuple
        One tuple of Python values per galaxy, in ``columns`` order.
    objid_type : {"INTEGER", "TEXT"}
    extra_types : dict
        SQLite type of each extra column, by stored name.
    id_columns : list of str
        Catalogue columns the ids come from; empty when they are row numbers.
    n_read : int
        Rows in the file.
    n_selected : int
        Rows that passed ``--where``.
    bad_coordinates : list
        Ids of selected rows dropped for a missing or non-finite ra, dec or redshift, or a
        dec outside [-90, 90].
    renamed : dict
        Catalogue column name to stored name, for extras that clashed with another name
        (SQLite column names ignore case).
    skipped_columns : list of str
        Array-valued catalogue columns, which the store cannot hold.
    """

    columns: list[str]
    rows: list[tuple]
    objid_type: str
    extra_types: dict[str, str]
    id_columns: list[str]
    n_read: int
    n_selected: int
    bad_coordinates: list = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    skipped_columns: list[str] = field(default_factory=list)

    @property
    def objids(self) -> list:
        """The id of every row."""
        return [row[0] for row in self.rows]


def plan_catalog(
    table: dict[str, np.ndarray],
    path: Path,
    id_columns: Sequence[str] | None = None,
    where: Sequence[str] = (),
) -> CatalogRows:
    """Select, identify and convert the rows of a catalogue read by :func:`~delvol.io.tables.read_table`.

    Parameters
    ----------
    table : dict
        Catalogue columns.
    path : Path
        The catalogue, for error messages.
    id_columns : sequence of str, optional
        Columns making the id; default: ``objid`` or ``id`` if present, else row numbers.
    where : sequence of str
        ``--where`` clauses (:mod:`delvol.io.where`), all of which a row must pass.

    Raises
    ------
    DelvolError
        A named column is missing, a role column is not numeric, a filter is malformed,
        or the ids are missing in some row or not unique.
    """
    n_read = len(next(iter(table.values())))
    roles = {role: _role(table, path, role, *candidates) for role, candidates in ROLE_CANDIDATES.items()}
    sky = {role: _numeric(table, name, path) for role, name in roles.items()}
    if id_columns:
        id_columns = [_resolve(table, name, path, "--id") for name in id_columns]
    else:
        found = find_column(table, *ID_CANDIDATES)
        id_columns = [found] if found else []
    selected = np.flatnonzero(where_mask(table, where, path))
    objids, objid_type = _make_ids(table, id_columns, selected, path)
    _check_unique(objids, id_columns, path)

    # RA is periodic and is stored in [0, 360); a Dec beyond a pole is as unusable as a NaN.
    sky["ra"] = np.mod(sky["ra"], 360.0)
    finite = np.logical_and.reduce([np.isfinite(sky[role][selected]) for role in ROLE_CANDIDATES])
    finite &= valid_declination(sky["dec"][selected])
    bad = [objid for objid, ok in zip(objids, finite, strict=True) if not ok]
    keep = selected[finite]
    objids = [objid for objid, ok in zip(objids, finite, strict=True) if ok]

    consumed = set(roles.values())
    if len(id_columns) == 1:
        consumed.add(id_columns[0])
    extras, renamed, skipped = _extra_columns(table, consumed, path)

    values = [objids, *(sky[role][keep].tolist() for role in ROLE_CANDIDATES)]
    values += [_sql_values(table[name][keep], decl) for name, (_, decl) in extras.items()]
    return CatalogRows(
        columns=[*CORE_COLUMNS, *(stored for stored, _ in extras.values())],
        rows=list(zip(*values, strict=True)),
        objid_type=objid_type,
        extra_types={stored: decl for stored, decl in extras.values()},
        id_columns=id_columns,
        n_read=n_read,
        n_selected=len(selected),
        bad_coordinates=bad,
        renamed=renamed,
        skipped_columns=skipped,
    )


def _resolve(table: dict[str, np.ndarray], name: str, path: Path, flag: str) -> str:
    """The column called ``name``, or an error listing the columns."""
    found = find_column(table, name)
    if found is None:
        raise DelvolError(f"{flag}: no column {name!r}; the columns are {', '.join(map(repr, table))}", path)
    return found


def _role(table: dict[str, np.ndarray], path: Path, role: str, *candidates: str) -> str:
    found = find_column(table, *candidates)
    if found is None:
        raise DelvolError(
            f"no {role} column (looked for {' or '.join(candidates)}); the columns are {', '.join(map(repr, table))}",
            path,
        )
    return found


def _numeric(table: dict[str, np.ndarray], name: str, path: Path) -> np.ndarray:
    if table[name].ndim != 1 or table[name].dtype.kind not in "iuf":
        raise DelvolError(f"column {name!r} is not a column of numbers", path)
    return table[name].astype(np.float64)


def _make_ids(table: dict[str, np.ndarray], id_columns: list[str], rows: np.ndarray, path: Path) -> tuple[list, str]:
    """The id of each selected row and the SQLite type they share."""
    if not id_columns:
        return rows.tolist(), "INTEGER"
    parts = [_id_part(table[name][rows], name, path) for name in id_columns]
    if len(parts) == 1:
        return parts[0]
    ids = ["-".join(map(str, values)) for values in zip(*(values for values, _ in parts), strict=True)]
    return ids, "TEXT"


def _id_part(values: np.ndarray, name: str, path: Path) -> tuple[list, str]:
    if values.ndim != 1:
        raise DelvolError(f"--id: column {name!r} holds arrays, not single values", path)
    decl = sql_type(values)
    if decl == "TEXT":
        ids = [str(v).strip() for v in values.tolist()]
        _refuse_missing(ids.count(""), name, path)
        return ids, "TEXT"
    if decl == "REAL":
        _refuse_missing(int(np.count_nonzero(np.isnan(values))), name, path)
        if not np.all(np.isfinite(values) & (values == np.round(values))):
            raise DelvolError(f"--id: column {name!r} holds non-integer numbers, which cannot be ids", path)
    return values.astype(np.int64).tolist(), "INTEGER"


def _refuse_missing(count: int, name: str, path: Path) -> None:
    """Refuse an id column with ``count`` missing (blank or null) values."""
    if count:
        raise DelvolError(f"--id: column {name!r} has {count:,} missing or empty values; every row needs an id", path)


def _check_unique(objids: list, id_columns: list[str], path: Path) -> None:
    repeated = [value for value, count in Counter(objids).items() if count > 1]
    if repeated:
        source = ",".join(id_columns) or "row numbers"
        examples = ", ".join(map(str, repeated[:EXAMPLES]))
        raise DelvolError(
            f"ids from {source} are not unique: {len(repeated):,} values repeat (e.g. {examples}); "
            "choose a unique --id, or several columns such as --id plate,mjd,fiberid",
            path,
        )


def _extra_columns(
    table: dict[str, np.ndarray], consumed: set[str], path: Path
) -> tuple[dict[str, tuple[str, str]], dict[str, str], list[str]]:
    """Catalogue name -> (stored name, SQLite type) for every column kept as an extra."""
    taken = set(RESERVED_NAMES)
    extras: dict[str, tuple[str, str]] = {}
    renamed: dict[str, str] = {}
    skipped: list[str] = []
    for name, values in table.items():
        if name in consumed:
            continue
        if values.ndim != 1:
            skipped.append(name)
            continue
        try:
            quote_identifier(name)
        except DelvolError as exc:
            raise DelvolError(exc.problem, path) from None
        stored, n = name, 2
        while stored.lower() in taken:
            stored, n = f"{name}_{n}", n + 1
        if stored != name:
            renamed[name] = stored
        taken.add(stored.lower())
        extras[name] = (stored, sql_type(values))
    return extras, renamed, skipped


def _sql_values(values: np.ndarray, decl: str) -> list:
    """Python values SQLite can bind (it stores a NaN as NULL)."""
    if decl == "TEXT" and values.dtype.kind != "U":
        return [str(v) for v in values.tolist()]
    return values.tolist()
