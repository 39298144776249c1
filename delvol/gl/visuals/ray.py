"""The viewing ray of a projection matrix, for shaders that work along it (tetra, iso)."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.gl.context import gl_bytes


def eye_or_direction(view_proj: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The eye of a perspective matrix, or the view direction of an orthographic one.

    Read back from the matrix itself (in whatever frame it takes positions from), so that
    tiles and any camera work unchanged: the eye is the point that clip x, y and w all
    send to 0; the orthographic direction is the one that moves no pixel and adds depth.

    Returns
    -------
    (eye, None) or (None, direction)
    """
    if np.all(view_proj[3, :3] == 0):
        _, _, vt = np.linalg.svd(view_proj[:2, :3])
        return None, (vt[2] if view_proj[2, :3] @ vt[2] > 0 else -vt[2])
    return np.linalg.solve(view_proj[[0, 1, 3], :3], -view_proj[[0, 1, 3], 3]), None


def set_ray_uniforms(program: moderngl.Program, view_proj: np.ndarray) -> None:
    """Set ``u_view_proj``, ``u_ortho``, ``u_eye`` and ``u_forward`` from the matrix."""
    program["u_view_proj"].write(gl_bytes(view_proj))
    eye, direction = eye_or_direction(view_proj)
    program["u_ortho"] = eye is None
    program["u_eye"] = tuple(float(v) for v in (np.zeros(3) if eye is None else eye))
    forward = (0.0, 0.0, 1.0) if direction is None else direction
    program["u_forward"] = tuple(float(v) for v in forward)
