"""What a caller can ask of a tessellation: periodicity and the cache."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from delvol.errors import DelvolError
from delvol.geometry.engines import ENGINE_CHOICES
from delvol.geometry.periodic import DEFAULT_PADDING, MIN_PADDING
from delvol.options import option


def box_side(text: str) -> float:
    """Parse a periodic box side (``--periodic L``): a positive, finite number."""
    try:
        side = float(text)
    except ValueError:
        raise ValueError(f"expected a box side such as 500, got {text!r}") from None
    if not (math.isfinite(side) and side > 0):
        raise ValueError(f"the box side must be positive and finite, got {text!r}")
    return side


@dataclass
class TessellationOptions:
    """How to tessellate a point set.

    Attributes
    ----------
    periodic : float or bool, optional
        The side of a periodic box; True means the box size the file states
        (``metadata["box_size"]``); None or False: not periodic.
    padding : float
        Periodic padding in mean interparticle spacings.
    engine : {"auto", "scipy", "shull", "gmsh"}
        The Delaunay engine (:mod:`delvol.geometry.engines`); ``auto`` is the fastest
        one installed. Every engine gives the same result.
    cache : bool
        Read and write the tessellation cache (:mod:`delvol.geometry.cache`).
    """

    periodic: float | bool | None = option(
        "periodic box of side L (without L: the box size stated in the file)",
        None,
        nargs="?",
        const=True,
        parse=box_side,
        metavar="L",
    )
    padding: float = option(
        f"periodic padding in mean interparticle spacings, at least {MIN_PADDING:g}", DEFAULT_PADDING
    )
    engine: str = option(
        "Delaunay engine: scipy (Qhull), shull or gmsh (optional, GPL: pip install 'delvol[fast]'); "
        "auto is the fastest installed",
        "auto",
        choices=ENGINE_CHOICES,
    )
    cache: bool = option("neither read nor write the tessellation cache", True, flag="--no-cache", action="store_false")

    def box_size(self, metadata: Mapping[str, Any], path: Any = None) -> float | None:
        """The periodic box side, resolving ``periodic=True`` from the file's ``metadata``.

        Raises
        ------
        DelvolError
            ``periodic=True`` for a file that states no box size.
        """
        if self.periodic is None or self.periodic is False:
            return None
        if self.periodic is True:
            size = metadata.get("box_size")
            if size is None:
                raise DelvolError("--periodic needs a box size: the file does not state one", path)
            return float(size)
        return float(self.periodic)
