"""Exact surface-density maps: the DTFE line integral along a coordinate axis, per pixel.

:func:`surface_density` renders one tessellation into a float64 image of
``Sigma = integral of rho dz`` (the ``integral`` mode, orthographic), so maps of separate
tessellations of disjoint regions add up pixel by pixel. :func:`project_scene` reads a
scene and returns its map with what a FITS file of it needs (``delvol project``,
:func:`delvol.project`).
"""

from __future__ import annotations

from collections.abc import Sequence

import moderngl
import numpy as np

from delvol.geometry import Tessellation
from delvol.geometry.fields import FieldCache, FieldSpec, units_of
from delvol.gl.offscreen import tile_matrix
from delvol.gl.renderer import Renderer
from delvol.io.maps import SurfaceDensityMap
from delvol.progress import QUIET, StageLog
from delvol.scene.description import Scene
from delvol.scene.projection import ProjectionOptions, default_extent, map_axes
from delvol.scene.settings import RenderSettings


def projection_matrix(axis: str, extent: tuple[float, float, float, float], depth: tuple[float, float]) -> np.ndarray:
    """World-to-clip matrix of the orthographic view along ``axis`` onto ``extent``.

    The view looks along ``-(e_u x e_v)``, so that the map's axes are a proper (unmirrored)
    camera and outward faces keep their winding; ``depth`` is the world range along the
    axis that the clip volume spans.
    """
    u, v, k = map_axes(axis)
    u0, u1, v0, v1 = extent
    sign = -float(np.cross(np.eye(3)[u], np.eye(3)[v])[k])  # view direction along axis k
    d0, d1 = depth
    m = np.zeros((4, 4))
    m[0, u], m[0, 3] = 2 / (u1 - u0), -(u1 + u0) / (u1 - u0)
    m[1, v], m[1, 3] = 2 / (v1 - v0), -(v1 + v0) / (v1 - v0)
    # NDC depth rises along the view: -1 at the near end of [d0, d1], +1 at the far end.
    m[2, k] = sign * 2 / (d1 - d0)
    m[2, 3] = -1 - m[2, k] * (d0 if sign > 0 else d1)
    m[3, 3] = 1.0
    return m


def surface_density(
    ctx: moderngl.Context,
    tess: Tessellation,
    axis: str,
    size: tuple[int, int],
    extent: tuple[float, float, float, float] | None = None,
    supersample: int = 1,
    max_tile: int = 4096,
) -> np.ndarray:
    """The exact projected density of ``tess`` along ``axis``, averaged over each pixel.

    Parameters
    ----------
    ctx : moderngl.Context
    tess : Tessellation
        A periodic tessellation wraps: its box projects onto a seamless tile that holds
        the total mass.
    axis : {"x", "y", "z"}
    size : (int, int)
        Columns and rows.
    extent : (u0, u1, v0, v1), optional
        World range of the columns and the rows (see :func:`map_axes`); default
        :func:`default_extent`.
    supersample : int
        Integrate at this many points per pixel side and average: a pixel average of
        Sigma rather than its value at the pixel centre.
    max_tile : int
        Largest side rendered at once.

    Returns
    -------
    ndarray, shape (rows, columns), float64
        ``Sigma`` in mass per unit area; row 0 is the lowest row coordinate (as FITS
        stores images), column 0 the lowest column coordinate. Outside the hull: 0.
    """
    return integrated_maps(ctx, tess, axis, size, extent, supersample, max_tile)[0]


