"""Sky coordinates (RA, Dec, redshift) to comoving Cartesian positions."""

from __future__ import annotations

import numpy as np

DEFAULT_COSMOLOGY = "Planck18"
UNITS = ("Mpc/h", "Mpc")


def get_cosmology(name: str):
    """An astropy cosmology by its name in :mod:`astropy.cosmology.realizations`.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the available ones.
    """
    from astropy.cosmology import realizations

    if name not in realizations.available:
        raise ValueError(f"unknown cosmology {name!r}; choose one of {', '.join(realizations.available)}")
    return getattr(realizations, name)


def comoving_distance(redshift: np.ndarray, cosmology: str = DEFAULT_COSMOLOGY, units: str = "Mpc/h") -> np.ndarray:
    """Line-of-sight comoving distance, in Mpc/h or Mpc.

    Astropy integrates numerically for each redshift when the cosmology has radiation
    (Planck18 does), which takes about a second per 1e5 galaxies; a dense table with
    linear interpolation is accurate to 1e-8 relative and takes milliseconds.
    """
    if units not in UNITS:
        raise ValueError(f"units must be one of {', '.join(UNITS)}, got {units!r}")
    cosmo = get_cosmology(cosmology)
    z = np.asarray(redshift, dtype=np.float64)
    if not np.isfinite(z).all():
        raise ValueError("redshifts must be finite")
    if z.size == 0:
        return np.zeros(0)
    table_z = np.linspace(min(0.0, z.min()), max(z.max(), 1e-6), 4097)
    table_d = cosmo.comoving_distance(table_z).to_value("Mpc")
    dist = np.interp(z, table_z, table_d)
    return dist * cosmo.h if units == "Mpc/h" else dist


def sky_to_cartesian(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    redshift: np.ndarray,
    cosmology: str = DEFAULT_COSMOLOGY,
    units: str = "Mpc/h",
) -> np.ndarray:
    """Comoving (x, y, z), with x towards RA = Dec = 0 and z towards the north pole.

    Returns
    -------
    ndarray, shape (N, 3), float64
    """
    d = comoving_distance(redshift, cosmology, units)
    ra = np.radians(np.asarray(ra_deg, dtype=np.float64))
    dec = np.radians(np.asarray(dec_deg, dtype=np.float64))
    cos_dec = np.cos(dec)
    return np.column_stack([d * cos_dec * np.cos(ra), d * cos_dec * np.sin(ra), d * np.sin(dec)])
