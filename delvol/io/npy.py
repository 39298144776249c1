"""NumPy ``.npy`` arrays and ``.npz`` archives."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from tokenize import TokenError
from typing import IO

import numpy as np

from delvol.errors import DelvolError
from delvol.io.columns import points_from_array, points_from_container
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.tables import find_column
from delvol.memory import format_bytes, require_memory

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"


def read_npy(path: Path, options: LoadOptions) -> PointSet:
    """An N×3 array, or a structured array with x, y, z (or ra, dec, redshift) fields.

    Never unpickles: an object array raises instead. The header is checked against the
    file's length and the available memory before anything is allocated.
    """
    with open(path, "rb") as fh:
        check_npy_header(fh, path.stat().st_size, path)
    return points_from_array(np.load(path, allow_pickle=False), path, options)


def check_npy_header(fh: IO[bytes], length: int, path: Path, member: str | None = None) -> None:
    """Refuse an array whose header promises more data than there is, or than memory holds.

    Parameters
    ----------
    fh : file
        Positioned at the start of the ``.npy`` data (its magic string).
    length : int
        Bytes the array's file (or ``.npz`` member) really holds.
    path : Path
        The file, for the message.
    member : str, optional
        The ``.npz`` member being checked, for the message.

    Raises
    ------
    DelvolError
    """
    from numpy.lib import format as npy_format

    where = f"array {member!r}" if member else "the array"
    try:
        version = npy_format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(fh)
        else:
            return  # version 3 (UTF-8 field names) is left to np.load
    except (ValueError, SyntaxError, EOFError, TokenError) as exc:  # what a damaged header makes NumPy raise
        raise DelvolError(f"damaged .npy header of {where} ({' '.join(str(exc).split())[:100]})", path) from exc
    if dtype.hasobject:
        return  # np.load refuses it: it would need unpickling
    nbytes = math.prod(shape) * dtype.itemsize
    held = length - fh.tell()
    if nbytes > held:
        raise DelvolError(
            f"truncated: the header of {where} declares shape {shape} of {dtype} ({format_bytes(nbytes)}) "
            f"but the file holds {format_bytes(max(held, 0))} of data",
            path,
        )
    require_memory(nbytes, f"{where} of shape {shape}", path)


def read_npz(path: Path, options: LoadOptions) -> PointSet:
    """The positions array of an ``np.savez`` archive, with masses, ids and box size.

    The positions are the array named by ``options.dataset``, else one called ``pos``,
    ``positions``, ``points`` or ``coordinates``, else the only N×3 or structured array.
    Arrays called ``mass``/``masses`` and ``id``/``ids`` give masses and ids, and a
    scalar ``box_size`` the periodic box.
    """
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.endswith(".npy"):
                with archive.open(info) as fh:
                    check_npy_header(fh, info.file_size, path, info.filename.removesuffix(".npy"))
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    # NpzFile hands back the raw bytes of zip members that are not .npy files.
    strays = [key for key, value in arrays.items() if not isinstance(value, np.ndarray)]
    if strays:
        raise DelvolError(f"not an .npz archive: {', '.join(strays)} are not NumPy arrays", path)
    points = points_from_container(arrays, path, options, options.dataset)
    box_key = find_column(arrays, "box_size", "boxsize")
    if box_key is not None:
        if arrays[box_key].size != 1:
            raise DelvolError(f"{box_key!r} must be a single number, got shape {arrays[box_key].shape}", path)
        points.metadata["box_size"] = float(arrays[box_key].item())
    return points
