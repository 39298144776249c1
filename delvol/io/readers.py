"""Format detection and dispatch: every supported file becomes a :class:`PointSet`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.io.pointset import PointSet
from delvol.io.sky import DEFAULT_COSMOLOGY


@dataclass
class LoadOptions:
    """How to read a file and which points to keep.

    Attributes
    ----------
    format : str, optional
        Force a reader instead of detecting the format.
    max_points : int, optional
        Keep a seeded random subsample of at most this many points.
    seed : int
        Seed of the subsample.
    box : (lower, upper), optional
        Keep only points inside this axis-aligned box.
    columns : dict, optional
        Column (or field) names by role, overriding the case-insensitive defaults. Roles:
        ``x``, ``y``, ``z``, ``ra``, ``dec``, ``redshift``, ``mass``, ``id``.
    ptypes : list of int, optional
        Particle types to read from snapshots (default: all).
    cosmology : str
        Astropy cosmology for converting sky catalogues to comoving coordinates.
    units : {"Mpc/h", "Mpc"}
        Length unit of comoving coordinates made from sky catalogues.
    """

    format: str | None = None
    max_points: int | None = None
    seed: int = 0
    box: tuple[np.ndarray, np.ndarray] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ptypes: list[int] | None = None
    cosmology: str = DEFAULT_COSMOLOGY
    units: str = "Mpc/h"


def read_npy(path: Path, options: LoadOptions) -> PointSet:
    """An (N, 3) array saved with ``np.save``."""
    arr = np.load(path, allow_pickle=False)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise DelvolError(f"expected an N×3 array, got shape {arr.shape}", path)
    return PointSet(arr, metadata={"source": str(path), "format": "npy"})


READERS = {"npy": read_npy}


def load_points(path: str | os.PathLike, options: LoadOptions | None = None) -> PointSet:
    """Read any supported point file.

    Raises
    ------
    DelvolError
        The file is missing, unreadable, or holds no usable points.
    """
    options = options or LoadOptions()
    p = Path(path)
    if not p.is_file():
        raise DelvolError("no such file" if not p.exists() else "not a regular file", p)
    fmt = options.format or "npy"
    points = READERS[fmt](p, options)
    if options.box is not None:
        lo, hi = options.box
        points = points.subset(np.all((points.positions >= lo) & (points.positions <= hi), axis=1))
    if options.max_points is not None and len(points) > options.max_points:
        rng = np.random.default_rng(options.seed)
        points = points.subset(np.sort(rng.choice(len(points), options.max_points, replace=False)))
    return points
