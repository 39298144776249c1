"""Tessellation, DTFE densities and fields, interpolation; pure NumPy/SciPy, no GL."""

from delvol.errors import DegenerateInputError
from delvol.geometry.fields import (
    FieldSpec,
    derive,
    field_at,
    field_grid,
    gradient_at,
    point_field,
    point_gradient,
    tet_gradient,
)
from delvol.geometry.tessellation import ARRAY_KEYS, Tessellation, tessellate

__all__ = [
    "ARRAY_KEYS",
    "DegenerateInputError",
    "FieldSpec",
    "Tessellation",
    "derive",
    "field_at",
    "field_grid",
    "gradient_at",
    "point_field",
    "point_gradient",
    "tessellate",
    "tet_gradient",
]
