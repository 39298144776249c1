"""Camera orientation along a keyframed path: squad through the keyframe rotations.

Shoemake's squad is to rotations what a cubic Hermite curve is to points; its inner
control points set the angular velocity at each keyframe. Plain squad assumes equally
long segments, so a turn shared between a short and a long segment would speed up and
slow down at the keyframe between them. Here the angular velocity at each keyframe is
the derivative of a monotone cubic (PCHIP) through the neighbouring rotations, in the
keyframe's own tangent space and against the keyframes' times: steady through evenly
timed turns, and never overshooting a keyframe when one neighbour barely turns.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

from delvol.scene import quaternion as quat


class OrientationCurve:
    """Rotations through keyframe ``rotations`` reached at ``times``.

    Parameters
    ----------
    rotations : ndarray, shape (N, 4)
        Keyframe camera-to-world quaternions, in either sign.
    times : ndarray, shape (N,)
        Strictly increasing keyframe times.
    """

    def __init__(self, rotations: np.ndarray, times: np.ndarray) -> None:
        self.rotations = quat.align_signs(rotations)
        # Control points on the incoming and the outgoing side of each keyframe; the ends
        # have none, which starts and ends the curve along a plain slerp.
        self._incoming, self._outgoing = self.rotations.copy(), self.rotations.copy()
        for i in range(1, len(self.rotations) - 1):
            q = self.rotations[i]
            inverse = quat.conjugate(q)
            back, ahead = (quat.log(quat.multiply(inverse, self.rotations[j])) for j in (i - 1, i + 1))
            chart = PchipInterpolator(times[i - 1 : i + 2], [back, np.zeros(3), ahead], axis=0)
            rate = chart.derivative()(times[i])
            # squad's angular velocity at a keyframe is log(q⁻¹ next) + 2 log(q⁻¹ control).
            self._outgoing[i] = quat.multiply(q, quat.exp((rate * (times[i + 1] - times[i]) - ahead) / 2))
            self._incoming[i] = quat.multiply(q, quat.exp(-(rate * (times[i] - times[i - 1]) + back) / 2))

    def rotation(self, segment: int, fraction: float) -> np.ndarray:
        """The unit quaternion ``fraction`` (0 to 1) of the way through ``segment``.

        Its sign follows the aligned keyframes, so consecutive frames' quaternions stay
        close and the camera's own keyframe sign may come back negated.
        """
        q = self.rotations
        curve = quat.squad(q[segment], q[segment + 1], self._outgoing[segment], self._incoming[segment + 1], fraction)
        return quat.normalize(curve)
