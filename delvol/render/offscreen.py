"""Headless rendering to images of any size: tiles, supersampling and PNG export."""

from __future__ import annotations

import os

import numpy as np

from delvol.atomic import atomic_path
from delvol.render.camera import Camera
from delvol.render.legend import legend_scale, paste_legend
from delvol.render.passes import FloatTarget
from delvol.render.renderer import Renderer

PREVIEW_SIZE = 1024  # longest side of the render that sets the automatic density window


def tile_matrix(x0: int, y0: int, x1: int, y1: int, width: int, height: int) -> np.ndarray:
    """Clip-space matrix that enlarges the pixel rectangle [x0, x1) × [y0, y1) to the viewport.

    Rows count from the top of the image. Multiplying a projection by it renders one tile
    of a larger image with exactly the pixels the large render would have.
    """
    nx0, nx1 = 2 * x0 / width - 1, 2 * x1 / width - 1
    ny0, ny1 = 1 - 2 * y1 / height, 1 - 2 * y0 / height
    m = np.eye(4)
    m[0, 0], m[0, 3] = 2 / (nx1 - nx0), -(nx1 + nx0) / (nx1 - nx0)
    m[1, 1], m[1, 3] = 2 / (ny1 - ny0), -(ny1 + ny0) / (ny1 - ny0)
    return m


def render_image(
    renderer: Renderer, camera: Camera, size: tuple[int, int], supersample: int = 1, max_tile: int = 4096
) -> np.ndarray:
    """Render a frame as an (height, width, 3) uint8 array, first row at the top.

    Parameters
    ----------
    renderer : Renderer
    camera : Camera
    size : (int, int)
        Output width and height in pixels.
    supersample : int
        Render at this many times the size and average down (anti-aliasing).
    max_tile : int
        Largest tile side; bigger images are rendered tile by tile with the same
        density window, so any size up to memory fits under the GL limits.

    With ``renderer.settings.legend`` and a field, the field's colour bar goes into the
    bottom-left corner, scaled with the image (:func:`~delvol.render.legend.legend_scale`).
    """
    width, height = size[0] * supersample, size[1] * supersample
    limit = min(max_tile, renderer.ctx.info["GL_MAX_TEXTURE_SIZE"], *renderer.ctx.info["GL_MAX_VIEWPORT_DIMS"])
    view_proj = camera.view_projection(width / height)
    if renderer.needs_auto_window:
        _set_window_from_preview(renderer, view_proj, width, height)
    renderer.update_sprites(camera, (width, height))
    out = np.empty((height, width, 3), dtype=np.float32)
    for y0 in range(0, height, limit):
        for x0 in range(0, width, limit):
            x1, y1 = min(x0 + limit, width), min(y0 + limit, height)
            target = FloatTarget(renderer.ctx, (x1 - x0, y1 - y0))
            try:
                renderer.render(target.fbo, tile_matrix(x0, y0, x1, y1, width, height) @ view_proj, supersample)
                out[y0:y1, x0:x1] = target.read(channels=3)
            finally:
                target.release()
    if supersample > 1:
        out = out.reshape(size[1], supersample, size[0], supersample, 3).mean(axis=(1, 3))
    image = to_uint8(out)
    legend = renderer.legend(legend_scale(size))
    return image if legend is None else paste_legend(image, legend)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Colours in [0, 1] as rounded 8-bit values."""
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def _set_window_from_preview(renderer: Renderer, view_proj: np.ndarray, width: int, height: int) -> None:
    scale = min(1.0, PREVIEW_SIZE / max(width, height))
    renderer.resize((max(1, round(width * scale)), max(1, round(height * scale))))
    renderer.clear()
    renderer.accumulate(view_proj)
    renderer.update_auto_window()


def save_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """Write an RGB uint8 image to PNG atomically (no half-written file on interruption)."""
    from PIL import Image

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(image, mode="RGB").save(tmp, format="PNG")
