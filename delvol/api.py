"""The Python API: read, tessellate, render and show point sets in a few calls.

:func:`isosurface` and :func:`project` give the isodensity surfaces and the exact surface
density. Every keyword option is a field of one of the scene's dataclasses, the same options as
the command line's without the dashes (``--cut-normal 1 0 0`` is ``cut_normal=(1, 0, 0)``):
:class:`~delvol.io.LoadOptions`, :class:`~delvol.geometry.options.TessellationOptions`,
:class:`~delvol.geometry.options.SurveyOptions`,
:class:`~delvol.scene.settings.RenderSettings`, :class:`~delvol.scene.description.CameraOptions`,
:class:`~delvol.scene.description.OverlayOptions` and
:class:`~delvol.scene.description.SpriteOptions`.

>>> import delvol
>>> image = delvol.render("data/sample.npy", size=(640, 360), periodic=100, view="+z", ortho=True)
>>> image.shape
(360, 640, 3)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from delvol.geometry import Tessellation
from delvol.geometry.isosurface import Surface, density_isosurfaces, merge_surfaces
from delvol.geometry.options import SurveyOptions, TessellationOptions
from delvol.io import LoadOptions, PointSet, load_points
from delvol.io.maps import SurfaceDensityMap
from delvol.options import split_options
from delvol.scene.description import DEFAULT_SIZE, Scene, Source
from delvol.scene.projection import ProjectionOptions

SHOW_SIZE = (960, 540)
"""Width and height of :func:`show`'s viewer or image."""


def load(source: str | os.PathLike | np.ndarray | PointSet, **options: Any) -> PointSet:
    """Read a point file (any format ``delvol`` reads) into a :class:`~delvol.io.PointSet`.

    Parameters
    ----------
    source : path, ndarray (N, 3) or PointSet
        A file; an array or a point set is returned as a point set unchanged.
    **options
        Fields of :class:`~delvol.io.LoadOptions`: ``format``, ``columns``, ``ptypes``,
        ``cosmology``, ``units``, ``max_points``, ``seed``, ``box``, ``dataset``,
        ``fields`` (per-point fields to read, such as ``("vel", "temperature")``) and
        ``mean_molecular_weight``.

    Returns
    -------
    PointSet

    Examples
    --------
    >>> points = delvol.load("sdss.csv", cosmology="WMAP9", units="Mpc")
    """
    if isinstance(source, PointSet):
        return source
    if not isinstance(source, (str, os.PathLike)):
        return PointSet(np.asarray(source))
    return load_points(source, LoadOptions(**options))


def tessellate(source: Source, **options: Any) -> Tessellation:
    """The Delaunay tessellation and DTFE densities of a point set.

    Parameters
    ----------
    source : path, ndarray (N, 3), PointSet or Tessellation
    **options
        Fields of :class:`~delvol.io.LoadOptions` (for a file), of
        :class:`~delvol.geometry.options.TessellationOptions`: ``periodic`` (a box side,
        or True for the one the file states), ``padding``, ``engine`` (``"scipy"``,
        ``"shull"``, ``"gmsh"`` or ``"auto"``), ``cache``; and of
        :class:`~delvol.geometry.options.SurveyOptions` for a sky catalogue: ``mask``,
        ``zmin``, ``zmax``, ``buffer``.

    Returns
    -------
    Tessellation

    Examples
    --------
    >>> tess = delvol.tessellate("data/sample.npy", periodic=100)
    >>> tess.density.shape == (tess.n_primary,)
    True
    """
    return _input_scene(source, options).read()[1]


def _input_scene(source: Source, options: dict[str, Any], *extra: type) -> Scene:
    """A scene of ``source`` with its reading, tessellation and survey ``options``; the rest go to ``extra`` classes."""
    load_options, tess_options, survey_options, *_ = split_options(
        [LoadOptions, TessellationOptions, SurveyOptions, *extra], options
    )
    return Scene(
        source,
        load=LoadOptions(**load_options),
        tessellation=TessellationOptions(**tess_options),
        survey=SurveyOptions(**survey_options),
    )


