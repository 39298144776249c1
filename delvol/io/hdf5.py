"""HDF5 files: Gadget-4/SWIFT snapshots, a named dataset, or top-level position arrays."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.io.columns import POSITION_NAMES, points_from_array, points_from_container
from delvol.io.fields import (
    canonical,
    field_from_columns,
    find_field,
    snapshot_units,
    temperature,
    velocity_factor,
)
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.snapshot import CODE_UNITS, cubic_box, gas_only, length_units, merge_types, select_types
from delvol.io.tables import find_column
from delvol.memory import require_memory

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
PARTICLE_GROUP = re.compile(r"PartType(\d+)")
#: File attributes that may state the length unit in words, such as ``"comoving Mpc/h"``.
UNIT_ATTRIBUTES = ("units_pos", "units", "Units", "length_unit", "LengthUnit", "unit_length")
UNIT_WORD = re.compile(r"\b(?:kpc|Mpc|Gpc)(?:/h)?\b")


def read_hdf5(path: Path, options: LoadOptions) -> PointSet:
    """Points from an HDF5 file.

    With ``options.dataset``, that dataset (N×3 or structured). Otherwise a file with
    ``PartTypeN/Coordinates`` groups is read as a Gadget-4/SWIFT snapshot (the types in
    ``options.ptypes``, default all), and any other file through its top-level datasets:
    the one named ``pos``, ``positions``, ``points`` or ``Coordinates``, or the only N×3
    one. File attributes ``BoxSize``, ``Redshift`` and ``ParticleMassHMsun`` (one mass
    for every particle) are used where present.

    Fields (``options.fields``) are datasets of that name or alias beside the positions
    (``vel`` finds ``vel`` or ``Velocities``), or in each ``PartTypeN`` group. Gadget-4
    velocities are scaled by sqrt(a) to peculiar km/s (SWIFT's are peculiar already),
    and ``temperature`` without a dataset comes from the gas ``InternalEnergy``; see
    :mod:`delvol.io.fields`.

    Raises
    ------
    DelvolError
        No such dataset, no recognisable positions, or a missing particle type.
    """
    import h5py

    with h5py.File(path, "r") as f:
        if options.dataset is not None:
            try:
                dataset = f.get(options.dataset)
            except (KeyError, RuntimeError):  # a dangling or looping link on the way
                dataset = None
            if not isinstance(dataset, h5py.Dataset):
                raise DelvolError(f"no dataset {options.dataset!r}; datasets: {', '.join(_datasets(f))}", path)
            return points_from_array(read_dataset(dataset, path), path, options)
        members = dict(_members(f))
        groups = {
            int(m.group(1)): item
            for name, item in members.items()
            if (m := PARTICLE_GROUP.fullmatch(name)) and isinstance(item, h5py.Group) and "Coordinates" in item
        }
        if groups:
            return _snapshot(f, groups, path, options)
        if options.ptypes is not None:
            raise DelvolError("particle types apply to snapshots; this HDF5 file has no PartTypeN groups", path)
        # A shapeless (h5py.Empty) dataset holds nothing to read.
        arrays = {
            name: _Guarded(item, path)
            for name, item in members.items()
            if isinstance(item, h5py.Dataset) and item.shape is not None
        }
        points = points_from_container(arrays, path, options)
        units = {name: _stated_units(f, arrays, name) for name in points.fields}
        points.metadata["field_units"] = {name: unit for name, unit in units.items() if unit is not None}
        position_key = find_column(arrays, *POSITION_NAMES)
        length = _stated_units(f, arrays, position_key) if position_key else None
        if length is not None:
            # The length unit alone ("comoving Mpc/h" -> "Mpc/h"): unit conversions compare it.
            word = UNIT_WORD.search(length)
            points.metadata["units"] = word.group(0) if word else length
        attrs = f.attrs
        if points.masses is None and "ParticleMassHMsun" in attrs:
            points.masses = np.full(len(points), float(attrs["ParticleMassHMsun"]))
        return _with_header(points, attrs)


def _snapshot(f: Any, groups: dict[int, Any], path: Path, options: LoadOptions) -> PointSet:
    """The selected particle types of a Gadget-4 or SWIFT snapshot, with their fields."""
    header = f["Header"].attrs if "Header" in f else {}
    mass_table = np.atleast_1d(header.get("MassTable", []))
    swift = "Units" in f
    types = select_types({t: len(g["Coordinates"]) for t, g in groups.items()}, options.ptypes, path)
    # Temperature comes from the internal energy when no dataset holds it, as for Gadget-2.
    derived = [n for n in options.fields if canonical(n) == "temperature" and find_field(groups[types[0]], n) is None]
    gas_only([n for n in options.fields if canonical(n) == "u"] + derived, types, path)
    factor = 1.0
    if not swift and "Time" in header and "Redshift" in header:
        factor = velocity_factor(float(np.ravel(header["Time"])[0]), float(np.ravel(header["Redshift"])[0]))
    parts = {}
    for t in types:
        group = groups[t]
        n = len(group["Coordinates"])
        if "Masses" in group:
            masses = read_dataset(group["Masses"], path)
        elif t < len(mass_table) and mass_table[t] > 0:
            masses = np.full(n, float(mass_table[t]))
        else:
            masses = None
        ids = read_dataset(group["ParticleIDs"], path) if "ParticleIDs" in group else None
        fields = {}
        for name in options.fields:
            if name in derived:
                fields[name] = temperature(field_from_columns(group, "u", path), options.mean_molecular_weight)
            else:
                fields[name] = field_from_columns(group, name, path)
                if canonical(name) == "vel":
                    fields[name] *= factor
        parts[t] = (read_dataset(group["Coordinates"], path), masses, ids, fields)
    # A temperature dataset's units are its own; a derived one's are snapshot_units'.
    field_units = {n: snapshot_units(n, options.mean_molecular_weight) for n in options.fields}
    field_units.update({n: "as stored" for n in options.fields if canonical(n) == "temperature" and n not in derived})
    points = merge_types(parts, {"units": _snapshot_units(f), "field_units": field_units})
    return _with_header(points, header)


def read_dataset(dataset: Any, path: Path) -> np.ndarray:
    """A whole dataset, after checking that it fits in memory (its shape may be anything)."""
    require_memory(dataset.nbytes, f"dataset {dataset.name} of shape {dataset.shape}", path)
    return dataset[()]


class _Guarded:
    """A dataset that :func:`numpy.asarray` reads through :func:`read_dataset`."""

    def __init__(self, dataset: Any, path: Path) -> None:
        self.dataset, self.path = dataset, path
        self.shape, self.dtype = dataset.shape, dataset.dtype

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = read_dataset(self.dataset, self.path)
        return values if dtype is None else values.astype(dtype)


def _members(f: Any) -> Iterator[tuple[str, Any]]:
    """The top-level objects of a file, skipping links that dangle or loop (h5py raises on those)."""
    for name in f:
        try:
            yield name, f[name]
        except (KeyError, RuntimeError):
            continue


def _with_header(points: PointSet, attrs: Any) -> PointSet:
    """Record the periodic box and redshift that the attributes state."""
    box = cubic_box(attrs["BoxSize"]) if "BoxSize" in attrs else None
    if box is not None:
        points.metadata["box_size"] = box
    if "Redshift" in attrs:
        points.metadata["redshift"] = float(np.ravel(attrs["Redshift"])[0])
    for key in UNIT_ATTRIBUTES:
        found = UNIT_WORD.search(_text(attrs[key])) if key in attrs else None
        if found and "units" not in points.metadata:
            points.metadata["units"] = found.group(0)
    for key, meta in (("H0", "H0"), ("HubbleParam", "h"), ("Omega_M", "Omega_m"), ("Omega0", "Omega_m")):
        if key in attrs:
            points.metadata[meta] = float(np.ravel(attrs[key])[0])
    return points


def _stated_units(f: Any, arrays: dict[str, Any], name: str | None) -> str | None:
    """Units from a dataset's ``units`` attribute or the file's ``units_NAME`` (None: unstated).

    Only the text before a comma or parenthesis is kept: the AbacusSummit files say
    ``km/s (as returned by abacusutils read_asdf)`` and ``comoving Mpc/h, box centred on
    origin: [-BoxSize/2, +BoxSize/2)``, which labels and legends shorten to the unit.
    """
    found = None if name is None else find_field(arrays, name)
    dataset = arrays[found] if isinstance(found, str) else None
    for attrs, key in ((getattr(dataset, "attrs", {}), "units"), (f.attrs, f"units_{found}")):
        if key in attrs:
            text = _text(attrs[key])
            return re.split(r"\s*[,(]", text, maxsplit=1)[0].strip() or text
    return None


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _snapshot_units(f: Any) -> str:
    """The length unit a snapshot states: SWIFT's ``Units`` or Gadget-4's ``Parameters``."""
    swift = f["Units"].attrs if "Units" in f else {}
    if "Unit length in cgs (U_L)" in swift:
        # SWIFT lengths carry no factor of h.
        return length_units(float(np.ravel(swift["Unit length in cgs (U_L)"])[0]), "")
    params = f["Parameters"].attrs if "Parameters" in f else {}
    if "UnitLength_in_cm" in params:
        comoving = bool(params.get("ComovingIntegrationOn", 1))
        return length_units(float(params["UnitLength_in_cm"]), "/h" if comoving else "")
    return CODE_UNITS


def _datasets(f: Any) -> list[str]:
    import h5py

    names: list[str] = []
    f.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
    return names or ["none"]
