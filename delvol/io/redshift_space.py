"""Snapshots in redshift space: each particle moved along a line of sight by its velocity.

An observer far away along ``axis`` sees a particle at comoving ``x + v / (a H(z))`` along
that axis, with ``v`` its peculiar velocity, ``a = 1 / (1 + z)`` and ``H(z) = H0 E(z)``,
``E(z)^2 = Ω_m (1 + z)^3 + Ω_Λ`` (flat unless the file states Ω_Λ). The box wraps, so the
fingers of god of clusters and the Kaiser squashing of infall appear as an observer sees
them. Velocities come from the file: HDF5 ``vel``/``velocities``/``Velocities`` (km/s; in
``PartTypeN`` groups Gadget's internal ``v / sqrt(a)``, as in the Gadget-2 velocity block).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.io.gadget import _block, _byte_order, _header, _record
from delvol.io.pointset import PointSet
from delvol.io.sky import get_cosmology

AXES = ("x", "y", "z")
VELOCITY_NAMES = ("vel", "velocities", "velocity")
#: Length units and their size in Mpc/h (``None``: needs h).
_UNIT_MPC = {"Mpc/h": 1.0, "kpc/h": 1e-3, "Mpc": None, "kpc": None}


def read_velocities(path: str | os.PathLike, format: str, ptypes: list[int] | None = None) -> np.ndarray:
    """Peculiar velocities in km/s, one row per particle in the order the loader reads them.

    Raises
    ------
    DelvolError
        The format has no velocities, or the file holds none.
    """
    p = Path(path)
    if format == "gadget":
        return _gadget_velocities(p, ptypes)
    if format != "hdf5":
        raise DelvolError(f"--redshift-space needs velocities; {format} files have none", p)
    import h5py

    with h5py.File(p, "r") as f:
        groups = sorted(int(name[8:]) for name in f if name.startswith("PartType") and "Velocities" in f[name])
        if groups:
            redshift = float(np.ravel(f["Header"].attrs.get("Redshift", 0.0))[0]) if "Header" in f else 0.0
            chosen = [t for t in groups if ptypes is None or t in ptypes]
            vel = np.concatenate([f[f"PartType{t}/Velocities"][()] for t in chosen]).astype(np.float64)
            return vel if "Units" in f else vel * np.sqrt(1 / (1 + redshift))
        name = next((n for n in f if n.lower() in VELOCITY_NAMES and isinstance(f[n], h5py.Dataset)), None)
        if name is None:
            raise DelvolError("--redshift-space needs velocities: no vel, velocities or PartTypeN/Velocities", p)
        return np.asarray(f[name][()], dtype=np.float64)


def _gadget_velocities(path: Path, ptypes: list[int] | None) -> np.ndarray:
    with open(path, "rb") as fh:
        endian = _byte_order(fh.read(4))
        fh.seek(0)
        header = _header(_record(fh, endian, path, "header"), endian)
        npart = header["npart"].astype(np.int64)
        _record(fh, endian, path, "positions", skip=True)
        vel = _block(_record(fh, endian, path, "velocities"), endian, "f", 3 * int(npart.sum()), path)
    vel = vel.reshape(-1, 3).astype(np.float64) * np.sqrt(1 / (1 + float(header["redshift"])))
    starts = np.concatenate([[0], np.cumsum(npart)])
    types = [t for t in range(len(npart)) if npart[t] > 0 and (ptypes is None or t in ptypes)]
    return np.concatenate([vel[starts[t] : starts[t + 1]] for t in types])


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
