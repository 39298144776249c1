"""A deterministic camera for flying through point data, with pyrr projection matrices.

Matrices follow the column-vector convention, ``clip = projection @ view @ [x, y, z, 1]``;
:func:`delvol.gl.context.gl_bytes` uploads them in the column-major layout GLSL expects.
The camera never reads a clock: every motion takes an explicit ``dt`` in seconds, so a
scripted path renders identically on every run and frame rate.

Camera space: the camera looks along its local -z axis with +y up and +x to the right.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyrr import matrix44

from delvol.scene import quaternion as quat

MODES = ("fly", "orbit")
PROJECTIONS = ("perspective", "orthographic")
AXIS_VIEWS = ("+x", "-x", "+y", "-y", "+z", "-z")
SCALES = ("focus_distance", "fov_y", "ortho_height", "speed")
"""The positive numbers of a camera state (fov_y, in degrees, also under 180)."""
_MAX_PITCH = np.radians(89.0)
_NEAR_FRACTION = 1e-5  # near plane as a fraction of the far plane: there is no depth buffer to starve


def look_rotation(forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The camera-to-world quaternion of a camera looking along ``forward``.

    ``up`` need not be perpendicular to ``forward``; when they are parallel another
    perpendicular axis is chosen.
    """
    f = np.asarray(forward, dtype=np.float64)
    f = f / np.linalg.norm(f)
    right = np.cross(f, up)
    if np.linalg.norm(right) < 1e-9:
        right = np.cross(f, [0.0, 1.0, 0.0] if abs(f[1]) < 0.9 else [1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    true_up = np.cross(right, f)
    return quat.from_matrix(np.column_stack([right, true_up, -f]))


@dataclass
class Camera:
    """Position, orientation and lens, plus the scene box that sets clip planes and speed.

    Attributes
    ----------
    position : ndarray, shape (3,)
    rotation : ndarray, shape (4,)
        Camera-to-world unit quaternion ``[x, y, z, w]``.
    focus_distance : float
        Distance along the view direction to the orbit centre.
    mode : {"fly", "orbit"}
        Fly turns the camera about itself; orbit turns it about the focus point.
    projection : {"perspective", "orthographic"}
    fov_y : float
        Vertical field of view in degrees (perspective).
    ortho_height : float
        Visible height in world units (orthographic).
    speed : float
        Fly speed in world units per second.
    up : ndarray, shape (3,)
        World up: yaw turns about it and pitch is measured from it.
    scene_lower, scene_upper : ndarray, shape (3,)
        Bounds of the data, for clip planes and the default speed.
    """

    position: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))
    rotation: np.ndarray = field(default_factory=lambda: quat.IDENTITY.copy())
    focus_distance: float = 1.0
    mode: str = "orbit"
    projection: str = "perspective"
    fov_y: float = 45.0
    ortho_height: float = 1.0
    speed: float = 0.25
    up: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))
    scene_lower: np.ndarray = field(default_factory=lambda: np.full(3, -0.5))
    scene_upper: np.ndarray = field(default_factory=lambda: np.full(3, 0.5))

    # -- derived axes and matrices ---------------------------------------------------

    @property
    def forward(self) -> np.ndarray:
        return quat.rotate(self.rotation, [0.0, 0.0, -1.0])

    @property
    def right(self) -> np.ndarray:
        return quat.rotate(self.rotation, [1.0, 0.0, 0.0])

    @property
    def camera_up(self) -> np.ndarray:
        return quat.rotate(self.rotation, [0.0, 1.0, 0.0])

    @property
    def focus(self) -> np.ndarray:
        """The orbit centre."""
        return self.position + self.focus_distance * self.forward

    @property
    def scene_size(self) -> float:
        """Diagonal of the scene box: the length scale for speeds and clip planes."""
        return float(np.linalg.norm(self.scene_upper - self.scene_lower))

    def view_matrix(self) -> np.ndarray:
        """World-to-camera 4×4 matrix."""
        r = quat.to_matrix(self.rotation)
        view = np.eye(4)
        view[:3, :3] = r.T
        view[:3, 3] = -r.T @ self.position
        return view

    def clip_planes(self) -> tuple[float, float]:
        """Near and far distances that enclose the whole scene box from where the camera is."""
        depth = (self.scene_corners() - self.position) @ self.forward
        far = max(float(depth.max()), 0.0) + 0.01 * self.scene_size
        far = max(far, 1e-6 * self.scene_size)
        if self.projection == "orthographic":
            # An orthographic view may sit inside the box; clip nothing in front of it.
            return -far, far
        return far * _NEAR_FRACTION, far

    def projection_matrix(self, aspect: float) -> np.ndarray:
        """Camera-to-clip 4×4 matrix for a viewport of width/height ``aspect``."""
        near, far = self.clip_planes()
        if self.projection == "orthographic":
            h = self.ortho_height / 2
            m = matrix44.create_orthogonal_projection(-h * aspect, h * aspect, -h, h, near, far, dtype=np.float64)
        else:
            m = matrix44.create_perspective_projection(self.fov_y, aspect, near, far, dtype=np.float64)
        return np.asarray(m).T  # pyrr builds row-vector matrices

    def view_projection(self, aspect: float) -> np.ndarray:
        return self.projection_matrix(aspect) @ self.view_matrix()

    def project(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        """Pixel coordinates (x right, y down, pixel centres at +0.5) of world points."""
        p = np.atleast_2d(np.asarray(points, dtype=np.float64))
        clip = np.column_stack([p, np.ones(len(p))]) @ self.view_projection(width / height).T
        ndc = clip[:, :3] / clip[:, 3:4]
        return np.column_stack([(ndc[:, 0] + 1) / 2 * width, (1 - ndc[:, 1]) / 2 * height])

    def view_coordinates(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Camera-space coordinates of world points: along right, along up, and depth in front.

        Column by column rather than as a matrix product: for (N, 3) @ (3, 3) a threaded
        BLAS is several times slower, and slower still on a busy machine.
        """
        p = np.atleast_2d(np.asarray(points, dtype=np.float64))
        rel = [p[:, k] - self.position[k] for k in range(3)]
        axes = (self.right, self.camera_up, self.forward)
        x, y, depth = (rel[0] * a[0] + rel[1] * a[1] + rel[2] * a[2] for a in axes)
        return x, y, depth

    def pixels_per_unit(self, depth: np.ndarray, height: int) -> np.ndarray:
        """Pixels that one world unit facing the camera spans at ``depth`` (positive depths only)."""
        depth = np.asarray(depth, dtype=np.float64)
        if self.projection == "orthographic":
            return np.full(depth.shape, height / self.ortho_height)
        return height / (2 * np.tan(np.radians(self.fov_y) / 2) * depth)

    # -- placing the camera ----------------------------------------------------------

    def look_at(self, eye: np.ndarray, target: np.ndarray) -> None:
        """Put the camera at ``eye`` looking at ``target``, which becomes the orbit focus."""
        eye = np.asarray(eye, dtype=np.float64)
        direction = np.asarray(target, dtype=np.float64) - eye
        self.position = eye
        self.focus_distance = float(np.linalg.norm(direction))
        self.rotation = look_rotation(direction, self.up)

    def fit(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        aspect: float = 16 / 9,
        azimuth: float = 30.0,
        elevation: float = 20.0,
        distance: float | None = None,
        view: str | None = None,
        points: np.ndarray | None = None,
        direction: np.ndarray | None = None,
    ) -> None:
        """Frame the data and derive speed and clip planes from its box ``[lower, upper]``.

        Parameters
        ----------
        lower, upper : ndarray, shape (3,)
            The data bounds.
        aspect : float
            Viewport width / height.
        azimuth, elevation : float
            Viewing direction in degrees, measured about and from :attr:`up` (ignored
            when ``view`` is given).
        distance : float, optional
            Camera distance from the box centre; default: just enough to see the box.
        view : {"+x", "-x", "+y", "-y", "+z", "-z"}, optional
            Look at the box from this side along the axis, for figures.
        points : ndarray, shape (M, 3), optional
            The data to frame: its projection then fills the frame's limiting dimension
            (to within a 4% margin) and is centred. Default: the box's corners.
        direction : ndarray, shape (3,), optional
            Look from this direction (from the data towards the camera) instead of
            ``azimuth`` and ``elevation``, with :attr:`up` up on the screen.
        """
        self.scene_lower = np.asarray(lower, dtype=np.float64)
        self.scene_upper = np.asarray(upper, dtype=np.float64)
        self.speed = 0.25 * self.scene_size
        if view is not None:
            if view not in AXIS_VIEWS:
                raise ValueError(f"view must be one of {', '.join(AXIS_VIEWS)}, got {view!r}")
            toward = np.zeros(3)
            toward["xyz".index(view[1])] = 1.0 if view[0] == "+" else -1.0
            screen_up = np.array([0.0, 1.0, 0.0]) if view[1] == "z" else np.array([0.0, 0.0, 1.0])
        elif direction is not None:
            toward = np.asarray(direction, dtype=np.float64) / np.linalg.norm(direction)
            screen_up = self.up
        else:
            toward = self._world_direction(np.radians(azimuth), np.radians(elevation))
            screen_up = self.up
        self.rotation = look_rotation(-toward, screen_up)
        centre = (self.scene_lower + self.scene_upper) / 2
        margin = 1.04
        floor = 1e-12 * self.scene_size
        tan_y = np.tan(np.radians(self.fov_y) / 2) / margin
        if points is None or len(points) == 0:
            # The box itself stays centred, so that orbits turn about its centre.
            corners = self.scene_corners() - centre
            x, y, depth = corners @ self.right, corners @ self.camera_up, corners @ toward
            shift = np.zeros(2)
            self.ortho_height = 2 * margin * max(float(np.abs(y).max()), float(np.abs(x).max()) / aspect, floor)
            if distance is None:
                # The closest distance at which every corner is inside the frustum.
                distance = float(np.max(np.maximum(np.abs(y) / tan_y, np.abs(x) / (tan_y * aspect)) + depth))
        else:
            frame = np.asarray(points, dtype=np.float64)
            x, y, depth = (
                sum((frame[:, k] - centre[k]) * axis[k] for k in range(3))
                for axis in (self.right, self.camera_up, toward)
            )
            # Orthographic: the centre of the projected extent, and the larger of its two spans.
            shift = np.array([(x.max() + x.min()) / 2, (y.max() + y.min()) / 2])
            self.ortho_height = 2 * margin * max((y.max() - y.min()) / 2, (x.max() - x.min()) / 2 / aspect, floor)
            # Perspective: every point inside the frustum, |offset - centre| <= tan * (D - depth),
            # is two half-planes per screen axis; the least D meeting them and the centre
            # between them are exact, so the data touches both edges of its limiting axis.
            best, centres = floor, []
            for offset, tan in ((x, tan_y * aspect), (y, tan_y)):
                high, low = float(np.max(offset + tan * depth)), float(np.min(offset - tan * depth))
                best = max(best, (high - low) / (2 * tan))
                centres.append((high + low) / 2)
            if self.projection == "perspective":
                shift = np.array(centres)
            if distance is None:
                distance = best
        focus = centre + shift[0] * self.right + shift[1] * self.camera_up
        self.position = focus + toward * distance
        self.focus_distance = float(distance)

    def scene_corners(self) -> np.ndarray:
        """The 8 corners of the scene box, shape (8, 3)."""
        grid = np.meshgrid(*zip(self.scene_lower, self.scene_upper, strict=True), indexing="ij")
        return np.stack(grid, axis=-1).reshape(-1, 3)

    def _world_direction(self, azimuth: float, elevation: float) -> np.ndarray:
        """Unit vector at ``azimuth`` about :attr:`up` and ``elevation`` above its plane."""
        up = self.up / np.linalg.norm(self.up)
        ref = np.array([1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        e1 = ref - up * np.dot(ref, up)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(up, e1)
        horizontal = np.cos(azimuth) * e1 + np.sin(azimuth) * e2
        return np.cos(elevation) * horizontal + np.sin(elevation) * up

    # -- motion: every step takes an explicit dt -------------------------------------

    def move(self, forward: float, right: float, up: float, dt: float, fast: bool = False) -> None:
        """Translate along the view direction, the camera's right and world up.

        The inputs are -1, 0 or 1 (key states); the distance is ``speed * dt`` (5× when
        ``fast``). In orbit mode the focus moves with the camera.
        """
        step = self.speed * dt * (5.0 if fast else 1.0)
        up_dir = self.up / np.linalg.norm(self.up)
        self.position = self.position + step * (forward * self.forward + right * self.right + up * up_dir)

    def turn(self, yaw: float, pitch: float) -> None:
        """Yaw about world up and pitch about the camera's right axis, in radians.

        Fly mode turns the camera in place; orbit mode swings it round the focus. Pitch
        stops 1° short of straight up or down, so the view never flips over.
        """
        focus = self.focus
        up = self.up / np.linalg.norm(self.up)
        current = np.arcsin(np.clip(np.dot(self.forward, up), -1.0, 1.0))
        pitch = float(np.clip(current + pitch, -_MAX_PITCH, _MAX_PITCH) - current)
        q = quat.multiply(quat.from_axis_angle(up, yaw), quat.from_axis_angle(self.right, pitch))
        self.rotation = quat.normalize(quat.multiply(q, self.rotation))
        if self.mode == "orbit":
            self.position = focus - self.focus_distance * self.forward

    def zoom(self, steps: float) -> None:
        """Scroll: orbit mode moves towards the focus; fly mode changes speed.

        Each step scales by 1.2; orthographic views scale the visible height instead.
        """
        factor = 1.2 ** (-steps)
        if self.projection == "orthographic":
            self.ortho_height *= factor
        elif self.mode == "orbit":
            focus = self.focus
            self.focus_distance = max(self.focus_distance * factor, 1e-9 * self.scene_size)
            self.position = focus - self.focus_distance * self.forward
        else:
            self.speed = max(self.speed / factor, 1e-9 * self.scene_size)

    # -- keyframes -------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """Everything needed to restore this view, as JSON-compatible values."""
        return {
            "mode": self.mode,
            "projection": self.projection,
            "position": self.position.tolist(),
            "rotation": self.rotation.tolist(),
            "focus_distance": self.focus_distance,
            "fov_y": self.fov_y,
            "ortho_height": self.ortho_height,
            "speed": self.speed,
            "up": self.up.tolist(),
            "scene_lower": self.scene_lower.tolist(),
            "scene_upper": self.scene_upper.tolist(),
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restore a view from :meth:`get_state`; missing keys keep their current value.

        Raises
        ------
        ValueError
            For an unknown mode or projection, vectors of the wrong length, a zero rotation
            or up vector, or a scale that is not finite and positive (a field of view must
            also be under 180°). Nothing is changed then.
        """
        updates: dict[str, Any] = {}
        vectors = {"position": 3, "rotation": 4, "up": 3, "scene_lower": 3, "scene_upper": 3}
        for key, length in vectors.items():
            if key in state:
                value = np.asarray(state[key], dtype=np.float64)
                if value.shape != (length,) or not np.isfinite(value).all():
                    raise ValueError(f"camera {key} must be {length} finite numbers, got {state[key]!r}")
                if key in ("rotation", "up") and not np.linalg.norm(value) > 0:
                    raise ValueError(f"camera {key} must not be zero")
                updates[key] = quat.normalize(value) if key == "rotation" else value
        for key in SCALES:
            if key in state:
                scale = float(state[key])
                if not (np.isfinite(scale) and scale > 0 and (key != "fov_y" or scale < 180)):
                    raise ValueError(f"camera {key} must be a positive finite number, got {state[key]!r}")
                updates[key] = scale
        for key, allowed in (("mode", MODES), ("projection", PROJECTIONS)):
            if key in state:
                if state[key] not in allowed:
                    raise ValueError(f"camera {key} must be one of {', '.join(allowed)}, got {state[key]!r}")
                updates[key] = state[key]
        for key, value in updates.items():
            setattr(self, key, value)

    def to_json(self) -> str:
        return json.dumps(self.get_state(), indent=2)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Camera:
        cam = cls()
        cam.set_state(state)
        return cam
