"""Views made for sky catalogues: the redshift wedge and the observer's own view.

- **Wedge**: the classic cone diagram of redshift surveys. The galaxies in a declination
  slice (``dec ± width/2``) are seen face-on, orthographically, with the observer at the
  apex at the bottom of the frame; faces with a vertex outside the slice are not drawn.
  "Face-on" is along the normal of the plane through the observer that best fits the
  slice (the least principal axis of the galaxies' directions), so a slice at any
  declination shows its true shape, and one at dec 0 is exactly the equatorial plane.
- **Observer**: from the origin, towards the centre of the footprint (the mean direction
  of the galaxies), with a field of view that holds 99% of them.
"""

from __future__ import annotations

import numpy as np

from delvol.io import PointSet
from delvol.scene.camera import Camera

SKY_VIEWS = ("wedge", "observer")
DEFAULT_WEDGE_WIDTH = 6.0
"""Degrees of declination in a wedge by default: thick enough to trace filaments in SDSS."""
_OBSERVER_FRACTION = 99.0
_MAX_FOV = 150.0


def is_sky(points: PointSet) -> bool:
    """Whether ``points`` came from a sky catalogue (RA, Dec, redshift), observer at the origin."""
    return points.metadata.get("frame") == "equatorial comoving"


def declinations(points: np.ndarray) -> np.ndarray:
    """Declination in degrees of each point, seen from the origin (z towards the north pole)."""
    p = np.asarray(points, dtype=np.float64)
    r = np.linalg.norm(p, axis=1)
    return np.degrees(np.arcsin(np.clip(p[:, 2] / np.where(r > 0, r, 1.0), -1.0, 1.0)))


def wedge_selection(points: np.ndarray, dec: float | None = None, width: float = DEFAULT_WEDGE_WIDTH) -> np.ndarray:
    """Which points lie in the declination slice ``dec ± width / 2`` (default: the median Dec).

    Raises
    ------
    ValueError
        A width that is not positive, or a slice holding fewer than 3 points.
    """
    if not (np.isfinite(width) and width > 0):
        raise ValueError(f"the wedge width must be a positive number of degrees, got {width:g}")
    d = declinations(points)
    centre = float(np.median(d)) if dec is None else dec
    inside = np.abs(d - centre) <= width / 2
    if np.count_nonzero(inside) < 3:
        raise ValueError(f"fewer than 3 points have a declination within {centre:g} ± {width / 2:g}°")
    return inside


def wedge_camera(camera: Camera, slice_points: np.ndarray, lower: np.ndarray, upper: np.ndarray, aspect: float) -> None:
    """Point ``camera`` (made orthographic) face-on at the slice, apex at the bottom, framed."""
    p = np.asarray(slice_points, dtype=np.float64)
    units = p / np.linalg.norm(p, axis=1)[:, None]
    _, vectors = np.linalg.eigh(units.T @ units)
    normal = vectors[:, 0]  # the least principal axis: normal of the best plane through the observer
    if normal[2] < 0:
        normal = -normal  # seen from the north, so RA increases anticlockwise as on the sky
    opening = units.mean(axis=0)
    opening -= normal * (opening @ normal)
    camera.projection = "orthographic"
    camera.up = opening / np.linalg.norm(opening)
    camera.fit(lower, upper, aspect, points=p, direction=normal)


def observer_camera(camera: Camera, points: np.ndarray, lower: np.ndarray, upper: np.ndarray, aspect: float) -> None:
    """Put ``camera`` at the origin looking at the galaxies' mean direction, in fly mode."""
    p = np.asarray(points, dtype=np.float64)
    r = np.linalg.norm(p, axis=1)
    units = p[r > 0] / r[r > 0, None]
    centre = units.mean(axis=0)
    camera.fit(lower, upper, aspect)
    camera.projection = "perspective"
    camera.mode = "fly"
    camera.look_at(np.zeros(3), centre / np.linalg.norm(centre) * float(np.median(r)))
    x, y, depth = camera.view_coordinates(p)
    ahead = depth > 0
    tan_y = np.percentile(np.abs(y[ahead]) / depth[ahead], _OBSERVER_FRACTION)
    tan_x = np.percentile(np.abs(x[ahead]) / depth[ahead], _OBSERVER_FRACTION)
    half = np.arctan(1.04 * max(tan_y, tan_x / aspect))
    camera.fov_y = float(min(np.degrees(2 * half), _MAX_FOV))
