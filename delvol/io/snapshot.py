"""Particle types, shared by Gadget-2 binary and Gadget-4/SWIFT HDF5 snapshots."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.io.pointset import PointSet

#: What a snapshot's lengths are in when the file does not say.
CODE_UNITS = "code units (usually kpc/h)"
KPC_CM = 3.0856775814913673e21

#: One particle type's positions, masses (or None), ids (or None) and fields by name.
TypeArrays = tuple[np.ndarray, np.ndarray | None, np.ndarray | None, dict[str, np.ndarray]]


def select_types(counts: Mapping[int, int], wanted: list[int] | None, path: Path) -> list[int]:
    """The particle types to read: ``wanted``, or every type with particles.

    Raises
    ------
    DelvolError
        A wanted type has no particles (the message lists what the file holds).
    """
    present = sorted(t for t, n in counts.items() if n > 0)
    missing = sorted(set(wanted or ()) - set(present))
    if missing or not present:
        held = ", ".join(f"{counts[t]:,} of type {t}" for t in present) or "no particles"
        asked = f"no particles of type {', '.join(map(str, missing))}; " if missing else ""
        raise DelvolError(f"{asked}the snapshot holds {held}", path)
    return present if wanted is None else sorted(set(wanted))


def merge_types(parts: Mapping[int, TypeArrays], metadata: dict[str, Any]) -> PointSet:
    """One point set from several particle types, in type order.

    Masses (ids) are kept only when every type has them: unit masses for some types and
    real ones for others would weight the density wrongly. ``metadata['counts_by_type']``
    records how many points each type gave, before any cut. Every type must carry the
    same fields (the readers refuse gas-only fields for other types).
    """
    types = sorted(parts)

    def joined(i: int) -> np.ndarray | None:
        arrays = [parts[t][i] for t in types]
        return None if any(a is None for a in arrays) else np.concatenate(arrays)

    metadata = {**metadata, "counts_by_type": {t: len(parts[t][0]) for t in types}}
    fields = {name: np.concatenate([parts[t][3][name] for t in types]) for name in parts[types[0]][3]}
    return PointSet(joined(0), joined(1), joined(2), metadata, fields)


def gas_only(fields: list[str], types: list[int], path: Path) -> None:
    """Refuse gas fields (internal energy, temperature) when other particle types are read.

    Raises
    ------
    DelvolError
        Naming the field and the ``--type 0`` that selects the gas.
    """
    if fields and types != [0]:
        raise DelvolError(
            f"field {fields[0]!r} exists for gas particles only (type 0); read them alone with --type 0", path
        )


def cubic_box(value: Any) -> float | None:
    """The side of a cubic periodic box from a scalar or 3-vector ``BoxSize``, else None."""
    sides = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if sides.size == 0 or not (sides > 0).all() or not np.allclose(sides, sides[0]):
        return None
    return float(sides[0])


def length_units(unit_cm: float, suffix: str) -> str:
    """``"kpc"`` or ``"Mpc"`` (plus ``suffix``, such as ``"/h"``) for a length unit in cm."""
    for name, size in (("kpc", KPC_CM), ("Mpc", 1e3 * KPC_CM)):
        if math.isclose(unit_cm, size, rel_tol=1e-3):
            return name + suffix
    return f"{unit_cm:g} cm{suffix}"
