"""A picture in the top-right corner of the frame (the picked galaxy, enlarged)."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.render.context import load_program

FRACTION = 0.45  # of the frame's shorter side
MARGIN_PX = 12
BORDER_PX = 2


class InsetVisual:
    """One RGBA image drawn at a fixed fraction of the frame, framed, in the top-right corner.

    Parameters
    ----------
    ctx : moderngl.Context
    """

    border_px = BORDER_PX

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.image_size = (0, 0)
        self.program = load_program(ctx, "inset.vert", "inset.frag")
        self._vao = ctx.vertex_array(self.program, [])
        self.texture: moderngl.Texture | None = None

    def set_image(self, rgba: np.ndarray | None) -> None:
        """Show ``rgba`` ((H, W, 4) uint8, first row at the top), or nothing for None."""
        if self.texture is not None:
            self.texture.release()
            self.texture = None
        if rgba is not None:
            height, width = rgba.shape[:2]
            self.image_size = (width, height)
            self.texture = self.ctx.texture((width, height), 4, np.ascontiguousarray(rgba, dtype=np.uint8).tobytes())
            self.texture.build_mipmaps()
            self.texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
            self.texture.repeat_x = self.texture.repeat_y = False

    def rect(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Pixel rectangle (x0, y0, x1, y1) of the inset in a frame of ``size``, y down."""
        width, height = size
        side = max(1, round(FRACTION * min(width, height)))
        x1 = width - MARGIN_PX
        return x1 - side, MARGIN_PX, x1, MARGIN_PX + side

    def draw(self, size: tuple[int, int], texture_unit: int) -> None:
        """Draw over the bound framebuffer of ``size`` pixels (nothing without an image)."""
        if self.texture is None:
            return
        width, height = size
        x0, y0, x1, y1 = self.rect(size)
        prog = self.program
        prog["u_rect"] = (2 * x0 / width - 1, 1 - 2 * y1 / height, 2 * x1 / width - 1, 1 - 2 * y0 / height)
        prog["u_size_px"] = (float(x1 - x0), float(y1 - y0))
        prog["u_border_px"] = float(self.border_px)
        prog["u_image"] = texture_unit
        self.texture.use(location=texture_unit)
        self._vao.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def release(self) -> None:
        self.set_image(None)
        self._vao.release()
        self.program.release()


class LegendVisual(InsetVisual):
    """An image at its own pixel size in the bottom-left corner, unframed (the field's colour bar)."""

    border_px = 0

    def rect(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        width, height = self.image_size
        return MARGIN_PX, size[1] - MARGIN_PX - height, MARGIN_PX + width, size[1] - MARGIN_PX
