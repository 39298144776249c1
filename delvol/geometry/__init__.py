"""Tessellation, DTFE densities and interpolation; pure NumPy/SciPy, no GL."""

from delvol.errors import DegenerateInputError
from delvol.geometry.tessellation import ARRAY_KEYS, Tessellation, tessellate

__all__ = ["ARRAY_KEYS", "DegenerateInputError", "Tessellation", "tessellate"]
