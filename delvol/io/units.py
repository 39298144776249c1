"""Comoving lengths such as ``50kpc`` or ``0.1Mpc/h``, converted to a point set's units."""

from __future__ import annotations

import re

import numpy as np

LENGTH_UNITS = {"pc": 1e-6, "kpc": 1e-3, "Mpc": 1.0}
"""Each unit in Mpc; any may be followed by ``/h``."""
_LENGTH = re.compile(r"\s*([-+0-9.eE]+)\s*(?:(pc|kpc|Mpc)(/h)?)?\s*")


def parse_length(text: str) -> tuple[float, str]:
    """``"50kpc"`` -> (50.0, "kpc"); ``"0.1Mpc/h"`` -> (0.1, "Mpc/h"); ``"2"`` -> (2.0, "").

    Raises
    ------
    ValueError
        Not a positive number with an optional unit.
    """
    match = _LENGTH.fullmatch(text)
    try:
        value = float(match.group(1)) if match else np.nan
    except ValueError:
        value = np.nan
    if not (match and np.isfinite(value) and value > 0):
        raise ValueError(f"expected a positive length such as 50kpc, 0.05Mpc, 0.1Mpc/h or 2 (in --units), got {text!r}")
    return value, (match.group(2) or "") + (match.group(3) or "")


def length_in(value: float, unit: str, units: str, h: float) -> float:
    """A length given in ``unit`` ("" meaning ``units`` already), expressed in ``units`` (Mpc/h or Mpc)."""
    if not unit:
        return value
    mpc = value * LENGTH_UNITS[unit.removesuffix("/h")]
    if unit.endswith("/h") == units.endswith("/h"):
        return mpc
    return mpc * h if units.endswith("/h") else mpc / h
