"""What a caller can ask of a point loader."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from delvol.io.fields import MEAN_MOLECULAR_WEIGHT
from delvol.io.redshift_space import AXES
from delvol.io.sky import DEFAULT_COSMOLOGY, UNITS, get_cosmology
from delvol.io.where import parse_condition
from delvol.options import option


def column_roles(text: str) -> dict[str, str]:
    """Parse ``ROLE=NAME`` pairs separated by commas (``--columns``)."""
    from delvol.io.columns import ROLES

    roles: dict[str, str] = {}
    for pair in text.split(","):
        role, sep, name = (part.strip() for part in pair.partition("="))
        if not sep or not name:
            raise ValueError(f"expected ROLE=NAME, got {pair!r}")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if role in roles:
            raise ValueError(f"role {role!r} given twice")
        roles[role] = name
    return roles


def particle_types(text: str) -> list[int]:
    """Parse non-negative integers separated by commas (``--type``)."""
    try:
        types = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"expected particle types such as 1 or 0,4, got {text!r}") from None
    if min(types) < 0:
        raise ValueError(f"particle types are not negative, got {text!r}")
    return types


def cosmology_name(name: str) -> str:
    """Check a name against astropy's built-in cosmologies (``--cosmology``)."""
    get_cosmology(name)
    return name


def mean_molecular_weight(text: str) -> float:
    """Parse a positive mean molecular weight (``--mu``)."""
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"expected a positive mean molecular weight, got {text!r}")
    return value


def where_clause(text: str) -> str:
    """Check a ``--where`` clause such as ``redshift>0.01``; it is kept as written."""
    parse_condition(text)
    return text


def _formats() -> list[str]:
    from delvol.io.readers import FORMATS

    return list(FORMATS)


def _box(values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(values[:3], dtype=np.float64), np.array(values[3:], dtype=np.float64)


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
    fields : tuple of str
        Per-point fields to read by name into :attr:`PointSet.fields` (see
        :mod:`delvol.io.fields`): ``vel``, ``u``, ``temperature`` or any column or dataset.
    mean_molecular_weight : float
        Turns gas internal energy into ``temperature`` (default: fully ionised primordial
        gas, :data:`delvol.io.fields.MEAN_MOLECULAR_WEIGHT`).
    where : tuple of str
        Row filters (:mod:`delvol.io.where`), all of which a point must pass. Catalogues
        filter on their own columns before sky coordinates are converted; other files on
        ``x``, ``y``, ``z`` and, where present, ``mass`` and ``id``.
    redshift_space : {"x", "y", "z"}, optional
        Move snapshot particles along this axis by their velocities
        (:mod:`delvol.io.redshift_space`), before any cut.
    """

    format: str | None = option("force the file format instead of detecting it", None, choices=_formats)
    columns: dict[str, str] = option(
        "which column or field plays each role (x, y, z, ra, dec, redshift, mass, id), for example "
        "x=px,y=py,z=pz (default: matched by name; x, y, z when all three exist, else ra, dec and redshift)",
        default_factory=dict,
        parse=column_roles,
        metavar="ROLE=NAME[,...]",
    )
    ptypes: list[int] | None = option(
        "particle types to read from a snapshot, for example 1 or 0,4 (default: all)",
        None,
        flag="--type",
        parse=particle_types,
        metavar="N[,N...]",
    )
    cosmology: str | None = option(
        "astropy cosmology turning sky catalogues into comoving positions "
        f"(default: a galaxy store's own, else {DEFAULT_COSMOLOGY})",
        None,
        parse=cosmology_name,
    )
    units: str = option("length unit for sky catalogues", UNITS[0], choices=UNITS)
    max_points: int | None = option("keep a seeded random subsample of N points", None, metavar="N")
    seed: int = option("seed of the subsample", 0)
    box: tuple[np.ndarray, np.ndarray] | None = option(
        "keep only points inside this box",
        None,
        parse=float,
        nargs=6,
        metavar=("X0", "Y0", "Z0", "X1", "Y1", "Z1"),
        convert=_box,
    )
    dataset: str | None = None
    fields: tuple[str, ...] = ()
    mean_molecular_weight: float = option(
        "mean molecular weight turning gas internal energy into temperature "
        f"(default {MEAN_MOLECULAR_WEIGHT:.3f}, fully ionised primordial gas; 1.22 for neutral gas)",
        MEAN_MOLECULAR_WEIGHT,
        flag="--mu",
        parse=mean_molecular_weight,
        metavar="MU",
    )
    where: tuple[str, ...] = option(
        "keep only rows where the column compares so with the value: = != < <= > >= "
        "(repeatable, all must hold; for example class=GALAXY, redshift>0.01)",
        default_factory=tuple,
        action="append",
        parse=where_clause,
        convert=tuple,
        metavar="COL<OP>VALUE",
    )
    redshift_space: str | None = option(
        "move snapshot particles along x, y or z by their velocities / aH(z), wrapping the box",
        None,
        choices=AXES,
        metavar="AXIS",
    )

    def __post_init__(self) -> None:
        self.fields = (self.fields,) if isinstance(self.fields, str) else tuple(self.fields)
        self.where = (self.where,) if isinstance(self.where, str) else tuple(self.where)
        for clause in self.where:
            parse_condition(clause)
        if self.redshift_space is not None and self.redshift_space not in AXES:
            raise ValueError(f"redshift_space must be one of {', '.join(AXES)}, got {self.redshift_space!r}")
        if not (math.isfinite(self.mean_molecular_weight) and self.mean_molecular_weight > 0):
            raise ValueError(f"mean_molecular_weight must be a positive number, got {self.mean_molecular_weight:g}")
