"""A centripetal Catmull-Rom curve through 3-D points, walked at constant speed.

Centripetal knots (spacing ``|P[i+1] - P[i]| ** 0.5``) are what keep a Catmull-Rom curve
from forming cusps or loops between unevenly spaced points. The curve is written as a
cubic Hermite spline in that knot parameter, so it passes exactly through every point,
and each segment carries an arc-length table that turns "this fraction of the segment's
length" back into the knot parameter, for steady speed along the path.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicHermiteSpline

ALPHA = 0.5
"""Knot exponent: 0 is the uniform, 0.5 the centripetal and 1 the chordal Catmull-Rom."""

_SAMPLES = 1024  # arc-length table steps per segment: speed steady to about 1e-6 even in tight turns


class CentripetalSpline:
    """Centripetal Catmull-Rom curve through ``points``, with per-segment arc length.

    The end tangents come from phantom points that reflect the second point through the
    first (and the second-to-last through the last), ``P[-1] = 2 P[0] - P[1]``, so the
    curve leaves its ends heading straight for its neighbours; with two points the curve
    is the straight segment between them.

    Parameters
    ----------
    points : ndarray, shape (M, 3)
        At least two points, no two consecutive ones equal.

    Attributes
    ----------
    lengths : ndarray, shape (M - 1,)
        Arc length of each segment.
    """

    def __init__(self, points: np.ndarray) -> None:
        p = np.asarray(points, dtype=np.float64)
        if p.ndim != 2 or len(p) < 2:
            raise ValueError(f"a spline needs at least two points, got shape {p.shape}")
        ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
        spacing = np.linalg.norm(np.diff(ext, axis=0), axis=1) ** ALPHA
        if not (spacing > 0).all():
            raise ValueError("consecutive spline points must differ")
        knots = np.concatenate([[0.0], np.cumsum(spacing)])
        # Derivative of the Catmull-Rom curve at each real point, in the knot parameter.
        chord = np.diff(ext, axis=0) / spacing[:, None]
        across = (ext[2:] - ext[:-2]) / (knots[2:] - knots[:-2])[:, None]
        self._curve = CubicHermiteSpline(knots[1:-1], p, chord[:-1] - across + chord[1:])
        velocity = self._curve.derivative()
        grids = np.linspace(knots[1:-2], knots[2:-1], _SAMPLES + 1, axis=1)
        # Gauss-Legendre quadrature of the speed over each table step, then the knot as a
        # cubic Hermite function of arc length, whose slope 1/speed is known exactly.
        nodes, weights = np.polynomial.legendre.leggauss(4)
        half = np.diff(grids, axis=1)[..., None] / 2
        speed = np.linalg.norm(velocity(grids[:, :-1, None] + half * (1 + nodes)), axis=-1)
        arcs = np.concatenate([np.zeros((len(grids), 1)), np.cumsum(half[..., 0] * (speed @ weights), axis=1)], axis=1)
        slopes = 1 / np.linalg.norm(velocity(grids), axis=-1)
        self._knot_at = [CubicHermiteSpline(*table) for table in zip(arcs, grids, slopes, strict=True)]
        self.lengths = arcs[:, -1]

    def point(self, segment: int, fraction: float) -> np.ndarray:
        """The point ``fraction`` (0 to 1) of the way along ``segment`` by arc length."""
        return self._curve(self._knot_at[segment](fraction * self.lengths[segment]))
