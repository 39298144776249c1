"""Where galaxy sprites fall on screen: which ones to draw, and which one a click hits.

A sprite is a square billboard of a fixed world size centred on its galaxy, so it grows as
the camera approaches. Everything here is NumPy on the CPU, using the same camera maths
as the shaders, so selection and picking are exact and testable without OpenGL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings

PICK_RADIUS = 8.0
"""Pixels round a click within which a galaxy whose sprite is smaller still counts as hit."""
GALAXY_FRACTION = 0.5
"""Of a sprite's half side: the disc where the galaxy itself lies. Cutouts frame a galaxy
with sky round it, which the sprites fade out, so a click there is a click past it."""


@dataclass
class Galaxies:
    """The galaxies that get sprites.

    Attributes
    ----------
    positions : ndarray, shape (N, 3)
        World positions.
    sizes : ndarray, shape (N,)
        Side of each sprite in world units; 0 (or not finite) for no sprite.
    objids : ndarray, shape (N,)
        Ids in the galaxy store.
    """

    positions: np.ndarray
    sizes: np.ndarray
    objids: np.ndarray

    def __post_init__(self) -> None:
        self.positions = np.asarray(self.positions, dtype=np.float64).reshape(-1, 3)
        sizes = np.broadcast_to(np.asarray(self.sizes, dtype=np.float64), (len(self.positions),))
        self.sizes = np.where(np.isfinite(sizes) & (sizes > 0), sizes, 0.0)
        if len(self.objids) != len(self.positions):
            raise ValueError(f"{len(self.objids)} ids for {len(self.positions)} galaxies")


@dataclass
class ScreenLayout:
    """The galaxies whose sprites reach into the frame, as seen by one camera.

    Attributes
    ----------
    indices : ndarray of int
        Into :class:`Galaxies`.
    centres : ndarray, shape (M, 2)
        Pixel coordinates, x right and y down.
    radii : ndarray, shape (M,)
        Half the sprite's side, in pixels.
    depths : ndarray, shape (M,)
        Distance in front of the camera along the view direction.
    """

    indices: np.ndarray
    centres: np.ndarray
    radii: np.ndarray
    depths: np.ndarray


def screen_layout(
    galaxies: Galaxies, camera: Camera, size: tuple[int, int], settings: RenderSettings | None = None
) -> ScreenLayout:
    """Project every galaxy with a sprite; keep those in front, kept by the cut, and in the frame."""
    width, height = size
    near, _ = camera.clip_planes()
    # The projection of Camera.project, in camera space: a sprite's size on screen needs
    # the depth anyway, and this is several times faster for 1e5 galaxies.
    x, y, depths = camera.view_coordinates(galaxies.positions)
    keep = (galaxies.sizes > 0) & (depths > near)
    if settings is not None:
        keep &= settings.cut_keeps(galaxies.positions)
    indices = np.flatnonzero(keep)
    scale = camera.pixels_per_unit(depths[indices], height)
    px, py = width / 2 + x[indices] * scale, height / 2 - y[indices] * scale
    radii = 0.5 * galaxies.sizes[indices] * scale
    inside = (px + radii >= 0) & (px - radii <= width) & (py + radii >= 0) & (py - radii <= height)
    return ScreenLayout(
        indices[inside], np.column_stack([px[inside], py[inside]]), radii[inside], depths[indices][inside]
    )


def largest(layout: ScreenLayout, count: int) -> np.ndarray:
    """Indices of the ``count`` galaxies with the largest sprites on screen, back to front.

    Equal sprite sizes make these the nearest galaxies. Back to front is the order that
    alpha blending needs without a depth buffer.
    """
    n = len(layout.indices)
    if count < n:
        top = np.argpartition(-layout.radii, count - 1)[:count]
    else:
        top = np.arange(n)
    order = top[np.lexsort((layout.indices[top], -layout.depths[top]))]
    return layout.indices[order]


def pick(layout: ScreenLayout, pixel: tuple[float, float], radius: float = PICK_RADIUS) -> int | None:
    """The galaxy a click at ``pixel`` hits, or None.

    A click on the galaxy in a sprite (within :data:`GALAXY_FRACTION` of its half side)
    picks the front-most such sprite, which is the one drawn on top. Otherwise the galaxy
    nearest to the click within ``radius`` pixels wins, the nearer in depth among equally
    near ones, so that distant, sub-pixel galaxies can still be picked.
    """
    distance = np.hypot(*(layout.centres - np.asarray(pixel, dtype=np.float64)).T)
    covering = np.flatnonzero(distance <= GALAXY_FRACTION * layout.radii)
    if covering.size:
        return int(layout.indices[covering[np.argmin(layout.depths[covering])]])
    near = np.flatnonzero(distance <= radius)
    if near.size:
        return int(layout.indices[near[np.lexsort((layout.depths[near], distance[near]))[0]]])
    return None
