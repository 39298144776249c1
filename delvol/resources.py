"""Locate the GLSL shaders and data assets shipped inside the package.

The top-level ``shaders/`` and ``assets/`` folders are mapped onto the ``delvol.shaders``
and ``delvol.assets`` packages by the build configuration, so one lookup through
:mod:`importlib.resources` works from a source checkout, an editable install and a wheel.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable


def shader_source(name: str) -> str:
    """Return the text of the shader file ``name`` (for example ``"volume.vert"``)."""
    return files("delvol.shaders").joinpath(name).read_text(encoding="utf-8")


def asset(name: str) -> Traversable:
    """Return a handle on the packaged asset ``name``; open it with ``.open("rb")``."""
    return files("delvol.assets").joinpath(name)
