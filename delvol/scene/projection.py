"""What surface-density map to make (``delvol project``, :func:`delvol.project`): axis, pixels, extent.

GL-free: the map itself is rendered by :mod:`delvol.gl.projection`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from delvol.geometry import Tessellation
from delvol.options import option

AXES = "xyz"


def map_axes(axis: str) -> tuple[int, int, int]:
    """(column axis, row axis, line-of-sight axis) of a projection along ``axis``.

    The two remaining axes keep their order: along x the columns run along y and the rows
    along z, along y columns x and rows z, along z columns x and rows y.
    """
    k = AXES.index(axis)
    u, v = (a for a in range(3) if a != k)
    return u, v, k


def default_extent(tess: Tessellation, axis: str) -> tuple[float, float, float, float]:
    """The data bounds in the two projected axes, exactly: the periodic box, or the points' box."""
    u, v, _ = map_axes(axis)
    lower, upper = tess.bounds
    return float(lower[u]), float(upper[u]), float(lower[v]), float(upper[v])


def map_size(text: str) -> tuple[int, int]:
    """``"512"`` -> (512, 512); ``"512x256"`` -> (512, 256): columns and rows."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise ValueError(f"size must look like 512 or 512x256, got {text!r}")
    return (parts[0], parts[-1])


def _extent(values: list[float]) -> tuple[float, float, float, float]:
    x0, x1, y0, y1 = (float(v) for v in values)
    return x0, x1, y0, y1


@dataclass
class ProjectionOptions:
    """A surface-density map: the line of sight, the pixels and the region they cover.

    Attributes
    ----------
    axis : {"x", "y", "z"}
        The line of sight; the map's columns and rows are the two other axes in their
        order (:func:`map_axes`).
    size : (int, int)
        Columns and rows.
    extent : (x0, x1, y0, y1), optional
        World range of the columns and the rows; None: :func:`default_extent`, the
        periodic box or the points' bounds.
    supersample : int
        Integrate ``supersample`` x ``supersample`` rays per pixel and average (1 to 8):
        a pixel average of Sigma rather than its value at the pixel centre.
    """

    axis: str = option("line of sight", "z", choices=tuple(AXES))
    size: tuple[int, int] = option(
        "pixels: N, or columns x rows", (512, 512), parse=map_size, metavar="N[xM]", show_default=False
    )
    extent: tuple[float, float, float, float] | None = option(
        "map range in the two remaining axes, in their order (default: the data bounds or the periodic box)",
        None,
        parse=float,
        nargs=4,
        metavar=("X0", "X1", "Y0", "Y1"),
        convert=_extent,
    )
    supersample: int = option("integrate N x N rays per pixel and average (1 to 8)", 2, metavar="N")

    def __post_init__(self) -> None:
        if self.axis not in AXES:
            raise ValueError(f"axis must be one of x, y, z, got {self.axis!r}")
        if isinstance(self.size, int):
            self.size = (self.size, self.size)
        columns, rows = (int(v) for v in self.size)
        if min(columns, rows) < 1:
            raise ValueError(f"size must be positive, got {self.size}")
        self.size = (columns, rows)
        if not 1 <= self.supersample <= 8:
            raise ValueError(f"supersample must be 1 to 8, got {self.supersample}")
        if self.extent is not None:
            x0, x1, y0, y1 = self.extent = _extent(list(self.extent))
            if not (math.isfinite(x0 + x1 + y0 + y1) and x0 < x1 and y0 < y1):
                raise ValueError(f"extent needs X0 < X1 and Y0 < Y1, got {x0:g} {x1:g} {y0:g} {y1:g}")
