"""Everything that changes how a frame looks, independent of GL."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from delvol.options import option
from delvol.scene.colormaps import COLORMAPS

STRETCHES = ("log", "asinh", "linear")
WEIGHTINGS = ("sum", "length", "area")
CUT_MODES = ("off", "half", "slab")
CUT = "cut plane"  # the help section of the cut options


@dataclass
class RenderSettings:
    """Look of the Delaunay volume and its layers.

    Attributes
    ----------
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
    """

    stretch: str = option("density stretch", "log", choices=STRETCHES)
    colormap: str = option("colormap", "magma", choices=COLORMAPS)
    exposure: float = option("brightness in stops", 0.0)
    clim: tuple[float, float] | None = option(
        "colour limits as log10 of the accumulated value (default: from percentiles)",
        None,
        parse=float,
        nargs=2,
        metavar=("LO", "HI"),
        convert=tuple,
    )
    percentiles: tuple[float, float] = option(
        "percentiles of the non-empty pixels that set the automatic colour limits",
        (2.0, 99.8),
        parse=float,
        nargs=2,
        metavar=("LO", "HI"),
        convert=tuple,
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

    def __post_init__(self) -> None:
        normal = np.asarray(self.cut_normal, dtype=np.float64)
        if normal.shape != (3,) or not np.isfinite(normal).all() or not np.linalg.norm(normal) > 0:
            raise ValueError(f"cut_normal must be 3 finite numbers, not the zero vector, got {self.cut_normal!r}")
        self.cut_normal = normal / np.linalg.norm(normal)
        self.percentiles = (float(self.percentiles[0]), float(self.percentiles[1]))
        if self.clim is not None:
            self.clim = (float(self.clim[0]), float(self.clim[1]))
        for name, allowed in (("stretch", STRETCHES), ("weighting", WEIGHTINGS), ("cut_mode", CUT_MODES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not (np.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma must be a positive number, got {self.gamma}")
        if not np.isfinite(self.exposure):
            raise ValueError(f"exposure must be a finite number of stops, got {self.exposure}")
        if self.clim is not None:
            check_clim(self.clim)
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


def check_clim(clim: tuple[float, float]) -> None:
    """Raise ValueError unless ``clim`` is (LO, HI) with -37 <= LO < HI <= 37 (log10)."""
    lo, hi = clim
    if not (np.isfinite(lo) and np.isfinite(hi) and -CLIM_LIMIT <= lo < hi <= CLIM_LIMIT):
        limit = f"{-CLIM_LIMIT:g} <= LO < HI <= {CLIM_LIMIT:g}"
        raise ValueError(f"the colour limits must satisfy {limit} (log10), got {lo:g} {hi:g}")


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
