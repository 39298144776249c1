"""Everything that changes how a frame looks, independent of GL."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from delvol.render.colormaps import DIVERGING

STRETCHES = ("log", "asinh", "linear")
WEIGHTINGS = ("sum", "length", "area")
CUT_MODES = ("off", "half", "slab")
MODES = ("faces", "integral", "opacity")
OPACITY_PERCENTILES = (75.0, 99.9)
"""Percentiles of the vertex densities that set the default opacity window."""


@dataclass
class RenderSettings:
    """Look of the Delaunay volume and its layers.

    Attributes
    ----------
    mode : {"faces", "integral", "opacity"}
        What a pixel accumulates. ``faces``: the interpolated density of every face its ray
        crosses, additively (fast, no physical unit). ``integral``: the exact line
        integral of the DTFE density along the ray, a column density. ``opacity``: exact
        emission-absorption, composited back to front in the exact visibility order of the
        tetrahedra: the density emits (so with zero opacity it is the line integral) and
        absorbs with the extinction of :attr:`opacity`.
    opacity : float
        Extinction at the top of the opacity window, in optical depth per mean
        interparticle spacing ``l``. The curve: ``sigma(rho) = opacity / l * t**2`` with
        ``t = clip(log(rho / rho_lo) / log(rho_hi / rho_lo), 0, 1)``: voids below the window
        are transparent, and halos at its top hide what lies behind them.
    opacity_window : (float, float) or None
        ``(log10 rho_lo, log10 rho_hi)``; None takes the percentiles
        :data:`OPACITY_PERCENTILES` of the vertex densities.
    iso_levels : tuple of float
        Densities of the isosurfaces drawn over the volume.
    iso_shown : int
        Which of them is shown: -1 all, else an index into :attr:`iso_levels`.
    stretch : {"log", "asinh", "linear"}
        Mapping from accumulated density to colormap position. ``asinh`` (Lupton et al.
        2004) is linear near the window floor and logarithmic above it.
    exposure : float
        Brightness in stops (powers of two) applied before the stretch.
    window : (float, float) or None
        Density window as log10 of the accumulated value at the bottom and the top of the
        colormap; None picks it from percentiles of the image (see :attr:`percentiles`).
    percentiles : (float, float)
        Percentiles of the non-empty pixels that set the automatic window. Percentiles,
        not a mean, because real snapshots span more than 1e7 in density.
    gamma : float
        Applied after the stretch as ``t ** (1 / gamma)``.
    colormap : str
        One of :data:`delvol.render.colormaps.COLORMAPS`.
    weighting : {"sum", "length", "area"}
        Per-face weight of the accumulated density. ``sum`` adds the interpolated density
        of every face a pixel's ray crosses: a ray crosses faces at a rate proportional to
        the local point density to the 1/3, so the sum follows the line integral of
        rho^(4/3). ``length`` multiplies by the square root of the face area (relative to
        the median), a local spacing that cancels that rate, so the sum approximates the
        line integral of rho itself. ``area`` multiplies by the face area (relative to the
        median), the seed's proposal, which over-weights the large faces of voids.
    hide_hull : bool
        Skip faces that touch a convex-hull point, whose densities are biased.
    show_faces, show_points, show_overlays, show_path, show_sprites : bool
        Layer toggles (the path is the viewer's keyframed camera path; sprites are the
        galaxy thumbnails of a galaxy store, when the renderer has them).
    point_percentile : float
        The points layer shows vertices denser than this percentile.
    point_size : float
        Sprite diameter in pixels at the threshold density (doubling at the maximum).
    cut_mode : {"off", "half", "slab"}
        Discard everything in front of a plane, or outside a slab around it.
    cut_normal : ndarray, shape (3,)
    cut_offset : float
        Plane: ``dot(cut_normal, x) == cut_offset``.
    cut_width : float
        Slab thickness.
    field_colormap : str
        One of :data:`delvol.render.colormaps.DIVERGING`: the hue of the density-weighted
        mean field along each ray, when the renderer has a field (``--color-by``).
    field_window : (float, float) or None
        The field values at the two ends of that colormap (log10 of them with
        :attr:`field_log`); None picks them from :attr:`field_percentiles` of the image.
    field_percentiles : (float, float)
        Percentiles of the non-empty pixels' mean field that set the automatic field window,
        which is made symmetric about 0 when it straddles 0 (a diverging map's centre then
        means 0: no divergence, no motion along the axis).
    field_log : bool
        Colour by log10 of the mean field (temperatures, energies: positive, spanning decades).
    legend : bool
        Draw a colour bar for the field with its window in the image.
    """

    mode: str = "faces"
    opacity: float = 10.0
    opacity_window: tuple[float, float] | None = None
    iso_levels: tuple[float, ...] = ()
    iso_shown: int = -1
    stretch: str = "log"
    exposure: float = 0.0
    window: tuple[float, float] | None = None
    percentiles: tuple[float, float] = (2.0, 99.8)
    gamma: float = 1.0
    colormap: str = "magma"
    weighting: str = "sum"
    hide_hull: bool = True
    show_faces: bool = True
    show_points: bool = False
    show_overlays: bool = True
    show_path: bool = True
    show_sprites: bool = True
    point_percentile: float = 99.0
    point_size: float = 3.0
    cut_mode: str = "off"
    cut_normal: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))
    cut_offset: float = 0.0
    cut_width: float = 1.0
    field_colormap: str = "coolwarm"
    field_window: tuple[float, float] | None = None
    field_percentiles: tuple[float, float] = (2.0, 98.0)
    field_log: bool = False
    legend: bool = False

    def __post_init__(self) -> None:
        choices = (("mode", MODES), ("stretch", STRETCHES), ("weighting", WEIGHTINGS), ("cut_mode", CUT_MODES))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not (np.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma must be a positive number, got {self.gamma}")
        if not np.isfinite(self.exposure):
            raise ValueError(f"exposure must be a finite number of stops, got {self.exposure}")
        if self.window is not None:
            check_window(self.window)
        if self.opacity_window is not None:
            check_window(self.opacity_window)
        if not (np.isfinite(self.opacity) and self.opacity >= 0):
            raise ValueError(f"the opacity must be a non-negative number, got {self.opacity:g}")
        if not all(np.isfinite(v) and v > 0 for v in self.iso_levels):
            raise ValueError(f"isosurface levels must be positive densities, got {list(self.iso_levels)}")
        lo, hi = self.percentiles
        if not 0 <= lo < hi <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= LO < HI <= 100, got {lo:g} {hi:g}")
        if not 0 <= self.point_percentile <= 100:
            raise ValueError(f"the point percentile must be between 0 and 100, got {self.point_percentile:g}")
        if not (np.isfinite(self.cut_offset) and np.isfinite(self.cut_width) and self.cut_width > 0):
            raise ValueError(
                f"the cut needs a finite offset and a positive width, got {self.cut_offset:g}, {self.cut_width:g}"
            )
        if self.field_colormap not in DIVERGING:
            raise ValueError(f"the field colormap must be one of {', '.join(DIVERGING)}, got {self.field_colormap!r}")
        if self.field_window is not None:
            lo, hi = self.field_window
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(f"the field window must satisfy LO < HI, got {lo:g} {hi:g}")
        lo, hi = self.field_percentiles
        if not 0 <= lo < hi <= 100:
            raise ValueError(f"field percentiles must satisfy 0 <= LO < HI <= 100, got {lo:g} {hi:g}")
        if not (np.isfinite(self.point_size) and self.point_size > 0):
            raise ValueError(f"the point size must be a positive number of pixels, got {self.point_size:g}")

    def cut_keeps(self, points: np.ndarray) -> np.ndarray:
        """Which world points the cut plane keeps: shaders/cut.glsl's test, on the CPU."""
        points = np.atleast_2d(points)
        if self.cut_mode == "off":
            return np.ones(len(points), dtype=bool)
        normal = np.asarray(self.cut_normal, dtype=np.float64)
        d = points @ (normal / np.linalg.norm(normal)) - self.cut_offset
        return d <= 0 if self.cut_mode == "half" else np.abs(d) <= 0.5 * self.cut_width


