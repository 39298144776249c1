"""delvol: Delaunay-volume rendering of sparse 3-D point sets.

The Python API is six functions, :func:`load`, :func:`tessellate`, :func:`render`,
:func:`show`, :func:`isosurface` and :func:`project` (see :mod:`delvol.api`), the notebook
widget :class:`delvol.notebook.Viewer`, and the DTFE interpolation of a tessellation's
density and of any per-point field: :func:`density_at`, :func:`density_grid`,
:func:`field_at`, :func:`field_grid` and :func:`gradient_at` (from :mod:`delvol.geometry`).

The layers import one way only: ``io`` -> ``geometry`` -> ``scene`` -> ``gl`` -> ``app``
-> ``cli``. Importing the top-level package stays cheap (no NumPy, no GL): the API is
imported on first use, so that the version and the packaged shaders can be reached
without loading the heavy layers.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = [
    "__version__",
    "density_at",
    "density_grid",
    "field_at",
    "field_grid",
    "gradient_at",
    "isosurface",
    "load",
    "project",
    "render",
    "show",
    "tessellate",
]

_LAZY = {
    "load": "delvol.api",
    "tessellate": "delvol.api",
    "render": "delvol.api",
    "show": "delvol.api",
    "isosurface": "delvol.api",
    "project": "delvol.api",
    "density_at": "delvol.geometry.interpolate",
    "density_grid": "delvol.geometry.interpolate",
    "field_at": "delvol.geometry.fields",
    "field_grid": "delvol.geometry.fields",
    "gradient_at": "delvol.geometry.fields",
}
"""Where each top-level name lives, imported on first use."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'delvol' has no attribute {name!r}")