def integrated_maps(
    ctx: moderngl.Context,
    tess: Tessellation,
    axis: str,
    size: tuple[int, int],
    extent: tuple[float, float, float, float] | None = None,
    supersample: int = 1,
    max_tile: int = 4096,
    field: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`surface_density`, and with ``field`` (one value per vertex) the map of the integral of rho * f.

    Both are exact line integrals of the linear DTFE fields, averaged over each pixel, so
    their ratio is the density-weighted mean of the field along the line of sight, and
    maps of disjoint tessellations add up.
    """
    if extent is None:
        extent = default_extent(tess, axis)
    x0, x1, y0, y1 = (float(e) for e in extent)
    extent = (x0, x1, y0, y1)
    if not (extent[0] < extent[1] and extent[2] < extent[3]):
        raise ValueError(f"the extent needs X0 < X1 and Y0 < Y1, got {' '.join(f'{e:g}' for e in extent)}")
    _, _, k = map_axes(axis)
    lower, upper = tess.points.min(axis=0), tess.points.max(axis=0)
    span = upper[k] - lower[k]
    if tess.box_size is not None:  # the copies that wrap into the box reach one side further
        lower, upper = lower - tess.box_size, upper + tess.box_size
    depth = (lower[k] - span, upper[k] + span)
    view_proj = projection_matrix(axis, extent, depth)
    width, height = size[0] * supersample, size[1] * supersample
    renderer = Renderer(ctx, RenderSettings(mode="integral", hide_hull=False, show_overlays=False))
    image = np.empty((height, width), dtype=np.float64)
    weighted = None if field is None else np.empty((height, width), dtype=np.float64)
    limit = min(max_tile, ctx.info["GL_MAX_TEXTURE_SIZE"], *ctx.info["GL_MAX_VIEWPORT_DIMS"])
    try:
        renderer.set_tessellation(tess)
        if field is not None:
            renderer.set_field(field)
        for y0 in range(0, height, limit):
            for x0 in range(0, width, limit):
                x1, y1 = min(x0 + limit, width), min(y0 + limit, height)
                renderer.resize((x1 - x0, y1 - y0))
                renderer.clear()
                renderer.accumulate(tile_matrix(x0, y0, x1, y1, width, height) @ view_proj)
                tile = renderer.target.read(3)
                image[y0:y1, x0:x1] = tile[..., 0]
                if weighted is not None:
                    weighted[y0:y1, x0:x1] = tile[..., 2]
    finally:
        renderer.release()
    # read() puts the top row first; FITS stores the lowest row first.
    maps = [None if m is None else pixel_average(m[::-1], size, supersample) for m in (image, weighted)]
    assert maps[0] is not None
    return maps[0], maps[1]


def pixel_average(image: np.ndarray, size: tuple[int, int], supersample: int) -> np.ndarray:
    """The mean of each pixel's ``supersample`` x ``supersample`` rays."""
    return image.reshape(size[1], supersample, size[0], supersample).mean(axis=(1, 3))


def project_scene(
    scene: Scene,
    options: ProjectionOptions | None = None,
    log: StageLog = QUIET,
    fields: Sequence[FieldSpec] = (),
) -> SurfaceDensityMap:
    """Read and tessellate a scene's points and map their exact surface density.

    The map (:class:`~delvol.scene.projection.ProjectionOptions`: axis, size, extent,
    supersampling) renders in an offscreen context of its own. Each of ``fields`` (scalar
    specs; the scene must read them) adds the map of its density-weighted mean along the
    line of sight, NaN where the surface density is 0.
    """
    from delvol.gl.context import create_offscreen_context

    options = options or ProjectionOptions()
    points, tess = scene.read(log)
    extent = options.extent or default_extent(tess, options.axis)
    cache = FieldCache(tess, points.fields, points.metadata)
    means: dict[str, tuple[np.ndarray, str]] = {}
    ctx = create_offscreen_context()
    try:
        with log.stage("project"):
            args = (ctx, tess, options.axis, options.size, extent, options.supersample)
            # Every field's pass also gives the surface density: a separate pass only without fields.
            image: np.ndarray | None = None
            for spec in fields:
                image, weighted = integrated_maps(*args, field=cache.vertex_values(spec))
                assert weighted is not None
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(image > 0, weighted / image, np.nan)
                means[str(spec)] = (mean, units_of(spec, points.metadata))
            if image is None:
                image, _ = integrated_maps(*args)
    finally:
        ctx.release()
    u, v, _ = map_axes(options.axis)
    return SurfaceDensityMap(
        image,
        options.axis,
        (u, v),
        extent,
        options.supersample,
        units=str(points.metadata.get("units", "") or ""),
        has_masses=points.masses is not None,
        box_size=tess.box_size,
        points_mass=float(tess.masses[: tess.n_primary].sum()),
        fields=means,
    )
