"""Placing an overlay in the scene: rotation and unit conversion.

``--obj-rotate`` takes Euler angles ``RX,RY,RZ`` in degrees, applied about the fixed x,
then y, then z axes (so ``90,0,0`` stands a y-up model upright in a z-up scene), or an
axis and an angle as ``AX,AY,AZ@DEG``. ``--obj-units`` names the overlay's length unit;
it is converted to the scene's with the cosmology's h.
"""

from __future__ import annotations

import numpy as np

from delvol.errors import DelvolError

#: Length units and their size in Mpc/h, given h.
LENGTHS = {"kpc": lambda h: 1e-3 * h, "kpc/h": lambda h: 1e-3, "Mpc": lambda h: h, "Mpc/h": lambda h: 1.0}
NOTE_RANGE = (0.01, 100.0)
"""Overlay sizes, relative to the scene's, outside which delvol prints a note."""


def parse_rotation(text: str) -> np.ndarray:
    """The 3×3 rotation matrix that ``--obj-rotate`` describes.

    Raises
    ------
    ValueError
        Not three Euler angles nor an axis and an angle, or a zero axis.
    """
    axis_text, at, angle_text = text.partition("@")
    try:
        numbers = [float(v) for v in axis_text.split(",")]
        angle = float(angle_text) if at else None
    except ValueError:
        raise ValueError(f"expected RX,RY,RZ or AX,AY,AZ@DEG, got {text!r}") from None
    if len(numbers) != 3 or not np.isfinite(numbers).all() or (angle is not None and not np.isfinite(angle)):
        raise ValueError(f"expected RX,RY,RZ or AX,AY,AZ@DEG, got {text!r}")
    if angle is not None:
        axis = np.array(numbers)
        if not np.linalg.norm(axis) > 0:
            raise ValueError(f"the rotation axis must not be zero, got {text!r}")
        return _about(axis / np.linalg.norm(axis), np.radians(angle))
    rx, ry, rz = (_about(np.eye(3)[k], np.radians(a)) for k, a in enumerate(numbers))
    return rz @ ry @ rx


def _about(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation matrix about a unit axis."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def unit_factor(overlay_units: str, scene_units: str | None, h: float) -> float:
    """Scene units per overlay unit.

    Raises
    ------
    DelvolError
        The scene's units are not known lengths.
    """
    scene = next((name for name in LENGTHS if scene_units == name), None)
    if scene is None:
        raise DelvolError(f"--obj-units needs the scene's length unit, which is {scene_units or 'unknown'}")
    return LENGTHS[overlay_units](h) / LENGTHS[scene](h)


def size_note(name: str, overlay_size: float, scene_size: float) -> str | None:
    """A one-line note when an overlay is far smaller or larger than the scene, else None."""
    if not (overlay_size > 0 and scene_size > 0):
        return None
    ratio = overlay_size / scene_size
    if NOTE_RANGE[0] <= ratio <= NOTE_RANGE[1]:
        return None
    return f"note: overlay {name} is {ratio:.3g} times the size of the data; --obj-units or --obj-scale may be wanted"
