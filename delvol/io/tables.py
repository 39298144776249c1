"""Read tabular catalogues (CSV, whitespace text, FITS binary tables) into columns.

Both the point loaders and the galaxy-store ingest read catalogues through here, so a
column means the same thing to both.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from delvol.errors import DelvolError

if TYPE_CHECKING:
    from astropy.table import Table

FITS_MAGIC = b"SIMPLE  ="
UTF8_BOM = b"\xef\xbb\xbf"


def is_fits(path: Path) -> bool:
    """Whether the file starts with a FITS primary header."""
    with open(path, "rb") as fh:
        return fh.read(len(FITS_MAGIC)) == FITS_MAGIC


def read_table(path: str | os.PathLike, format: str | None = None, hdu: int | str = 1) -> dict[str, np.ndarray]:
    """All columns of a catalogue, in file order, as NumPy arrays.

    Parameters
    ----------
    path : str or os.PathLike
    format : {"csv", "text", "fits"}, optional
        Detected when omitted: FITS by its magic bytes, CSV when the first data line has
        commas, otherwise whitespace-separated text. Text files take their column names
        from a header line, or from the ``#`` comment line just above the data when it
        has one word per column; else they get ``col1``, ``col2``, ...
    hdu : int or str
        FITS extension holding the binary table.

    Returns
    -------
    dict of str to ndarray
        Missing cells (blank in CSV or text, null in FITS) are NaN in numeric columns, so an
        integer or boolean column with a missing cell comes back as float64, and ``""`` in
        text columns.

    Raises
    ------
    DelvolError
        Unreadable file, or a file that is not a table.
    """
    from astropy.table import Table

    p = Path(path)
    fmt = format or detect_table_format(p)
    # A byte-order mark (Excel writes one) would stick to the first column name. Astropy's
    # fast C reader knows no encodings, so such files take the slower Python reader.
    text_options = {"encoding": "utf-8-sig"} if _has_bom(p) else {}
    try:
        if fmt == "fits":
            table = _read_fits(p, hdu)
        elif fmt == "csv":
            table = Table.read(p, format="ascii.csv", comment="#", **text_options)
        elif fmt == "text":
            table = _read_text(p, text_options)
        else:
            raise DelvolError(f"unknown table format {fmt!r} (expected csv, text or fits)", p)
    except DelvolError:
        raise
    except Exception as exc:  # astropy raises many types for malformed files
        raise DelvolError(f"cannot read as a {fmt} table ({' '.join(str(exc).split())[:200]})", p) from exc
    if len(table.colnames) == 0:
        raise DelvolError("the table has no columns", p)
    return {name: _plain(table[name]) for name in table.colnames}


def _has_bom(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(UTF8_BOM)) == UTF8_BOM


def _read_fits(path: Path, hdu: int | str) -> Table:
    """A FITS binary table; a truncated file is an error, not a warning and a short table."""
    import warnings

    from astropy.table import Table

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*may have been truncated")
        warnings.simplefilter("ignore", category=UserWarning)  # astropy's VerifyWarning is one
        return Table.read(path, format="fits", hdu=hdu)


def detect_table_format(path: Path) -> str:
    """``"fits"``, ``"csv"`` or ``"text"``, from the file's content."""
    if is_fits(path):
        return "fits"
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.removeprefix(UTF8_BOM).strip()
            if line and not line.startswith(b"#"):
                return "csv" if b"," in line else "text"
    raise DelvolError("the file holds only comments and blank lines", path)


def _read_text(path: Path, text_options: dict[str, str]) -> Table:
    """A whitespace-separated table, its layout decided from the first lines.

    Data starting with a row of numbers has no header line; its names come from the
    comment line just above it when that has one word per column (astropy's guessing
    looks only at the first comment line, which in files with a descriptive comment
    block is prose). Otherwise the first line that is not a comment names the columns.
    Columns are separated by any run of spaces and tabs.
    """
    from astropy.io.ascii import InconsistentTableError
    from astropy.table import Table

    read_options = {"format": "ascii.basic", "guess": False, **text_options}
    with open(path, "rb") as fh:
        comment: list[str] = []
        for raw in fh:
            line = raw.removeprefix(UTF8_BOM).decode("utf-8", errors="replace").strip()
            if line.startswith("#"):
                comment = line.lstrip("#").split()
            elif line:
                words = line.split()
                if all(map(_is_number, words)):
                    read_options["format"] = "ascii.no_header"
                    if len(comment) == len(words):
                        read_options["names"] = comment
                if "\t" in line:
                    read_options["delimiter"] = r"\s"
                break
    try:
        return Table.read(path, **read_options)
    except InconsistentTableError:
        # The fast reader splits on spaces only. Splitting on any whitespace is slower, but
        # takes tabs too and names the offending line of a truly ragged file.
        return Table.read(path, **{**read_options, "delimiter": r"\s"})


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _plain(column) -> np.ndarray:
    """A native-endian ndarray, bytes as str, with its masked (missing) cells filled.

    A missing number is NaN: an integer or boolean column with a missing cell becomes
    float64, so that a blank never reads as 0 (astropy fills it with 0). Missing text is
    ``""``. Columns without a missing cell keep their type.
    """
    mask = getattr(column, "mask", None)
    arr = np.asarray(column)
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind == "S":
        arr = arr.astype(str)
    if mask is None or not np.any(mask):
        return arr
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind == "f":
        return np.where(mask, arr.dtype.type(np.nan), arr)
    if arr.dtype.kind == "U":
        return np.where(mask, "", arr)
    return arr


def find_column(columns: Collection[str], *candidates: str) -> str | None:
    """The first column whose name matches one of ``candidates`` case-insensitively.

    ``columns`` holds the names (a dict of columns will do). An exact match wins over
    one that differs only in case.
    """
    lower = {name.lower(): name for name in columns}
    for cand in candidates:
        if cand in columns:
            return cand
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None
