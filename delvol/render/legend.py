"""The colour bar of ``--legend``: the field colormap, its window and the field's name.

Drawn on the CPU with Pillow into an RGBA image, so the same picture goes onto offscreen
images (composited by :func:`paste_legend`) and into the viewer (as a GL inset).
"""

from __future__ import annotations

import numpy as np

from delvol.render.colormaps import colormap

BAR_WIDTH_PX = 260
BAR_HEIGHT_PX = 14
PAD_PX = 8
FONT_PX = 14
MARGIN_PX = 12  # from the frame's bottom-left corner


def legend_scale(size: tuple[int, int]) -> float:
    """How much to enlarge the legend in a frame of ``size``: 1 at 1080 pixels high, at least 0.5."""
    return max(0.5, min(size) / 1080)


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only its small bitmap font
        return ImageFont.load_default()


def _number(value: float) -> str:
    return f"{value:.3g}"


def legend_image(
    name: str, window: tuple[float, float], label: str, log: bool = False, scale: float = 1.0
) -> np.ndarray:
    """A colour bar with the window's ends, its centre and a label, on a dark translucent box.

    Parameters
    ----------
    name : str
        The field colormap.
    window : (float, float)
        Field values at the ends (log10 of them when ``log``).
    label : str
        What the field is, with its units.
    log : bool
        Label the ends as powers of ten.
    scale : float
        Enlarge everything (supersampled frames).

    Returns
    -------
    ndarray, shape (H, W, 4), uint8
        First row at the top.
    """
    from PIL import Image, ImageDraw

    bar_w, bar_h, pad = round(BAR_WIDTH_PX * scale), round(BAR_HEIGHT_PX * scale), round(PAD_PX * scale)
    font = _font(max(8, round(FONT_PX * scale)))
    text_h = round(FONT_PX * scale * 1.3)
    title = f"log10 {label}" if log else label
    width = max(bar_w, round(font.getlength(title))) + 2 * pad
    height = bar_h + 2 * text_h + 2 * pad
    image = Image.new("RGBA", (width, height), (0, 0, 0, 170))
    draw = ImageDraw.Draw(image)
    draw.text((pad, pad), title, fill=(255, 255, 255, 255), font=font)
    table = (np.asarray(colormap(name)) * 255).round().astype(np.uint8)
    ramp = table[np.linspace(0, len(table) - 1, bar_w).round().astype(int)]
    bar = np.broadcast_to(ramp[None, :, :], (bar_h, bar_w, 3))
    image.paste(Image.fromarray(np.ascontiguousarray(bar), mode="RGB"), (pad, pad + text_h))
    lo, hi = window
    y = pad + text_h + bar_h + round(2 * scale)
    for value, anchor, x in ((lo, "la", pad), ((lo + hi) / 2, "ma", pad + bar_w // 2), (hi, "ra", pad + bar_w)):
        draw.text((x, y), _number(value), fill=(255, 255, 255, 255), font=font, anchor=anchor)
    return np.asarray(image)


def paste_legend(image: np.ndarray, legend: np.ndarray) -> np.ndarray:
    """Alpha-blend ``legend`` into the bottom-left corner of an RGB uint8 image (a copy)."""
    out = image.copy()
    h, w = legend.shape[:2]
    height, width = image.shape[:2]
    h, w = min(h, height - MARGIN_PX), min(w, width - MARGIN_PX)
    if h <= 0 or w <= 0:
        return out
    y0 = height - MARGIN_PX - h
    region = out[y0 : y0 + h, MARGIN_PX : MARGIN_PX + w].astype(np.float32)
    alpha = legend[:h, :w, 3:4].astype(np.float32) / 255
    blended = region * (1 - alpha) + legend[:h, :w, :3].astype(np.float32) * alpha
    out[y0 : y0 + h, MARGIN_PX : MARGIN_PX + w] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out
