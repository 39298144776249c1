"""Sky coordinates (RA, Dec, redshift) to comoving Cartesian positions."""

from __future__ import annotations

import numpy as np

DEFAULT_COSMOLOGY = "Planck18"
UNITS = ("Mpc/h", "Mpc")
TABLE_SIZE = 513
"""Redshifts at which :func:`comoving_distance` has astropy integrate."""


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
    (Planck18 does), which takes about a second per 1e5 galaxies. Here astropy fills a
    table of :data:`TABLE_SIZE` redshifts spanning the input, evenly spaced in
    u = ln(1 + z), and the distance is ``u * s(u)``, with ``s`` a cubic spline through
    d/u (which tends to the Hubble distance c/H0 as z goes to 0). That agrees with
    astropy to better than 1e-10 relative for 0 < z <= 10 in every cosmology astropy
    ships, is exactly 0 at z = 0, and takes milliseconds.

    Raises
    ------
    ValueError
        An unknown cosmology or unit, or a redshift that is not finite or not above -1.
    """
    from scipy.interpolate import CubicSpline

    if units not in UNITS:
        raise ValueError(f"units must be one of {', '.join(UNITS)}, got {units!r}")
    cosmo = get_cosmology(cosmology)
    z = np.asarray(redshift, dtype=np.float64)
    if not np.isfinite(z).all():
        raise ValueError("redshifts must be finite")
    if z.size == 0:
        return np.zeros(0)
    if z.min() <= -1:
        raise ValueError(f"redshifts must be greater than -1, got {z.min():g}")
    u = np.log1p(z)
    table_u = np.linspace(min(0.0, u.min()), max(u.max(), 1e-6), TABLE_SIZE)
    table_d = cosmo.comoving_distance(np.expm1(table_u)).to_value("Mpc")
    ratio = np.full_like(table_d, cosmo.hubble_distance.to_value("Mpc"))  # its limit at u = 0
    np.divide(table_d, table_u, out=ratio, where=table_u != 0)
    dist = u * CubicSpline(table_u, ratio)(u)
    return dist * cosmo.h if units == "Mpc/h" else dist


def valid_declination(dec_deg: np.ndarray) -> np.ndarray:
    """Where a declination lies in [-90, 90] degrees (False for NaN)."""
    return np.abs(np.asarray(dec_deg, dtype=np.float64)) <= 90.0


def check_declination(dec_deg: np.ndarray) -> None:
    """Raise a ValueError naming the first row (counted from 0) whose Dec is outside [-90, 90].

    A Dec of 95 is not a point 5 degrees beyond the pole: it is a wrong column or unit, and
    converting it anyway puts the galaxy on the wrong side of the sky.
    """
    bad = np.flatnonzero(~valid_declination(dec_deg))
    if bad.size:
        row = int(bad[0])
        more = f" (and {bad.size - 1:,} more rows)" if bad.size > 1 else ""
        raise ValueError(
            f"dec = {np.ravel(dec_deg)[row]:g} at row {row} (counting from 0) is outside [-90, 90] degrees{more}"
        )


def sky_to_cartesian(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    redshift: np.ndarray,
    cosmology: str = DEFAULT_COSMOLOGY,
    units: str = "Mpc/h",
) -> np.ndarray:
    """Comoving (x, y, z), with x towards RA = Dec = 0 and z towards the north pole.

    RA may take any value (it is periodic: 370 is 10); Dec must lie in [-90, 90].

    Returns
    -------
    ndarray, shape (N, 3), float64

    Raises
    ------
    ValueError
        A Dec outside [-90, 90] (naming its row), or as :func:`comoving_distance`.
    """
    check_declination(dec_deg)
    d = comoving_distance(redshift, cosmology, units)
    ra = np.radians(np.mod(np.asarray(ra_deg, dtype=np.float64), 360.0))
    dec = np.radians(np.asarray(dec_deg, dtype=np.float64))
    cos_dec = np.cos(dec)
    return np.column_stack([d * cos_dec * np.cos(ra), d * cos_dec * np.sin(ra), d * np.sin(dec)])