WINDOW_LIMIT = 37.0
"""The window's ends are powers of ten handed to float32 uniforms, which end near 1e38."""


def check_window(window: tuple[float, float]) -> None:
    """Raise ValueError unless ``window`` is (LO, HI) with -37 <= LO < HI <= 37 (log10)."""
    lo, hi = window
    if not (np.isfinite(lo) and np.isfinite(hi) and -WINDOW_LIMIT <= lo < hi <= WINDOW_LIMIT):
        limit = f"{-WINDOW_LIMIT:g} <= LO < HI <= {WINDOW_LIMIT:g}"
        raise ValueError(f"the density window must satisfy {limit} (log10), got {lo:g} {hi:g}")


def cycle(value: str, choices: tuple[str, ...], step: int = 1) -> str:
    """The choice ``step`` places after ``value``, wrapping around."""
    return choices[(choices.index(value) + step) % len(choices)]


def auto_window(accum: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    """log10 window from percentiles of the non-empty pixels of an accumulation image."""
    values = accum[accum > 0]
    if values.size == 0:
        return (0.0, 1.0)
    lo, hi = np.percentile(values, percentiles)
    lo, hi = np.log10(max(lo, values.min())), np.log10(max(hi, values.min()))
    return (float(lo), float(hi)) if hi > lo else (float(lo), float(lo) + 1.0)


def density_window(density: np.ndarray, percentiles: tuple[float, float] = OPACITY_PERCENTILES) -> tuple[float, float]:
    """log10 window from percentiles of the positive, finite vertex densities."""
    return auto_window(np.nan_to_num(density, nan=0.0, posinf=0.0), percentiles)


def field_image(accum: np.ndarray, log: bool) -> np.ndarray:
    """The density-weighted mean field of each pixel, sum(rho f) / sum(rho), or NaN.

    ``accum`` holds the accumulated density in channel 0 and the accumulated product of
    density and field in channel 2. Pixels without density, and with ``log`` those whose
    mean is not positive, are NaN; with ``log`` the result is log10 of the mean.
    """
    rho, rho_f = accum[..., 0].astype(np.float64), accum[..., 2].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(rho > 0, rho_f / rho, np.nan)
        return np.log10(np.where(mean > 0, mean, np.nan)) if log else mean


def auto_field_window(mean: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    """The field window from percentiles of a :func:`field_image`, symmetric about 0 when it straddles 0.

    A window narrower than 0.2% of its values is widened to that about its centre: the
    float32 sums carry relative noise near 1e-6, and a field that is constant to that
    precision must come out as one colour, not as its rounding noise stretched over the map.
    """
    values = mean[np.isfinite(mean)]
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = (float(v) for v in np.percentile(values, percentiles))
    if lo < 0 < hi:
        lo, hi = -max(-lo, hi), max(-lo, hi)
    half = max(1e-3 * max(abs(lo), abs(hi)), 1e-30)
    if hi - lo < 2 * half:
        centre = (lo + hi) / 2
        lo, hi = centre - half, centre + half
    return lo, hi
