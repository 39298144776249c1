"""What a caller can ask of a tessellation: periodicity, engine, cache, Dask blocks and a survey's boundary."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from delvol.errors import DelvolError
from delvol.geometry.engines import ENGINE_CHOICES
from delvol.geometry.periodic import DEFAULT_PADDING, MIN_PADDING
from delvol.geometry.survey import TREATMENTS, Survey, boundary_buffer
from delvol.io import PointSet
from delvol.io.mask import read_mask
from delvol.io.sky import comoving_distance
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


def _count(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected a number of {what}, got {text!r}") from None
    if value < 1:
        raise ValueError(f"the number of {what} must be at least 1, got {value}")
    return value


def block_count(text: str) -> int | str:
    """Parse ``--blocks``: a positive integer or ``auto``."""
    return text if text == "auto" else _count(text, "blocks")


def worker_count(text: str) -> int:
    """Parse ``--workers``: a positive integer."""
    return _count(text, "workers")


BLOCKS_GROUP = 'blocks on Dask (pip install "delvol[dask]")'


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
    blocks : int or "auto", optional
        Build in this many blocks with certified ghost shells on Dask
        (:mod:`delvol.blocks`); the result equals a single run. None: one process.
    workers : int, optional
        Worker processes of the local Dask cluster (default: one per core).
    scheduler : str, optional
        The address of a running Dask cluster to use instead of a local one.
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
    blocks: int | str | None = option(
        "split the points into N blocks with certified ghost shells, built by Dask workers; the result "
        "equals a single run (auto: from the point count and the workers' memory)",
        None,
        parse=block_count,
        metavar="N|auto",
        group=BLOCKS_GROUP,
    )
    workers: int | None = option(
        "worker processes of the local Dask cluster, one thread each (default: one per core)",
        None,
        parse=worker_count,
        metavar="N",
        group=BLOCKS_GROUP,
    )
    scheduler: str | None = option(
        "use the running Dask cluster at ADDRESS, for example tcp://host:8786 (the job folder "
        "must then be on a filesystem every worker sees: set DELVOL_WORK_DIR)",
        None,
        metavar="ADDRESS",
        group=BLOCKS_GROUP,
    )

    def __post_init__(self) -> None:
        # workers and scheduler without blocks are refused by the Scene: a block folder takes them.
        if self.workers is not None and self.scheduler is not None:
            raise ValueError("workers start a local cluster; they cannot be combined with a scheduler")

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


@dataclass
class SurveyOptions:
    """The survey volume of a sky catalogue, and how its edges are closed.

    With a :attr:`mask`, galaxies outside the footprint and redshift range are dropped and
    buffer points close the cells at the survey's edges (:mod:`delvol.geometry.survey`).

    Attributes
    ----------
    mask : path, optional
        Angular footprint: a HEALPix FITS map (any nside, RING or NESTED) or an RA/Dec
        cell list (:func:`delvol.io.mask.read_mask`).
    zmin, zmax : float, optional
        Redshift limits (default: the data's lowest and highest).
    buffer : {"reflect", "random"}
        The edge galaxies reflected across the boundaries, or random points at the mean
        density.
    """

    mask: str | os.PathLike | None = option(
        "angular footprint: a HEALPix FITS map (any nside, RING or NESTED) or an RA/Dec cell list; "
        "galaxies outside it are dropped and buffer points close the survey's edges",
        None,
        metavar="FILE",
    )
    zmin: float | None = option("lower redshift limit (default: the data's lowest)", None)
    zmax: float | None = option("upper redshift limit (default: the data's highest)", None)
    buffer: str = option(
        "buffer points with --mask: the edge galaxies reflected across the boundaries, "
        "or random points at the mean density",
        TREATMENTS[0],
        choices=TREATMENTS,
    )

    def __post_init__(self) -> None:
        if self.buffer not in TREATMENTS:
            raise ValueError(f"buffer must be one of {', '.join(TREATMENTS)}, got {self.buffer!r}")
        limits = {name: z for name, z in (("zmin", self.zmin), ("zmax", self.zmax)) if z is not None}
        for name, z in limits.items():
            if not (math.isfinite(z) and z > -1):
                raise ValueError(f"{name} must be a redshift above -1, got {z:g}")
            if self.mask is None:
                raise ValueError(f"{name} needs a mask (the survey's footprint)")
        if self.zmin is not None and self.zmax is not None and self.zmin >= self.zmax:
            raise ValueError("zmin must be below zmax")

    def volume(self, points: PointSet, path: Any = None) -> Survey | None:
        """The survey volume described, for ``points`` read from a sky catalogue; None without a mask.

        Raises
        ------
        DelvolError
            Points that are not a sky catalogue, or an unreadable mask.
        """
        if self.mask is None:
            return None
        if points.metadata.get("frame") != "equatorial comoving":
            raise DelvolError("--mask applies to sky catalogues (RA, Dec, redshift)", path)
        footprint = read_mask(self.mask)
        r = np.linalg.norm(points.positions, axis=1)
        cosmology, units = points.metadata["cosmology"], points.metadata["units"]

        def distance(z: float | None, data: float) -> float:
            return data if z is None else float(comoving_distance(np.array([z]), cosmology, units)[0])

        r_min, r_max = distance(self.zmin, float(r.min())), distance(self.zmax, float(r.max()))
        if r_min >= r_max:
            raise DelvolError("--zmin must be below --zmax (the data's range)", path)
        return Survey(footprint, max(r_min, 0.0), r_max)

    def select(self, points: PointSet, seed: int = 0, path: Any = None) -> tuple[PointSet, np.ndarray]:
        """The galaxies inside the survey volume and the buffer points round them.

        Without a mask: ``points`` and no buffer points. Otherwise the kept points'
        ``metadata["boundary"]`` says how the boundary was treated.

        Raises
        ------
        DelvolError
            See :meth:`volume`; or fewer than 4 galaxies inside.
        """
        survey = self.volume(points, path)
        if survey is None:
            return points, np.empty((0, 3))
        inside = survey.contains(points.positions)
        kept = int(np.count_nonzero(inside))
        if kept < 4:
            raise DelvolError("fewer than 4 galaxies lie inside the mask and redshift range", path)
        points = points.subset(inside)
        buffer = boundary_buffer(points.positions, survey, self.buffer, seed=seed)
        points.metadata["boundary"] = (
            f"survey mask {survey.footprint.describe()}; distances {survey.r_min:.4g}..{survey.r_max:.4g}; "
            f"{len(inside) - kept:,} galaxies outside dropped; {buffer.describe()}"
        )
        return points, buffer.points
