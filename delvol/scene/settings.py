"""Everything that changes how a frame looks, independent of GL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from delvol.geometry.fields import FieldSpec
from delvol.options import option, range_option
from delvol.scene.colormaps import COLORMAPS, DIVERGING

STRETCHES = ("log", "asinh", "linear")
WEIGHTINGS = ("sum", "length", "area")
CUT_MODES = ("off", "half", "slab")
MODES = ("faces", "integral", "opacity")
"""What a pixel accumulates (:attr:`RenderSettings.mode`)."""
OPACITY_PERCENTILES = (75.0, 99.9)
"""Percentiles of the vertex densities that set the default opacity window."""
CUT = "cut plane"  # the help section of the cut options
COLOR = "colour by a field"  # the help section of the field colour options


def _field_clim(values: list[float]) -> tuple[float, float]:
    return float(values[0]), float(values[1])


def parse_levels(text: str) -> tuple[float, ...]:
    """``"1e3,1e4"`` -> (1000.0, 10000.0): positive densities (``--iso``, ``delvol iso --level``)."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"levels must be positive densities such as 1e3,1e4, got {text!r}")
    return values


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
        2004) is linear near the lower colour limit and logarithmic above it.
    exposure : float
        Brightness in stops (powers of two) applied before the stretch.
    clim : (float, float) or None
        Colour limits: log10 of the accumulated value at the bottom and the top of the
        colormap; None picks it from percentiles of the image (see :attr:`percentiles`).
    percentiles : (float, float)
        Percentiles of the non-empty pixels that set the automatic colour limits. Percentiles,
        not a mean, because real snapshots span more than 1e7 in density.
    gamma : float
        Applied after the stretch as ``t ** (1 / gamma)``.
    colormap : str
        One of :data:`delvol.scene.colormaps.COLORMAPS`.
    weighting : {"sum", "length", "area"}
        Per-face weight of the accumulated density. ``sum`` adds the interpolated density
        of every face a pixel's ray crosses: a ray crosses faces at a rate proportional to
        the local point density to the 1/3, so the sum follows the line integral of
        rho^(4/3). ``length`` multiplies by the square root of the face area (relative to
        the median), a local spacing that cancels that rate, so the sum approximates the
        line integral of rho itself. ``area`` multiplies by the face area (relative to the
        median), which over-weights the large faces of voids.
    hide_hull : bool
        Skip faces that touch a convex-hull point, whose densities are biased.
    show_faces, show_points, show_overlays, show_path, show_sprites : bool
        Layer toggles (the path is the viewer's keyframed camera path; sprites are the
        galaxy thumbnails of a galaxy store, when the renderer has them).
    point_percentile : float
        The points layer draws a disc on each vertex denser than this percentile.
    point_size : float
        Disc diameter in pixels at the threshold density (doubling at the maximum).
    cut_mode : {"off", "half", "slab"}
        Discard everything in front of a plane, or outside a slab around it.
    cut_normal : ndarray, shape (3,)
        A unit vector (any non-zero vector given is normalised).
    cut_offset : float or None
        Plane: ``dot(cut_normal, x) == cut_offset``; None until :meth:`fit_cut` places it
        through the data centre.
    cut_width : float or None
        Slab thickness; None until :meth:`fit_cut` makes it a tenth of the data size.
    color_by : FieldSpec or str, optional
        A per-point field (``vel:x``, ``vel:divergence``, ``temperature``, any column; see
        :class:`~delvol.geometry.fields.FieldSpec`) whose density-weighted mean along each
        ray gives the hue, the density the brightness. The renderer needs the field's
        values (:meth:`delvol.gl.renderer.Renderer.set_field`); a scene loads them.
    color_map : str
        One of :data:`delvol.scene.colormaps.DIVERGING`: the hue of the density-weighted
        mean field along each ray, when the renderer has a field.
    color_clim : (float, float) or None
        The field values at the two ends of that colormap (log10 of them with
        :attr:`color_log`); None picks them from :attr:`color_percentiles` of the image.
    color_percentiles : (float, float)
        Percentiles of the non-empty pixels' mean field that set the automatic field colour
        limits, made symmetric about 0 when they straddle 0 (a diverging map's centre then
        means 0: no divergence, no motion along the axis).
    color_log : bool
        Colour by log10 of the mean field (temperatures, energies: positive, spanning decades).
    legend : bool
        Draw a colour bar for the field with its colour limits in the image.
    """

    mode: str = option(
        "faces: additive face sum (fastest); integral: the exact line integral of the density; "
        "opacity: exact emission-absorption, sorted back to front",
        "faces",
        choices=MODES,
    )
    opacity: float = option(
        "opacity mode: optical depth per mean interparticle spacing at the top of the opacity window "
        "(0 gives the integral)",
        10.0,
    )
    opacity_window: tuple[float, float] | None = range_option(
        "opacity mode: log10 densities where the extinction starts and peaks "
        "(default: the 75th and 99.9th percentiles of the point densities)",
        None,
    )
    iso_levels: tuple[float, ...] = option(
        "draw isodensity surfaces at these densities over the volume",
        (),
        flag="--iso",
        parse=parse_levels,
        metavar="L[,L...]",
        show_default=False,
    )
    iso_shown: int = -1
    stretch: str = option("density stretch", "log", choices=STRETCHES)
    colormap: str = option("colormap", "magma", choices=COLORMAPS)
    exposure: float = option("brightness in stops", 0.0)
    clim: tuple[float, float] | None = range_option(
        "colour limits as log10 of the accumulated value (default: from percentiles)",
        None,
    )
    percentiles: tuple[float, float] = range_option(
        "percentiles of the non-empty pixels that set the automatic colour limits",
        (2.0, 99.8),
    )
    gamma: float = option("gamma after the stretch", 1.0)
    weighting: str = option("per-face weight: sum, length (sqrt of area) or area", "sum", choices=WEIGHTINGS)
    hide_hull: bool = option(
        "draw faces that touch the convex hull too", True, flag="--show-hull", action="store_false"
    )
    show_faces: bool = option("hide the Delaunay faces", True, flag="--no-faces", action="store_false")
    show_points: bool = option("show the densest vertices as discs", False, flag="--points", action="store_true")
    show_overlays: bool = True
    show_path: bool = True
    show_sprites: bool = True
    point_percentile: float = option("discs for vertices above this density percentile", 99.0)
    point_size: float = option("disc size in pixels", 3.0)
    cut_mode: str = option(
        "discard what lies in front of a plane (half) or outside a slab around it",
        "off",
        flag="--cut",
        choices=CUT_MODES,
        group=CUT,
    )
    cut_normal: np.ndarray = option(
        "normal of the cut plane",
        (0.0, 0.0, 1.0),
        parse=float,
        nargs=3,
        metavar=("X", "Y", "Z"),
        convert=tuple,
        group=CUT,
    )
    cut_offset: float | None = option("plane position along the normal (default: the data centre)", None, group=CUT)
    cut_width: float | None = option("slab thickness (default: a tenth of the data size)", None, group=CUT)
    color_by: FieldSpec | None = option(
        "hue from the density-weighted mean of a per-point field along each ray, brightness from "
        "the density: vel:x, vel:divergence, vel:vorticity-magnitude, temperature, any column",
        None,
        parse=FieldSpec.parse,
        metavar="FIELD",
        group=COLOR,
    )
    color_map: str = option("diverging colormap of the field", DIVERGING[0], choices=DIVERGING, group=COLOR)
    color_clim: tuple[float, float] | None = range_option(
        "field values at the ends of the colormap (log10 with --color-log; default: from percentiles, "
        "symmetric about 0 when they straddle it)",
        None,
        convert=_field_clim,
        group=COLOR,
    )
    color_percentiles: tuple[float, float] = range_option(
        "percentiles of the pixels' mean field that set the automatic field colour limits",
        (2.0, 98.0),
        convert=_field_clim,
        group=COLOR,
    )
    color_log: bool = option("colour by log10 of the field (temperatures)", False, action="store_true", group=COLOR)
    legend: bool = option("draw the field's colour bar in the image", False, action="store_true", group=COLOR)

    def __post_init__(self) -> None:
        normal = np.asarray(self.cut_normal, dtype=np.float64)
        if normal.shape != (3,) or not np.isfinite(normal).all() or not np.linalg.norm(normal) > 0:
            raise ValueError(f"cut_normal must be 3 finite numbers, not the zero vector, got {self.cut_normal!r}")
        self.cut_normal = normal / np.linalg.norm(normal)
        self.percentiles = (float(self.percentiles[0]), float(self.percentiles[1]))
        if self.clim is not None:
            self.clim = (float(self.clim[0]), float(self.clim[1]))
        choices = (("mode", MODES), ("stretch", STRETCHES), ("weighting", WEIGHTINGS), ("cut_mode", CUT_MODES))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not (np.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma must be a positive number, got {self.gamma}")
        if not np.isfinite(self.exposure):
            raise ValueError(f"exposure must be a finite number of stops, got {self.exposure}")
        if self.clim is not None:
            check_clim(self.clim)
        if self.opacity_window is not None:
            self.opacity_window = (float(self.opacity_window[0]), float(self.opacity_window[1]))
            check_clim(self.opacity_window, "opacity_window")
        if not (np.isfinite(self.opacity) and self.opacity >= 0):
            raise ValueError(f"opacity must be a non-negative number, got {self.opacity:g}")
        self.iso_levels = tuple(float(v) for v in np.atleast_1d(self.iso_levels))
        if not all(np.isfinite(v) and v > 0 for v in self.iso_levels):
            raise ValueError(f"iso_levels must be positive densities, got {list(self.iso_levels)}")
        lo, hi = self.percentiles
        if not 0 <= lo < hi <= 100:
            raise ValueError(f"percentiles must satisfy 0 <= LO < HI <= 100, got {lo:g} {hi:g}")
        if not 0 <= self.point_percentile <= 100:
            raise ValueError(f"the point percentile must be between 0 and 100, got {self.point_percentile:g}")
        offset, width = (np.nan if v is None else v for v in (self.cut_offset, self.cut_width))
        if not ((self.cut_offset is None or np.isfinite(offset)) and (self.cut_width is None or width > 0)):
            raise ValueError(f"the cut needs a finite offset and a positive width, got {offset:g}, {width:g}")
        if not (np.isfinite(self.point_size) and self.point_size > 0):
            raise ValueError(f"the point size must be a positive number of pixels, got {self.point_size:g}")
        if isinstance(self.color_by, str):
            self.color_by = FieldSpec.parse(self.color_by)
        if self.color_map not in DIVERGING:
            raise ValueError(f"color_map must be one of {', '.join(DIVERGING)}, got {self.color_map!r}")
        if self.color_clim is not None:
            lo, hi = self.color_clim = _field_clim(list(self.color_clim))
            if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
                raise ValueError(f"color_clim must satisfy LO < HI, got {lo:g} {hi:g}")
        lo, hi = self.color_percentiles = _field_clim(list(self.color_percentiles))
        if not 0 <= lo < hi <= 100:
            raise ValueError(f"color_percentiles must satisfy 0 <= LO < HI <= 100, got {lo:g} {hi:g}")

    def fit_cut(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Place a cut plane left unplaced (offset or width None) for the data bounds.

        It passes through the centre of the box ``[lower, upper]``; a slab is a tenth of
        its diagonal thick.
        """
        if self.cut_offset is None:
            self.cut_offset = float(self.cut_normal @ (np.asarray(lower) + np.asarray(upper)) / 2)
        if self.cut_width is None:
            self.cut_width = 0.1 * float(np.linalg.norm(np.asarray(upper) - np.asarray(lower)))

    def cut_keeps(self, points: np.ndarray) -> np.ndarray:
        """Which world points the cut plane keeps: shaders/cut.glsl's test, on the CPU."""
        points = np.atleast_2d(points)
        if self.cut_mode == "off":
            return np.ones(len(points), dtype=bool)
        offset, width = self.placed_cut()
        normal = np.asarray(self.cut_normal, dtype=np.float64)
        d = points @ (normal / np.linalg.norm(normal)) - offset
        return d <= 0 if self.cut_mode == "half" else np.abs(d) <= 0.5 * width

    def placed_cut(self) -> tuple[float, float]:
        """The cut plane's offset and slab width, once placed (see :meth:`fit_cut`).

        A half-space needs no width; an unplaced one reads as 0.
        """
        if self.cut_offset is None or (self.cut_width is None and self.cut_mode == "slab"):
            raise ValueError("the cut plane has no place yet: call fit_cut with the data bounds")
        return self.cut_offset, self.cut_width or 0.0


