"""Uniforms of the clip box and cut plane shared by the volume and points shaders (shaders/cut.glsl)."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.scene.settings import CUT_MODES, RenderSettings

NO_CLIP: tuple[np.ndarray, np.ndarray] = (np.full(3, -1e30), np.full(3, 1e30))


def set_cut_uniforms(
    program: moderngl.Program, settings: RenderSettings, clip: tuple[np.ndarray, np.ndarray] = NO_CLIP
) -> None:
    """Set the cut-plane uniforms from the settings, and the clip box (world corners)."""
    program["u_clip_lo"] = tuple(float(v) for v in clip[0])
    program["u_clip_hi"] = tuple(float(v) for v in clip[1])
    normal = np.asarray(settings.cut_normal, dtype=np.float64)
    normal = normal / np.linalg.norm(normal)
    offset, width = settings.placed_cut()
    program["u_cut"] = (*normal.tolist(), float(offset))
    program["u_cut_mode"] = CUT_MODES.index(settings.cut_mode)
    program["u_cut_half_width"] = 0.5 * float(width)
