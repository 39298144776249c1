"""A camera path through keyframes: smooth, steady in speed, and exact at every keyframe.

Timing. Each keyframe is reached at its arc-length position along the path, so the camera
moves at one steady speed however unevenly the keyframes are spaced. Segments between
keyframes at the same place (a turn on the spot, or a hold) cannot be timed by length;
each gets an equal share of the time, as if the path were timed by keyframe index. A path
that never moves at all is timed by the angle turned instead, so it turns steadily.

Position follows a centripetal Catmull-Rom curve (:mod:`.spline`); orientation follows
Shoemake's squad through the keyframe rotations, made to agree in sign first so no
segment takes the long way round; the positive scale-like numbers (focus distance, field
of view, orthographic height, fly speed) follow a monotone cubic (PCHIP) through their
logarithms, so zooms go at a steady rate and never overshoot a keyframe's value.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

from delvol.scene import quaternion as quat
from delvol.scene.camera import SCALES, Camera
from delvol.scene.paths.base import DEFAULT_EASE, PathBase, ease_fraction
from delvol.scene.paths.orientation import OrientationCurve
from delvol.scene.paths.spline import CentripetalSpline

_SAME_PLACE = 1e-12  # keyframes closer than this times their coordinates' size share a place
_SAME_ANGLE = 1e-12  # radians


def complete_keyframes(keyframes: Sequence[Mapping[str, Any]], base: Mapping[str, Any] | None = None) -> list[dict]:
    """Full camera states from keyframes that may leave keys out.

    A key a keyframe leaves out keeps its value from the keyframe before, and the first
    keyframe's from ``base`` (default: a default :class:`Camera`), so a hand-written path
    need only say what changes.

    Raises
    ------
    ValueError
        Naming the keyframe, for a value :meth:`Camera.set_state` rejects.
    """
    if isinstance(keyframes, str | bytes | Mapping) or not isinstance(keyframes, Sequence):
        raise ValueError(f"keyframes must be a list of camera states, got {type(keyframes).__name__}")
    camera = Camera.from_state(base) if base is not None else Camera()
    states = []
    for i, keyframe in enumerate(keyframes):
        if not isinstance(keyframe, Mapping):
            raise ValueError(f"keyframe {i} must be a camera state object, got {type(keyframe).__name__}")
        try:
            camera.set_state(keyframe)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"keyframe {i}: {exc}") from None
        states.append(camera.get_state())
    return states


def _shares(measure: np.ndarray) -> np.ndarray:
    """Each segment's share of the time: segments of zero ``measure`` one share each,
    the rest in proportion to their measure."""
    share = np.full(len(measure), 1.0 / len(measure))
    positive = measure > 0
    if positive.any():
        share[positive] = measure[positive] / measure[positive].sum() * positive.mean()
    return share


class CameraPath(PathBase):
    """A smooth camera path through keyframed camera states.

    Parameters
    ----------
    keyframes : sequence of dict
        Camera states as :meth:`Camera.get_state` gives them; missing keys carry over
        (see :func:`complete_keyframes`).
    ease : bool or float, optional
        Fraction of the time spent speeding up from rest and slowing down to rest (0 to
        0.5); True is :data:`DEFAULT_EASE`, False or 0 moves at constant speed.
    base : dict, optional
        The state the first keyframe's missing keys come from, such as the camera fitted
        to the data.

    Attributes
    ----------
    keyframes : list of dict
        The full keyframe states.
    times : ndarray, shape (N,)
        How far along the path (0 to 1, after easing) each keyframe is reached; with
        ``ease == 0``, the time at which :meth:`state_at` returns it.

    Raises
    ------
    ValueError
        For no keyframes, a bad keyframe or a bad ``ease``.
    """

    def __init__(
        self,
        keyframes: Sequence[Mapping[str, Any]],
        ease: bool | float = DEFAULT_EASE,
        base: Mapping[str, Any] | None = None,
    ) -> None:
        self.keyframes = complete_keyframes(keyframes, base)
        if not self.keyframes:
            raise ValueError("a camera path needs at least one keyframe")
        self.ease = ease_fraction(ease)
        self._positions = np.array([k["position"] for k in self.keyframes])
        rotations = np.array([k["rotation"] for k in self.keyframes])
        n = len(self.keyframes)
        if n == 1:
            self.times = np.zeros(1)
            return
        chords = np.linalg.norm(np.diff(self._positions, axis=0), axis=1)
        self._moving = chords > _SAME_PLACE * np.abs(self._positions).max()
        if self._moving.any():
            self._spline = CentripetalSpline(self._positions[np.concatenate([[True], self._moving])])
            # Spline segment of each moving keyframe segment.
            self._spline_segment = np.cumsum(self._moving) - 1
            measure = np.zeros(n - 1)
            measure[self._moving] = self._spline.lengths
        else:
            angles = [quat.angle_between(a, b) for a, b in itertools.pairwise(rotations)]
            measure = np.where(np.array(angles) > _SAME_ANGLE, angles, 0.0)
        self.times = np.concatenate([[0.0], np.cumsum(_shares(measure))])
        self.times[-1] = 1.0
        self._orientation = OrientationCurve(rotations, self.times)
        scalars = np.log([[k[key] for key in SCALES] for k in self.keyframes])
        self._scalars = PchipInterpolator(self.times, scalars, axis=0)

    def _state(self, t: float) -> dict[str, Any]:
        if len(self.keyframes) == 1:
            return copy.deepcopy(self.keyframes[0])
        k = int(np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.keyframes) - 2))
        f = float(np.clip((t - self.times[k]) / (self.times[k + 1] - self.times[k]), 0.0, 1.0))
        # Mode, projection, up and scene bounds switch at keyframes rather than blend.
        state = copy.deepcopy(self.keyframes[k + 1 if f == 1.0 else k])
        if self._moving[k]:
            state["position"] = self._spline.point(self._spline_segment[k], f).tolist()
        state["rotation"] = self._orientation.rotation(k, f).tolist()
        state.update(zip(SCALES, np.exp(self._scalars(t)).tolist(), strict=True))
        return state
