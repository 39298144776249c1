"""Format detection and dispatch: every supported file becomes a :class:`PointSet`.

The readers themselves live in one module per kind of file; this module knows how to tell
them apart, hands each file to its reader, and applies the cuts common to all formats.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.io.columns import read_catalog, require_finite
from delvol.io.gadget import is_gadget, read_gadget
from delvol.io.galaxy_store.database import read_store
from delvol.io.galaxy_store.schema import SQLITE_MAGIC
from delvol.io.hdf5 import HDF5_MAGIC, read_hdf5
from delvol.io.npy import NPY_MAGIC, ZIP_MAGIC, read_npy, read_npz
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.redshift_space import hubble_rate, to_redshift_space
from delvol.io.tables import FITS_MAGIC, detect_table_format
from delvol.io.where import where_mask

VELOCITY = "vel"
"""The field that ``redshift_space`` moves particles by (:mod:`delvol.io.fields`)."""

__all__ = ["FORMATS", "LoadOptions", "detect_format", "load_points"]

#: Enough of a file to recognise every format (Gadget needs 268 bytes).
HEAD_BYTES = 512
#: ``FILE:MEMBER`` names an HDF5 dataset or an ``.npz`` key.
MEMBER_PATH = re.compile(r"(.*?\.(?:hdf5|h5|hdf|he5|npz)):(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class Format:
    """A point-file format: how to read it and how to recognise it.

    Attributes
    ----------
    read : callable
        ``read(path, options) -> PointSet``.
    sniff : callable, optional
        ``sniff(head, path) -> bool`` from the file's first bytes; None for text formats,
        which are what is left.
    extensions : tuple of str
        Suffixes that claim this format; the content must then agree.
    typed : bool
        Whether the reader selects particle types (``options.ptypes``).
    """

    read: Callable[[Path, LoadOptions], PointSet]
    sniff: Callable[[bytes, Path], bool] | None = None
    extensions: tuple[str, ...] = ()
    typed: bool = False


def _starts_with(magic: bytes) -> Callable[[bytes, Path], bool]:
    return lambda head, _path: head.startswith(magic)


#: Every reader by format name, in the order content sniffing tries them.
FORMATS: dict[str, Format] = {
    "npy": Format(read_npy, _starts_with(NPY_MAGIC), (".npy",)),
    "npz": Format(read_npz, _starts_with(ZIP_MAGIC), (".npz",)),
    "hdf5": Format(read_hdf5, _starts_with(HDF5_MAGIC), (".hdf5", ".h5", ".hdf", ".he5"), typed=True),
    "fits": Format(partial(read_catalog, format="fits"), _starts_with(FITS_MAGIC), (".fits", ".fit", ".fts")),
    "store": Format(read_store, _starts_with(SQLITE_MAGIC), (".db", ".sqlite", ".sqlite3")),
    "gadget": Format(read_gadget, is_gadget, typed=True),
    "csv": Format(partial(read_catalog, format="csv")),
    "text": Format(partial(read_catalog, format="text")),
}


def detect_format(path: Path) -> str:
    """The name in :data:`FORMATS` of the reader for ``path``, from its content.

    Binary formats are recognised by their signatures; anything else that looks like text
    is CSV (commas in the first data line) or whitespace-separated text. A suffix that
    names a binary format (``.npy``, ``.h5``, ...) must agree with the content.

    Raises
    ------
    DelvolError
        An empty file, a suffix the content contradicts, or unrecognised binary content.
    """
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if not head:
        raise DelvolError("the file is empty", path)
    found = next((name for name, fmt in FORMATS.items() if fmt.sniff and fmt.sniff(head, path)), None)
    if found is None and b"\x00" in head:
        raise DelvolError(
            "unrecognised binary content (not NumPy, HDF5, FITS, SQLite or Gadget-2); use --format to force a reader",
            path,
        )
    suffix = path.suffix.lower()
    claimed = next((name for name, fmt in FORMATS.items() if suffix in fmt.extensions), None)
    if claimed is not None and claimed != found:
        raise DelvolError(f"named {suffix} but the content looks like {found or 'text'}, not {claimed}", path)
    return found or detect_table_format(path)


def load_points(path: str | os.PathLike, options: LoadOptions | None = None) -> PointSet:
    """Read any supported point file.

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``FILE.hdf5:DATASET`` or ``FILE.npz:KEY`` names the array to read.
    options : LoadOptions, optional
        Format, column roles, particle types, cosmology and cuts.

    Returns
    -------
    PointSet
        ``metadata`` holds at least ``source``, ``format`` and ``n_total`` (points before
        the ``box`` cut and the ``max_points`` subsample).

    Raises
    ------
    DelvolError
        The file is missing, unreadable, or holds no usable points.
    """
    options = options or LoadOptions()
    p = Path(path)
    member = MEMBER_PATH.fullmatch(os.fspath(path))
    if not p.exists() and member:
        p = Path(member.group(1))
        options = replace(options, dataset=member.group(2))
    if p.is_dir():
        raise DelvolError("a folder with no index.json: neither a point file nor a delvol block folder", p)
    if not p.is_file():
        raise DelvolError("no such file" if not p.exists() else "not a regular file", p)
    if os.fspath(path).endswith(("/", os.sep)):  # Path drops the slash that asked for a folder
        raise DelvolError("not a folder, though the name given ends in '/'", p)
    name = options.format or detect_format(p)
    fmt = FORMATS.get(name)
    if fmt is None:
        raise DelvolError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}", p)
    if options.ptypes is not None and not fmt.typed:
        raise DelvolError(f"particle types apply to snapshots, not to {name} files", p)
    if options.redshift_space is not None and VELOCITY not in options.fields:
        # Redshift space moves particles by their velocities: read them as a field too.
        read_options = replace(options, fields=(*options.fields, VELOCITY))
    else:
        read_options = options
    try:
        points = fmt.read(p, read_options)
    except DelvolError:
        raise
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        # Malformed files make the libraries raise all of these, with useful messages.
        raise DelvolError(f"cannot read as {name}: {exc}", p) from exc
    if len(points) == 0:
        raise DelvolError("the file holds no points", p)
    require_finite(points.positions, "coordinates", p)
    if points.masses is not None:
        require_finite(points.masses, "masses", p)
    for field, values in points.fields.items():
        require_finite(values, f"values of field {field!r}", p)
    units = points.metadata.setdefault("field_units", {})
    for field in points.fields:
        units.setdefault(field, "as stored")
    if options.redshift_space is not None:
        points = _redshift_space(points, options.redshift_space, options, p)
    n_total = points.metadata.pop("n_read", len(points))
    if options.where and "where" not in points.metadata:
        points = _filter(points, options.where, p)
    points.metadata.update(source=os.fspath(path), format=name, n_total=n_total)
    return _cut(points, options, p)


def _redshift_space(points: PointSet, axis: str, options: LoadOptions, path: Path) -> PointSet:
    """Displace the particles along ``axis`` by their velocities (the ``vel`` field)."""
    velocities = points.fields[VELOCITY]
    if VELOCITY not in options.fields:  # read only for this
        del points.fields[VELOCITY]
        points.metadata["field_units"].pop(VELOCITY, None)
    if velocities.shape != points.positions.shape:
        raise DelvolError(
            f"--redshift-space needs 3-D velocities, field {VELOCITY!r} has shape {velocities.shape}", path
        )
    a_hubble = hubble_rate(points, options.cosmology)
    box = points.metadata.get("box_size")
    points.positions = to_redshift_space(points.positions, velocities, axis, a_hubble, box)
    points.metadata["redshift_space"] = f"along {axis}, v / aH with aH = {a_hubble:.6g} km/s per unit"
    return points


def _filter(points: PointSet, where: tuple[str, ...], path: Path) -> PointSet:
    """Apply ``--where`` to a file without named columns, on x, y, z, mass and id."""
    columns = dict(zip(("x", "y", "z"), points.positions.T, strict=True))
    if points.masses is not None:
        columns["mass"] = points.masses
    if points.ids is not None:
        columns["id"] = points.ids
    keep = where_mask(columns, where, path)
    if not keep.any():
        raise DelvolError(f"no point passes --where {' '.join(where)}", path)
    points = points.subset(keep)
    points.metadata["where"] = list(where)
    return points


def _cut(points: PointSet, options: LoadOptions, path: Path) -> PointSet:
    """Apply the ``box`` cut, then the seeded ``max_points`` subsample."""
    if options.box is not None:
        lo, hi = options.box
        points = points.subset(np.all((points.positions >= lo) & (points.positions <= hi), axis=1))
        if len(points) == 0:
            raise DelvolError("no points inside the box", path)
    if options.max_points is not None:
        if options.max_points < 1:
            raise DelvolError(f"the subsample size must be at least 1, got {options.max_points}")
        if len(points) > options.max_points:
            rng = np.random.default_rng(options.seed)
            points = points.subset(np.sort(rng.choice(len(points), options.max_points, replace=False)))
    return points
