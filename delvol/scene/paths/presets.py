"""Ready-made paths for a movie without keyframes: a turntable orbit and a straight dolly."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from delvol.scene import quaternion as quat
from delvol.scene.camera import Camera, look_rotation
from delvol.scene.paths.base import DEFAULT_EASE, PathBase, ease_fraction

View = Camera | tuple[np.ndarray, np.ndarray]
"""A camera, or data bounds ``(lower, upper)`` to frame a default camera on."""

_FIT_AZIMUTHS = 72  # directions tried round a turntable to keep the whole box in view


def _point(value: Any, name: str) -> np.ndarray:
    point = np.asarray(value, dtype=np.float64)
    if point.shape != (3,) or not np.isfinite(point).all():
        raise ValueError(f"{name} must be 3 finite numbers, got {value!r}")
    return point


def _copy(view: View, aspect: float) -> Camera:
    """A copy of the camera, or a default camera fitted to the bounds."""
    if isinstance(view, Camera):
        return Camera.from_state(view.get_state())
    camera = Camera()
    camera.fit(*view, aspect=aspect)
    return camera


class OrbitPath(PathBase):
    """The camera swung whole about the world up axis through ``centre``.

    Distance to the centre and elevation stay constant, and whatever the camera looks at
    turns with it. With a whole number of turns the path is closed, and the state at
    ``u = 1`` is the state at ``u = 0`` exactly.

    Parameters
    ----------
    camera : Camera
        The view at the start.
    centre : ndarray, shape (3,)
        A point on the axis of the turn.
    turns : float, optional
        Turns over the path; negative turns go clockwise seen from above.
    ease : bool or float, optional
        As for :class:`CameraPath`; off by default so a looping movie never pauses.
    """

    def __init__(self, camera: Camera, centre: np.ndarray, turns: float = 1.0, ease: bool | float = False) -> None:
        if not np.isfinite(turns) or turns == 0:
            raise ValueError(f"turns must be a finite non-zero number, got {turns!r}")
        self.turns = float(turns)
        self.ease = ease_fraction(ease)
        self.closed = self.turns.is_integer()
        self.centre = _point(centre, "orbit centre")
        self._start = camera.get_state()
        self._axis = camera.up / np.linalg.norm(camera.up)
        self._offset = camera.position - self.centre
        self._rotation = camera.rotation.copy()

    def _state(self, t: float) -> dict[str, Any]:
        # Reducing by the whole turns makes u = 1 land on the start exactly; the quaternion
        # would otherwise come back negated after an odd number of turns.
        angle = 2 * np.pi * np.fmod(self.turns * t, np.ceil(abs(self.turns)))
        spin = quat.from_axis_angle(self._axis, angle)
        state = copy.deepcopy(self._start)
        state["position"] = (self.centre + quat.rotate(spin, self._offset)).tolist()
        state["rotation"] = quat.multiply(spin, self._rotation).tolist()
        return state


def orbit_path(
    view: View,
    elevation_deg: float | None = None,
    turns: float = 1.0,
    aspect: float = 16 / 9,
    ease: bool | float = False,
) -> OrbitPath:
    """A turntable round the centre of the data box, looking at it.

    Parameters
    ----------
    view : Camera or (lower, upper)
        A camera: the orbit keeps its lens, world up, scene box and distance from the
        box centre. Bounds: a default camera is framed on them (:meth:`Camera.fit`), far
        enough back that the whole box stays in view all the way round.
    elevation_deg : float, optional
        Angle of the camera above the plane through the centre perpendicular to world up
        (-90 to 90, exclusive); default: the camera's present elevation, or 20° for bounds.
        A camera is moved to it at its present azimuth and distance, looking at the centre.
    turns : float, optional
        Full turns over the path.
    aspect : float, optional
        Viewport width / height, for framing bounds.
    ease : bool or float, optional
        As for :class:`OrbitPath`.

    Raises
    ------
    ValueError
        For an elevation outside (-90, 90), or a camera at the centre when it must aim.
    """
    if elevation_deg is not None and not -90 < elevation_deg < 90:
        raise ValueError(f"orbit elevation must be between -90 and 90 degrees, got {elevation_deg!r}")
    camera = _copy(view, aspect)
    centre = (camera.scene_lower + camera.scene_upper) / 2
    if not isinstance(view, Camera):
        lower, upper = camera.scene_lower, camera.scene_upper
        elevation = 20.0 if elevation_deg is None else elevation_deg
        distance, height = 0.0, 0.0
        for azimuth in np.linspace(0.0, 360.0, _FIT_AZIMUTHS, endpoint=False):
            camera.fit(lower, upper, aspect, azimuth=azimuth, elevation=elevation)
            distance, height = max(distance, camera.focus_distance), max(height, camera.ortho_height)
        camera.fit(lower, upper, aspect, elevation=elevation, distance=distance)
        camera.ortho_height = height
    elif elevation_deg is not None:
        offset = camera.position - centre
        distance = float(np.linalg.norm(offset))
        if distance == 0:
            raise ValueError("the camera is at the data centre, so it cannot orbit it at an elevation")
        up = camera.up / np.linalg.norm(camera.up)
        level = offset - up * np.dot(offset, up)
        if np.linalg.norm(level) < 1e-9 * distance:  # straight above or below: keep what is screen-down
            level = -camera.camera_up + up * np.dot(camera.camera_up, up)
        level /= np.linalg.norm(level)
        elevation = np.radians(elevation_deg)
        camera.look_at(centre + distance * (np.cos(elevation) * level + np.sin(elevation) * up), centre)
    return OrbitPath(camera, centre, turns=turns, ease=ease)


class DollyPath(PathBase):
    """A straight run from ``start`` to ``end``, looking at a fixed point or straight ahead.

    Parameters
    ----------
    camera : Camera
        Lens, world up and scene box of the view.
    start, end : ndarray, shape (3,)
        The ends of the run; they must differ.
    look_at : ndarray, shape (3,), optional
        A point kept in the centre of the view (and made the orbit focus); it must not lie
        on the run. Default: look along the run.
    ease : bool or float, optional
        As for :class:`CameraPath`.
    """

    def __init__(
        self,
        camera: Camera,
        start: np.ndarray,
        end: np.ndarray,
        look_at: np.ndarray | None = None,
        ease: bool | float = DEFAULT_EASE,
    ) -> None:
        self.start, self.end = _point(start, "dolly start"), _point(end, "dolly end")
        run = self.end - self.start
        length = float(np.linalg.norm(run))
        if length == 0:
            raise ValueError("a dolly needs different start and end points")
        self.look_at = None if look_at is None else _point(look_at, "dolly look-at point")
        if self.look_at is not None:
            along = np.clip(np.dot(self.look_at - self.start, run) / length**2, 0.0, 1.0)
            if np.linalg.norm(self.start + along * run - self.look_at) <= 1e-9 * length:
                raise ValueError("the dolly's look-at point lies on its run")
        self.ease = ease_fraction(ease)
        self._base = camera.get_state()
        self._up = camera.up.copy()
        # The start's view; for a look-at run also the sign every later quaternion keeps to.
        self._rotation = look_rotation(run if self.look_at is None else self.look_at - self.start, self._up)

    def _state(self, t: float) -> dict[str, Any]:
        position = (1.0 - t) * self.start + t * self.end
        state = copy.deepcopy(self._base)
        state["position"] = position.tolist()
        rotation = self._rotation
        if self.look_at is not None:
            toward = self.look_at - position
            rotation = look_rotation(toward, self._up)
            # The view turns less than half a turn along a straight run, so keeping to the
            # start's sign makes the quaternions change continuously.
            rotation = rotation if np.dot(rotation, self._rotation) >= 0 else -rotation
            state["focus_distance"] = float(np.linalg.norm(toward))
        state["rotation"] = rotation.tolist()
        return state


def dolly_path(
    view: View,
    start: np.ndarray,
    end: np.ndarray,
    look_at: np.ndarray | None = None,
    aspect: float = 16 / 9,
    ease: bool | float = DEFAULT_EASE,
) -> DollyPath:
    """A straight camera run from ``start`` to ``end`` (see :class:`DollyPath`).

    ``view`` is a camera, whose lens, world up and scene box the run keeps, or data bounds
    ``(lower, upper)`` to frame a default camera on with viewport ``aspect``.
    """
    return DollyPath(_copy(view, aspect), start, end, look_at=look_at, ease=ease)
