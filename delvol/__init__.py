"""delvol: Delaunay-volume rendering of sparse 3-D point sets.

The Python API is four functions, :func:`load`, :func:`tessellate`, :func:`render` and
:func:`show` (see :mod:`delvol.api`), and the notebook widget
:class:`delvol.notebook.Viewer`.

The layers import one way only: ``io`` -> ``geometry`` -> ``scene`` -> ``gl`` -> ``app``
-> ``cli``. Importing the top-level package stays cheap (no NumPy, no GL): the API is
imported on first use, so that the version and the packaged shaders can be reached
without loading the heavy layers.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "load", "render", "show", "tessellate"]

_API = ("load", "tessellate", "render", "show")


def __getattr__(name: str) -> Any:
    if name in _API:
        from delvol import api

        return getattr(api, name)
    raise AttributeError(f"module 'delvol' has no attribute {name!r}")
