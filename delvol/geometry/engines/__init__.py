"""Delaunay engines: interchangeable back ends that tetrahedralize a point set.

=========  ===========================================  ==============  ==================
engine     what                                         licence         gives
=========  ===========================================  ==============  ==================
``scipy``  Qhull through :class:`scipy.spatial.Delaunay`  BSD             tets, neighbours
``shull``  sweep-hull in Rust, exact predicates         GPLv3           tets, neighbours
``gmsh``   HXT inside gmsh, exact predicates            GPLv2+          tets only
=========  ===========================================  ==============  ==================

``auto`` picks the fastest one installed (:data:`AUTO_ORDER`). The GPL engines come with
``pip install "delvol[fast]"``; delvol itself never bundles them. Every engine triangulates
the same sheared frame (:func:`engine_frame`), and :func:`delvol.geometry.tessellate`
turns any of their results into the same faces, hull flags and densities.
"""

from __future__ import annotations

from types import ModuleType

from delvol.errors import DelvolError
from delvol.geometry.engines import gmsh_hxt, scipy_qhull, shull_rust
from delvol.geometry.engines.base import Triangulation, engine_frame

ENGINES: dict[str, ModuleType] = {module.NAME: module for module in (scipy_qhull, shull_rust, gmsh_hxt)}
"""Engine modules by name; each has ``NAME``, ``LICENCE``, ``available()``, ``triangulate(framed)``."""

AUTO_ORDER = ("gmsh", "shull", "scipy")
"""``auto``'s preference, fastest full build first. ``benchmarks/bench_engines.py``, CPU time of
the full build against bare SciPy: gmsh 7.2-9.2x, shull 6.1-9.1x at 1e6 and 4e6 points
(uniform and clustered), gmsh ahead or level in every case, and well ahead on uniform points."""

ENGINE_CHOICES = ("auto", *ENGINES)
"""What ``--engine`` and ``engine=`` accept."""


def available_engines() -> list[str]:
    """The installed engines, in ``auto``'s order of preference."""
    return [name for name in AUTO_ORDER if ENGINES[name].available()]


def resolve_engine(name: str) -> str:
    """The engine that ``name`` stands for: itself, or for ``auto`` the fastest installed.

    Raises
    ------
    DelvolError
        An unknown name, or an optional engine that is not installed.
    """
    if name == "auto":
        return available_engines()[0]
    if name not in ENGINES:
        raise DelvolError(f"unknown Delaunay engine {name!r}; choose from {', '.join(ENGINE_CHOICES)}")
    if not ENGINES[name].available():
        raise DelvolError(
            f"Delaunay engine {name!r} is not installed or does not load (pip install 'delvol[fast]'; "
            "gmsh also needs X11/GL libraries, see the README)"
        )
    return name


def locating_engine(name: str) -> str:
    """An installed engine whose result can locate points: ``name`` if it can, else the best one."""
    if name in ("scipy", "shull") and ENGINES[name].available():
        return name
    return "shull" if shull_rust.available() else "scipy"


__all__ = [
    "AUTO_ORDER",
    "ENGINES",
    "ENGINE_CHOICES",
    "Triangulation",
    "available_engines",
    "engine_frame",
    "locating_engine",
    "resolve_engine",
]
