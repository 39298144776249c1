"""Picking a galaxy in the viewer: which one is under a pixel, its catalogue row and its picture."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.io.galaxy_store.database import GalaxyStore
from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings
from delvol.scene.sprite_layout import Galaxies, pick, screen_layout
from delvol.scene.thumbnails import decode_thumbnail

INSET_SIDE = 512
"""Pixels of the enlarged picture's texture: an SDSS cutout is 424 pixels across."""


@dataclass
class Picked:
    """A picked galaxy: what to print and what to show."""

    objid: Hashable
    lines: list[str]
    image: np.ndarray | None


def format_value(value: Any) -> str:
    """A catalogue value as printed: floats to 10 significant digits, NULL as ``NULL``."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


class GalaxyPicker:
    """Finds the galaxy under a pixel and reads its row and image from the store.

    Parameters
    ----------
    store : GalaxyStore
        Open on the render thread, which is the only one that picks.
    units : str
        Of the galaxy positions, for the printed distance.
    """

    def __init__(self, store: GalaxyStore, units: str) -> None:
        self.store = store
        self.units = units

    def pick(
        self,
        galaxies: Galaxies,
        camera: Camera,
        size: tuple[int, int],
        pixel: tuple[float, float],
        settings: RenderSettings,
    ) -> Picked | None:
        """The galaxy that a click at ``pixel`` (x right, y down) hits, or None."""
        index = pick(screen_layout(galaxies, camera, size, settings), pixel)
        if index is None:
            return None
        objid = galaxies.objids[index].item()
        position = galaxies.positions[index]
        distance = float(np.linalg.norm(position - camera.position))
        x, y, z = position
        lines = [f"galaxy {objid} at ({x:.3f}, {y:.3f}, {z:.3f}) {self.units}, {distance:.3f} {self.units} away"]
        row = self.store.galaxy(objid)
        width = max(map(len, row))
        lines += [f"  {name:<{width}}  {format_value(value)}" for name, value in row.items()]
        try:
            image = decode_thumbnail(self.store.image_bytes(objid), INSET_SIDE)
        except DelvolError as exc:
            image = None
            lines.append(f"  (no picture: {exc.problem})")
        return Picked(objid, lines, image)