CLIM_LIMIT = 37.0
"""The colour limits are powers of ten handed to float32 uniforms, which end near 1e38."""


def check_clim(clim: tuple[float, float], what: str = "the colour limits") -> None:
    """Raise ValueError unless ``clim`` is (LO, HI) with -37 <= LO < HI <= 37 (log10); ``what`` names it."""
    lo, hi = clim
    if not (np.isfinite(lo) and np.isfinite(hi) and -CLIM_LIMIT <= lo < hi <= CLIM_LIMIT):
        limit = f"{-CLIM_LIMIT:g} <= LO < HI <= {CLIM_LIMIT:g}"
        raise ValueError(f"{what} must satisfy {limit} (log10), got {lo:g} {hi:g}")


def cycle(value: str, choices: tuple[str, ...], step: int = 1) -> str:
    """The choice ``step`` places after ``value``, wrapping around."""
    return choices[(choices.index(value) + step) % len(choices)]


def auto_clim(accum: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    """log10 colour limits from percentiles of the non-empty pixels of an accumulation image."""
    values = accum[accum > 0]
    if values.size == 0:
        return (0.0, 1.0)
    lo, hi = np.percentile(values, percentiles)
    lo, hi = np.log10(max(lo, values.min())), np.log10(max(hi, values.min()))
    return (float(lo), float(hi)) if hi > lo else (float(lo), float(lo) + 1.0)


def density_window(density: np.ndarray, percentiles: tuple[float, float] = OPACITY_PERCENTILES) -> tuple[float, float]:
    """log10 window from percentiles of the positive, finite vertex densities."""
    return auto_clim(np.nan_to_num(density, nan=0.0, posinf=0.0), percentiles)


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


def auto_color_clim(mean: np.ndarray, percentiles: tuple[float, float]) -> tuple[float, float]:
    """Field colour limits from percentiles of a :func:`field_image`, symmetric about 0 when they straddle 0.

    Limits closer than 0.2% of their values are widened to that about their centre: the
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
