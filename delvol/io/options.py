"""What a caller can ask of a point loader."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LoadOptions:
    """How to read a file and which points to keep.

    Attributes
    ----------
    format : str, optional
        Force a reader instead of detecting the format (a key of
        :data:`delvol.io.readers.FORMATS`).
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
    cosmology : str, optional
        Astropy cosmology for converting sky catalogues to comoving coordinates. None means
        the file's own (the one a galaxy store was ingested with), else
        :data:`~delvol.io.sky.DEFAULT_COSMOLOGY`. The one used is the point set's
        ``metadata["cosmology"]``.
    units : {"Mpc/h", "Mpc"}
        Length unit of comoving coordinates made from sky catalogues.
    dataset : str, optional
        The HDF5 dataset or ``.npz`` key holding the points; :func:`~delvol.io.load_points`
        also takes it from a ``FILE:DATASET`` path.
    where : tuple of str
        Row filters (:mod:`delvol.io.where`), all of which a point must pass. Catalogues
        filter on their own columns before sky coordinates are converted; other files on
        ``x``, ``y``, ``z`` and, where present, ``mass`` and ``id``.
    redshift_space : {"x", "y", "z"}, optional
        Move snapshot particles along this axis by their velocities
        (:mod:`delvol.io.redshift_space`), before any cut.
    """

    format: str | None = None
    max_points: int | None = None
    seed: int = 0
    box: tuple[np.ndarray, np.ndarray] | None = None
    columns: dict[str, str] = field(default_factory=dict)
    ptypes: list[int] | None = None
    cosmology: str | None = None
    units: str = "Mpc/h"
    dataset: str | None = None
    where: tuple[str, ...] = ()
    redshift_space: str | None = None
