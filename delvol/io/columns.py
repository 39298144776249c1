"""Named columns and arrays to points: which column plays which role.

Catalogue tables, structured arrays and the arrays inside ``.npz`` and HDF5 containers all
come through here, so a role is matched to a name the same way for every format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.io.fields import canonical, field_from_columns, find_field, temperature
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.sky import DEFAULT_COSMOLOGY, sky_to_cartesian
from delvol.io.tables import find_column, read_table
from delvol.io.where import where_mask

CARTESIAN = ("x", "y", "z")
SKY = ("ra", "dec", "redshift")
ROLES = (*CARTESIAN, *SKY, "mass", "id")

#: Names tried for each role, case-insensitively, in order of preference.
DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    # col1..col3 are what a text file without a header line gets from astropy.
    "x": ("x", "col1"),
    "y": ("y", "col2"),
    "z": ("z", "col3"),
    "ra": ("ra", "ra_deg", "raj2000"),
    "dec": ("dec", "dec_deg", "dej2000", "decj2000"),
    # SDSS exports carry a `z` magnitude beside `redshift`, so `redshift` must win.
    "redshift": ("redshift", "z"),
    "mass": ("mass", "masses"),
    "id": ("id", "ids", "objid", "particleid", "particleids"),
}

#: Array names (in ``.npz`` files and HDF5 groups) taken to hold the positions.
POSITION_NAMES = ("pos", "positions", "points", "coordinates")


def read_catalog(path: Path, options: LoadOptions, format: str) -> PointSet:
    """Points from a CSV, whitespace-text or FITS catalogue (see :func:`points_from_columns`)."""
    return points_from_columns(read_table(path, format), path, options)


def points_from_columns(columns: Mapping[str, np.ndarray], path: Path, options: LoadOptions) -> PointSet:
    """Points from equal-length named columns, Cartesian or on the sky.

    Cartesian ``x, y, z`` columns are used when all three exist, else ``ra, dec`` with a
    redshift, converted to comoving coordinates with ``options.cosmology`` (default
    :data:`~delvol.io.sky.DEFAULT_COSMOLOGY`) and ``options.units``. ``options.columns``
    names any role explicitly. Rows failing ``options.where`` are dropped first, so a
    filter can remove rows whose coordinates are unusable.

    Raises
    ------
    DelvolError
        A role's column is missing (the message lists the available ones) or not numeric.
    """
    names = assign_roles(list(columns), options.columns, path)
    metadata: dict[str, Any] = {}
    if options.where:
        keep = where_mask(columns, options.where, path)
        if not keep.any():
            raise DelvolError(f"no row passes --where {' '.join(options.where)}", path)
        columns = {name: np.asarray(values)[keep] for name, values in columns.items()}
        metadata.update(where=list(options.where), n_read=len(keep))
    if "ra" in names:
        sky = np.column_stack([_numeric(columns, names[role], path) for role in SKY])
        require_finite(sky, "ra/dec/redshift", path)
        cosmology = options.cosmology or DEFAULT_COSMOLOGY
        try:
            ra, dec, redshift = sky.T
            positions = sky_to_cartesian(ra, dec, redshift, cosmology=cosmology, units=options.units)
        except ValueError as exc:  # a Dec beyond a pole, an unknown cosmology or unit
            raise DelvolError(str(exc), path) from exc
        metadata.update(units=options.units, cosmology=cosmology, frame="equatorial comoving")
    else:
        positions = np.column_stack([_numeric(columns, names[role], path) for role in CARTESIAN])
    masses = _numeric(columns, names["mass"], path) if "mass" in names else None
    ids = np.asarray(columns[names["id"]]) if "id" in names else None
    return PointSet(positions, masses, ids, metadata, table_fields(columns, options, path))


def table_fields(columns: Mapping[str, Any], options: LoadOptions, path: Path) -> dict[str, np.ndarray]:
    """The fields ``options.fields`` names, from a table's columns or a container's arrays.

    ``temperature``, when no column holds it, comes from a gas internal energy column
    ``u`` (see :func:`delvol.io.fields.temperature`).
    """
    out = {}
    for name in options.fields:
        if canonical(name) == "temperature" and find_field(columns, name) is None:
            out[name] = temperature(field_from_columns(columns, "u", path), options.mean_molecular_weight)
        else:
            out[name] = field_from_columns(columns, name, path)
    return out


def assign_roles(available: list[str], overrides: Mapping[str, str], path: Path) -> dict[str, str]:
    """The column name for each role present: positions (Cartesian or sky), mass and id.

    Raises
    ------
    DelvolError
        An unknown role, an override naming no column, Cartesian and sky roles mixed, or
        no column for a position role.
    """
    given = set(overrides)
    if given - set(ROLES):
        unknown = ", ".join(sorted(given - set(ROLES)))
        raise DelvolError(f"unknown column role(s) {unknown}; roles are {', '.join(ROLES)}", path)
    if given & set(CARTESIAN) and given & set(SKY):
        raise DelvolError("columns name both Cartesian (x, y, z) and sky (ra, dec, redshift) roles", path)
    if given & set(SKY):
        position_roles = SKY
    elif given & set(CARTESIAN) or all(find_column(available, *DEFAULT_NAMES[role]) for role in CARTESIAN):
        position_roles = CARTESIAN
    elif find_column(available, *DEFAULT_NAMES["ra"]) and find_column(available, *DEFAULT_NAMES["dec"]):
        position_roles = SKY
    else:
        position_roles = CARTESIAN
    names = {}
    for role in (*position_roles, "mass", "id"):
        if role in overrides:
            name = find_column(available, overrides[role])
            if name is None:
                raise DelvolError(f"no column {overrides[role]!r} (for {role}); {_listing(available)}", path)
        else:
            name = find_column(available, *DEFAULT_NAMES[role])
            if name is None and role in position_roles:
                raise DelvolError(f"no {role} column; {_listing(available)}", path)
        if name is not None:
            names[role] = name
    return names


def points_from_array(array: Any, path: Path, options: LoadOptions) -> PointSet:
    """Points from an N×3 array, or from a structured array's fields by role.

    Parameters
    ----------
    array : array_like
        Anything :func:`numpy.asarray` takes: what an HDF5 dataset or an ``.npz`` key holds
        may also be a scalar, ``bytes`` or an empty (shapeless) dataset.

    Raises
    ------
    DelvolError
        Any other shape (a scalar included) or a non-numeric array.
    """
    array = np.asarray(array)
    if array.dtype.names:
        return points_from_columns({name: array[name] for name in array.dtype.names}, path, options)
    if array.ndim != 2 or array.shape[1] != 3:
        raise DelvolError(f"expected an N×3 array or one with x, y, z fields, got shape {array.shape}", path)
    if options.columns:
        raise DelvolError("--columns names fields, but this array is a plain N×3 one (x, y, z)", path)
    if array.dtype.kind not in "biuf":
        raise DelvolError(f"expected numbers, got an array of {array.dtype}", path)
    if options.fields:
        raise DelvolError(f"no field {options.fields[0]!r}: the file holds bare N×3 positions", path)
    return PointSet(array)


def points_from_container(
    arrays: Mapping[str, Any], path: Path, options: LoadOptions, key: str | None = None
) -> PointSet:
    """Points from a set of named arrays: an ``.npz`` file or an HDF5 group.

    The positions are the array named ``key``, else the one named like
    :data:`POSITION_NAMES`, else the only N×3 or structured array. Masses and ids come from
    arrays named like their roles when the positions array does not hold them.

    Parameters
    ----------
    arrays : mapping
        Name to array, or to anything with ``shape`` and ``dtype`` that ``np.asarray``
        reads (an :class:`h5py.Dataset`).
    key : str, optional
        The array holding the positions.

    Raises
    ------
    DelvolError
        No such array, or no way to tell which array holds the positions.
    """
    if key is not None and key not in arrays:
        raise DelvolError(f"no array {key!r}; {_listing(_shapes(arrays))}", path)
    if key is None:
        key = find_column(arrays, *POSITION_NAMES) or _only_points_array(arrays, path)
    array = arrays[key]
    # Fields live beside a bare positions array, or inside a structured one.
    beside = np.dtype(getattr(array, "dtype", object)).names is None
    points = points_from_array(array, path, replace(options, fields=()) if beside else options)
    mass_key = find_column(arrays, *DEFAULT_NAMES["mass"])
    id_key = find_column(arrays, *DEFAULT_NAMES["id"])
    return PointSet(
        points.positions,
        np.asarray(arrays[mass_key]) if points.masses is None and mass_key else points.masses,
        np.asarray(arrays[id_key]) if points.ids is None and id_key else points.ids,
        points.metadata,
        table_fields(arrays, options, path) if beside else points.fields,
    )


def require_finite(values: np.ndarray, what: str, path: Path) -> None:
    """Raise a :class:`DelvolError` naming the first row that holds a NaN or infinity."""
    bad = ~np.isfinite(values)
    if bad.ndim > 1:
        bad = bad.any(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DelvolError(
            f"non-finite {what} in {len(rows):,} row(s), the first at row {rows[0]} (counting from 0)", path
        )


def _only_points_array(arrays: Mapping[str, Any], path: Path) -> str:
    candidates = [
        key for key, a in arrays.items() if (len(a.shape) == 2 and a.shape[1] == 3) or a.dtype.names is not None
    ]
    if len(candidates) != 1:
        raise DelvolError(
            f"cannot tell which array holds the positions; {_listing(_shapes(arrays))} "
            "(name one as FILE:ARRAY, or call it 'pos')",
            path,
        )
    return candidates[0]


def _numeric(columns: Mapping[str, np.ndarray], name: str, path: Path) -> np.ndarray:
    values = np.asarray(columns[name])
    if values.dtype.kind not in "biuf" or values.ndim != 1:
        raise DelvolError(f"column {name!r} does not hold numbers (dtype {values.dtype}, shape {values.shape})", path)
    return values


def _shapes(arrays: Mapping[str, Any]) -> list[str]:
    return [f"{key} {tuple(a.shape)}" for key, a in arrays.items()]


def _listing(names: list[str]) -> str:
    return f"available: {', '.join(names)}" if names else "the file has none"
