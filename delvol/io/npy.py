"""NumPy ``.npy`` arrays and ``.npz`` archives."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.io.columns import points_from_array, points_from_container
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.tables import find_column

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"


def read_npy(path: Path, options: LoadOptions) -> PointSet:
    """An N×3 array, or a structured array with x, y, z (or ra, dec, redshift) fields.

    Never unpickles: an object array raises instead.
    """
    return points_from_array(np.load(path, allow_pickle=False), path, options)


def read_npz(path: Path, options: LoadOptions) -> PointSet:
    """The positions array of an ``np.savez`` archive, with masses, ids and box size.

    The positions are the array named by ``options.dataset``, else one called ``pos``,
    ``positions``, ``points`` or ``coordinates``, else the only N×3 or structured array.
    Arrays called ``mass``/``masses`` and ``id``/``ids`` give masses and ids, and a
    scalar ``box_size`` the periodic box.
    """
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
