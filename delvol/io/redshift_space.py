"""Snapshots in redshift space: each particle moved along a line of sight by its velocity.

An observer far away along ``axis`` sees a particle at comoving ``x + v / (a H(z))`` along
that axis, with ``v`` its peculiar velocity, ``a = 1 / (1 + z)`` and ``H(z) = H0 E(z)``,
``E(z)^2 = Ω_m (1 + z)^3 + Ω_Λ`` (flat unless the file states Ω_Λ). The box wraps, so the
fingers of god of clusters and the Kaiser squashing of infall appear as an observer sees
them. The peculiar velocities (km/s) are the point set's ``vel`` field, read by
:mod:`delvol.io.fields` (which turns Gadget's internal ``v / sqrt(a)`` into them).
"""

from __future__ import annotations

import numpy as np

from delvol.errors import DelvolError
from delvol.io.pointset import PointSet
from delvol.io.sky import get_cosmology

AXES = ("x", "y", "z")
#: Length units and their size in Mpc/h (``None``: needs h).
_UNIT_MPC = {"Mpc/h": 1.0, "kpc/h": 1e-3, "Mpc": None, "kpc": None}


def hubble_rate(points: PointSet, cosmology: str | None = None) -> float:
    """a H(z) in km/s per unit of the points' length, from the file's parameters or ``cosmology``."""
    meta = points.metadata
    fallback = get_cosmology(cosmology or "Planck18")
    z = float(meta.get("redshift") or 0.0)
    omega_m = float(meta.get("Omega_m", fallback.Om0))
    omega_l = float(meta.get("Omega_L", 1.0 - omega_m))
    e2 = omega_m * (1 + z) ** 3 + omega_l
    if not e2 > 0:
        raise DelvolError("--redshift-space: the file states no expanding cosmology (Omega_m + Omega_L = 0)")
    e = np.sqrt(e2)
    units = str(meta.get("units", "kpc/h"))
    unit = next((k for k in _UNIT_MPC if units == k), "kpc/h" if "kpc/h" in units else None)
    if unit is None:
        raise DelvolError(f"--redshift-space needs positions in kpc/h, Mpc/h, kpc or Mpc, not {units!r}")
    h = float(meta.get("h", meta.get("H0", fallback.H0.value) / 100))
    mpc_h = _UNIT_MPC[unit] if _UNIT_MPC[unit] is not None else (1.0 if unit == "Mpc" else 1e-3) * h
    return 100.0 * e / (1 + z) * mpc_h  # km/s per unit length: H in km/s/(Mpc/h) times Mpc/h per unit


def to_redshift_space(
    positions: np.ndarray,
    velocities: np.ndarray,
    axis: str,
    a_hubble: float,
    box_size: float | None = None,
    lower: float | None = None,
) -> np.ndarray:
    """Positions moved by ``velocity / (a H)`` along ``axis``, wrapped into the box if given."""
    k = AXES.index(axis)
    out = np.array(positions, dtype=np.float64)
    out[:, k] += np.asarray(velocities, dtype=np.float64)[:, k] / a_hubble
    if box_size is not None:
        low = box_lower(positions[:, k], box_size) if lower is None else lower
        out[:, k] = low + np.mod(out[:, k] - low, box_size)
    return out


def box_lower(values: np.ndarray, box_size: float) -> float:
    """The box's lower edge: the lowest coordinate rounded down to a multiple of half the box."""
    half = box_size / 2
    return float(np.floor(values.min() / half + 1e-9) * half)
