"""Per-point fields by name: velocities, gas internal energy and temperature, any column.

Every reader resolves a requested field name the same way, through :func:`find_field`: an
exact (case-insensitive) column or dataset name first, then the aliases of the well-known
physical fields (``vel`` finds ``Velocities``, ``u`` finds ``InternalEnergy``), and for
velocities three separate ``vx, vy, vz`` columns. The values a reader returns are in the
units that :data:`FIELD_UNITS` and the reader's docstring state.

Conventions
-----------
Gadget (SnapFormat 1 binaries and Gadget-4 HDF5) stores velocities as
``w = v_pec / sqrt(a)`` (Springel 2005, the Gadget-2 user guide, section 6.1): the code
integrates ``dx/dt * a^(3/2)``. delvol returns the peculiar velocity ``v_pec = sqrt(a) * w``
in km/s (the usual ``UnitVelocity_in_cm_per_s = 1e5``), with ``a`` the header's ``Time``
when the header describes a cosmological run (``Time == 1 / (1 + Redshift)``); for a
Newtonian run, or at ``a = 1``, the factor is 1. SWIFT stores peculiar velocities already.

Gas internal energy ``u`` is per unit mass, in (km/s)^2 for the usual unit system. The
temperature of an ideal monatomic gas is ``T = (gamma - 1) mu m_p u / k_B`` with
``gamma = 5/3`` and a mean molecular weight ``mu`` (:data:`MEAN_MOLECULAR_WEIGHT`,
0.588: fully ionised primordial gas with hydrogen mass fraction 0.76; 1.22 is neutral).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.io.tables import find_column

#: Names (case-insensitive) that each well-known field also goes by, canonical name first.
ALIASES: dict[str, tuple[str, ...]] = {
    "vel": ("vel", "velocity", "velocities"),
    "u": ("u", "internalenergy", "internal_energy"),
    "temperature": ("temperature", "temp"),
}

#: Velocity components given as three columns.
VELOCITY_COMPONENTS = (("vx", "vy", "vz"), ("vel_x", "vel_y", "vel_z"), ("v_x", "v_y", "v_z"))

#: Units of the well-known fields as the snapshot readers return them.
FIELD_UNITS = {"vel": "km/s (peculiar)", "u": "(km/s)^2 per unit mass"}

#: Fully ionised primordial gas, hydrogen mass fraction X = 0.76: mu = 4 / (3 + 5 X).
MEAN_MOLECULAR_WEIGHT = 4.0 / (3.0 + 5.0 * 0.76)
GAMMA = 5.0 / 3.0
PROTON_MASS_G = 1.67262192369e-24
BOLTZMANN_ERG_K = 1.380649e-16
KM_S_CGS2 = 1e10  # (km/s)^2 in (cm/s)^2


def canonical(name: str) -> str:
    """The canonical name of a well-known field (``Velocities`` -> ``vel``), else ``name``."""
    lower = name.lower()
    return next((key for key, names in ALIASES.items() if lower in names), name)


def find_field(available: Collection[str], name: str) -> str | tuple[str, str, str] | None:
    """The column holding field ``name``: its own name, an alias, or three velocity columns.

    Returns
    -------
    str, (str, str, str) or None
        One column name, the names of x, y and z velocity columns, or None.
    """
    found = find_column(available, name)
    if found is not None:
        return found
    key = canonical(name)
    found = find_column(available, *ALIASES.get(key, ()))
    if found is not None or key != "vel":
        return found
    for triple in VELOCITY_COMPONENTS:
        names = [find_column(available, c) for c in triple]
        if all(names):
            return tuple(names)  # type: ignore[return-value]
    return None


def field_from_columns(columns: Mapping[str, Any], name: str, path: Path) -> np.ndarray:
    """Field ``name`` from named columns or arrays (see :func:`find_field`).

    Raises
    ------
    DelvolError
        No such column (the message lists them), or one that does not hold numbers.
    """
    found = find_field(columns, name)
    if found is None:
        raise DelvolError(f"no field {name!r}; columns: {', '.join(columns) or 'none'}", path)
    if isinstance(found, tuple):
        return np.column_stack([numeric_field(columns[c], c, path) for c in found])
    return numeric_field(columns[found], found, path)


def numeric_field(values: Any, name: str, path: Path) -> np.ndarray:
    """``values`` as a float64 array of one row per point (scalars or vectors)."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf" or array.ndim not in (1, 2):
        raise DelvolError(f"field {name!r} does not hold numbers per point (dtype {array.dtype})", path)
    return array.astype(np.float64)


def velocity_factor(time: float, redshift: float) -> float:
    """sqrt(a) when a Gadget header describes a cosmological run, else 1 (see module notes)."""
    if time > 0 and math.isclose(time, 1.0 / (1.0 + redshift), rel_tol=1e-6):
        return math.sqrt(time)
    return 1.0


def temperature(u: np.ndarray, mean_molecular_weight: float = MEAN_MOLECULAR_WEIGHT) -> np.ndarray:
    """Gas temperature in K from the internal energy per unit mass in (km/s)^2."""
    if not mean_molecular_weight > 0:
        raise ValueError(f"the mean molecular weight must be positive, got {mean_molecular_weight:g}")
    return (GAMMA - 1.0) * mean_molecular_weight * PROTON_MASS_G * KM_S_CGS2 * np.asarray(u) / BOLTZMANN_ERG_K


def snapshot_units(name: str, mean_molecular_weight: float) -> str:
    """The units a snapshot reader gives field ``name`` in (``"as stored"`` for others)."""
    key = canonical(name)
    if key == "temperature":
        return f"K (mu = {mean_molecular_weight:.3g}, gamma = 5/3)"
    return FIELD_UNITS.get(key, "as stored")
