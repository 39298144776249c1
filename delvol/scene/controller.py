"""Map input (held keys, mouse drags, scrolls) to camera motion.

The controller knows nothing about windows: the viewer feeds it logical actions, and a
script or a test can drive it the same way, with its own time steps.
"""

from __future__ import annotations

import numpy as np

from delvol.scene.camera import Camera

# Held actions and the (forward, right, up) direction each one moves.
MOTIONS = {
    "forward": (1, 0, 0),
    "back": (-1, 0, 0),
    "left": (0, -1, 0),
    "right": (0, 1, 0),
    "down": (0, 0, -1),
    "up": (0, 0, 1),
}
ORBIT_RADIANS_PER_PIXEL = 0.006


class CameraController:
    """Turns key states and mouse motion into :class:`Camera` moves with explicit dt.

    Parameters
    ----------
    camera : Camera
    """

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.held: set[str] = set()
        self.fast = False

    def press(self, action: str) -> None:
        """Start a held motion (one of :data:`MOTIONS`)."""
        if action not in MOTIONS:
            raise ValueError(f"unknown motion {action!r}")
        self.held.add(action)

    def release(self, action: str) -> None:
        self.held.discard(action)

    @property
    def moving(self) -> bool:
        """Whether a held key will move the camera on the next update."""
        return bool(self.held)

    def update(self, dt: float) -> bool:
        """Apply the held motions for ``dt`` seconds; return whether the camera moved."""
        if not self.held or dt <= 0:
            return False
        direction = np.sum([MOTIONS[a] for a in self.held], axis=0)
        if not direction.any():
            return False
        forward, right, up = direction
        self.camera.move(forward, right, up, dt, fast=self.fast)
        return True

    def drag(self, dx: float, dy: float, viewport_height: int) -> None:
        """Turn by a mouse drag of (dx, dy) pixels (y down).

        Fly mode looks around with the cursor's angular size, so a point under the
        cursor stays under it; orbit mode swings round the focus at a fixed rate.
        """
        if self.camera.mode == "fly":
            per_pixel = np.radians(self.camera.fov_y) / max(viewport_height, 1)
        else:
            per_pixel = ORBIT_RADIANS_PER_PIXEL
        self.camera.turn(-dx * per_pixel, -dy * per_pixel)

    def scroll(self, steps: float) -> None:
        """Zoom (orbit, orthographic) or change the fly speed."""
        self.camera.zoom(steps)

    def toggle_mode(self) -> str:
        """Switch between fly and orbit; return the new mode."""
        self.camera.mode = "orbit" if self.camera.mode == "fly" else "fly"
        return self.camera.mode