def isosurface(source: Source, levels: float | Sequence[float], **options: Any) -> Surface:
    """Isodensity surfaces of the DTFE density, exact for its piecewise-linear field (marching tetrahedra).

    Parameters
    ----------
    source : path, ndarray (N, 3), PointSet or Tessellation
    levels : float or sequence of float
        Densities of the surfaces, in the density's units (mass per unit volume).
    **options
        Fields of :class:`~delvol.io.LoadOptions` and
        :class:`~delvol.geometry.options.TessellationOptions`, as for :func:`tessellate`.

    Returns
    -------
    Surface
        One triangle mesh for every level (``vertices``, ``triangles``, ``normals`` pointing
        down the density gradient); :func:`delvol.io.obj.save_obj` writes it.

    Examples
    --------
    >>> halo = delvol.isosurface("data/sample.npy", 1e3, periodic=100)
    """
    return merge_surfaces(density_isosurfaces(tessellate(source, **options), levels))


def project(source: Source, **options: Any) -> SurfaceDensityMap:
    """The exact surface density along a coordinate axis (the DTFE line integral per pixel), offscreen.

    Parameters
    ----------
    source : path, ndarray (N, 3), PointSet or Tessellation
    **options
        Fields of :class:`~delvol.scene.projection.ProjectionOptions` (``axis``, ``size``,
        ``extent``, ``supersample``) and those :func:`tessellate` takes.

    Returns
    -------
    SurfaceDensityMap
        ``.image`` (rows, columns) in mass per unit area, row 0 the lowest, with its
        ``extent`` and ``pixel``; ``.save("map.fits")`` writes it with a FITS header.

    Examples
    --------
    >>> sigma = delvol.project("data/sample.npy", axis="z", size=256, periodic=100)
    >>> sigma.image.shape
    (256, 256)
    """
    from delvol.gl.projection import project_scene

    *_, map_options = split_options([LoadOptions, TessellationOptions, SurveyOptions, ProjectionOptions], options)
    return project_scene(_input_scene(source, options, ProjectionOptions), ProjectionOptions(**map_options))


def render(source: Source, *, size: tuple[int, int] = DEFAULT_SIZE, supersample: int = 1, **options: Any) -> np.ndarray:
    """Render a Delaunay volume offscreen, exactly as ``delvol render`` does.

    Parameters
    ----------
    source : path, ndarray (N, 3), PointSet or Tessellation
    size : (int, int)
        Width and height in pixels.
    supersample : int
        Render this many times larger and average down.
    **options
        Any scene option (see :mod:`delvol.api`): for example ``colormap="viridis"``,
        ``view="+z"``, ``ortho=True``, ``zoom=2``, ``cut_mode="slab"``, ``periodic=True``,
        ``obj="mask.obj"``, ``sprites=True``.

    Returns
    -------
    ndarray, shape (height, width, 3), uint8
        RGB, first row at the top: the pixels ``delvol render`` writes to its PNG.

    Raises
    ------
    DelvolError
        Unreadable input or a bad option value.
    TypeError
        An unknown option.
    """
    from delvol.gl.build import render_scene

    width, height = size
    if int(width) < 1 or int(height) < 1 or not 1 <= supersample <= 8:
        raise ValueError(f"size must be positive and supersample 1 to 8, got {size} and {supersample}")
    picture = render_scene(Scene.from_options(source, **options), (int(width), int(height)), supersample)
    if picture.warning:
        warnings.warn(picture.warning, stacklevel=2)
    return picture.image


def show(source: Source, *, size: tuple[int, int] = SHOW_SIZE, **options: Any) -> Any:
    """Show a point set: an interactive viewer in a notebook, a picture elsewhere.

    In a Jupyter kernel with ``jupyter_rfb`` installed (``pip install "delvol[notebook]"``)
    this returns a :class:`delvol.notebook.Viewer` widget that renders on the kernel's
    machine (a remote cluster node needs no display); elsewhere a PIL image of
    :func:`render`'s pixels, which IPython and notebooks display.

    Parameters
    ----------
    source : path, ndarray (N, 3), PointSet or Tessellation
    size : (int, int)
        Width and height in pixels.
    **options
        Any scene option, as for :func:`render`.
    """
    if in_notebook():
        from delvol.notebook import Viewer

        return Viewer(source, size=size, **options)
    from PIL import Image

    return Image.fromarray(render(source, size=size, **options))


def in_notebook() -> bool:
    """Running in a Jupyter kernel that can show widgets (jupyter_rfb importable)."""
    try:
        import jupyter_rfb  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
