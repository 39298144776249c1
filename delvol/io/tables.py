"""Read tabular catalogues (CSV, whitespace text, FITS binary tables) into columns.

Both the point loaders and the galaxy-store ingest read catalogues through here, so a
column means the same thing to both.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError

FITS_MAGIC = b"SIMPLE  ="


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
        from a header line, or from the last ``#`` comment line before the data when it
        has one word per column; else they get ``col1``, ``col2``, ...
    hdu : int or str
        FITS extension holding the binary table.

    Raises
    ------
    DelvolError
        Unreadable file, or a file that is not a table.
    """
    from astropy.table import Table

    p = Path(path)
    fmt = format or detect_table_format(p)
    try:
        if fmt == "fits":
            table = Table.read(p, format="fits", hdu=hdu)
        elif fmt == "csv":
            table = Table.read(p, format="ascii.csv", comment="#")
        elif fmt == "text":
            names = _commented_header(p)
            if names is None:
                table = Table.read(p, format="ascii", guess=True)
            else:
                table = Table.read(p, format="ascii.no_header", names=names)
        else:
            raise DelvolError(f"unknown table format {fmt!r} (expected csv, text or fits)", p)
    except DelvolError:
        raise
    except Exception as exc:  # astropy raises many types for malformed files
        raise DelvolError(f"cannot read as a {fmt} table ({' '.join(str(exc).split())[:200]})", p) from exc
    if len(table.colnames) == 0:
        raise DelvolError("the table has no columns", p)
    return {name: _plain(table[name]) for name in table.colnames}


def detect_table_format(path: Path) -> str:
    """``"fits"``, ``"csv"`` or ``"text"``, from the file's content."""
    if is_fits(path):
        return "fits"
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.strip()
            if line and not line.startswith(b"#"):
                return "csv" if b"," in line else "text"
    raise DelvolError("the file is empty", path)


def _commented_header(path: Path) -> list[str] | None:
    """Names from the comment line just above numeric data, when it has one word per column.

    Astropy's own guess only looks at the first comment line, which in files with a
    descriptive comment block is prose rather than the column names.
    """
    header = None
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", errors="replace").strip()
            if line.startswith("#"):
                header = line.lstrip("#").split()
            elif line:
                words = line.split()
                return header if header and len(header) == len(words) and all(map(_is_number, words)) else None
    return None


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _plain(column) -> np.ndarray:
    """A native-endian ndarray; masked (missing) numbers become NaN."""
    data = (
        np.ma.filled(column, np.nan)
        if getattr(column, "mask", None) is not None and column.dtype.kind == "f"
        else column
    )
    arr = np.asarray(data)
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind == "S":
        arr = arr.astype(str)
    return arr


def find_column(columns: dict[str, np.ndarray] | list[str], *candidates: str) -> str | None:
    """The first column whose name matches one of ``candidates`` case-insensitively.

    An exact match wins over one that differs only in case.
    """
    lower = {name.lower(): name for name in columns}
    for cand in candidates:
        if cand in columns:
            return cand
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None
