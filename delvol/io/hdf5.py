"""HDF5 files: Gadget-4/SWIFT snapshots, a named dataset, or top-level position arrays."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.io.columns import points_from_array, points_from_container
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.snapshot import CODE_UNITS, cubic_box, length_units, merge_types, select_types

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

    Raises
    ------
    DelvolError
        No such dataset, no recognisable positions, or a missing particle type.
    """
    import h5py

    with h5py.File(path, "r") as f:
        if options.dataset is not None:
            dataset = f.get(options.dataset)
            if not isinstance(dataset, h5py.Dataset):
                raise DelvolError(f"no dataset {options.dataset!r}; datasets: {', '.join(_datasets(f))}", path)
            return points_from_array(dataset[()], path, options)
        groups = {
            int(m.group(1)): f[name]
            for name in f
            if (m := PARTICLE_GROUP.fullmatch(name)) and isinstance(f[name], h5py.Group) and "Coordinates" in f[name]
        }
        if groups:
            return _snapshot(f, groups, path, options)
        if options.ptypes is not None:
            raise DelvolError("particle types apply to snapshots; this HDF5 file has no PartTypeN groups", path)
        # A shapeless (h5py.Empty) dataset holds nothing to read.
        arrays = {name: item for name, item in f.items() if isinstance(item, h5py.Dataset) and item.shape is not None}
        points = points_from_container(arrays, path, options)
        attrs = f.attrs
        if points.masses is None and "ParticleMassHMsun" in attrs:
            points.masses = np.full(len(points), float(attrs["ParticleMassHMsun"]))
        return _with_header(points, attrs)


def _snapshot(f: Any, groups: dict[int, Any], path: Path, options: LoadOptions) -> PointSet:
    """The selected particle types of a Gadget-4 or SWIFT snapshot."""
    header = f["Header"].attrs if "Header" in f else {}
    mass_table = np.atleast_1d(header.get("MassTable", []))
    parts = {}
    for t in select_types({t: len(g["Coordinates"]) for t, g in groups.items()}, options.ptypes, path):
        group = groups[t]
        n = len(group["Coordinates"])
        if "Masses" in group:
            masses = group["Masses"][()]
        elif t < len(mass_table) and mass_table[t] > 0:
            masses = np.full(n, float(mass_table[t]))
        else:
            masses = None
        ids = group["ParticleIDs"][()] if "ParticleIDs" in group else None
        parts[t] = (group["Coordinates"][()], masses, ids)
    points = merge_types(parts, {"units": _snapshot_units(f)})
    return _with_header(points, header)


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
