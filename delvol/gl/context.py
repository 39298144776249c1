"""OpenGL contexts and error checks."""

from __future__ import annotations

import re

import moderngl
import numpy as np

from delvol.errors import DelvolError
from delvol.resources import shader_source

GL_VERSION = 330
_INCLUDE = re.compile(r'^#include "([\w.]+)"\s*$', re.MULTILINE)


def create_offscreen_context() -> moderngl.Context:
    """A headless OpenGL 3.3 core context through EGL (no X server needed).

    Raises
    ------
    DelvolError
        When no EGL driver is available, with the packages that provide one.
    """
    try:
        return moderngl.create_standalone_context(require=GL_VERSION, backend="egl")
    except Exception as exc:  # moderngl/glcontext raise bare Exceptions for missing drivers
        raise DelvolError(
            f"no headless OpenGL {GL_VERSION // 100}.{GL_VERSION % 100 // 10} context through EGL ({exc}); "
            "install Mesa's EGL (apt-get install libegl1 libgl1 libegl-mesa0) or a GPU driver"
        ) from exc


def gl_bytes(matrix: np.ndarray) -> bytes:
    """A 4×4 matrix as float32 bytes in OpenGL's column-major order."""
    return np.ascontiguousarray(matrix.T, dtype=np.float32).tobytes()


def check_gl(ctx: moderngl.Context, where: str) -> None:
    """Raise if OpenGL has recorded an error; call it at stage boundaries in debug mode."""
    error = ctx.error
    if error != "GL_NO_ERROR":
        raise RuntimeError(f"OpenGL error {error} after {where}")


def _expand(source: str, defines: tuple[str, ...]) -> str:
    source = _INCLUDE.sub(lambda m: shader_source(m.group(1)), source)
    if not defines:
        return source
    version, _, rest = source.partition("\n")
    return "\n".join([version, *(f"#define {name}" for name in defines), rest])


def load_program(ctx: moderngl.Context, vertex: str, fragment: str, defines: tuple[str, ...] = ()) -> moderngl.Program:
    """Compile a program from files in the packaged ``shaders/`` folder.

    Lines ``#include "name.glsl"`` are replaced by that file, one level deep, and each
    name in ``defines`` becomes a ``#define`` after the ``#version`` line, to compile
    variants of one source.
    """
    return ctx.program(
        vertex_shader=_expand(shader_source(vertex), defines),
        fragment_shader=_expand(shader_source(fragment), defines),
    )
