"""The in-memory point set that every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class PointSet:
    """Positions with optional masses and ids, plus what is known about them.

    Parameters
    ----------
    positions : ndarray, shape (N, 3)
        Cartesian coordinates, float64.
    masses : ndarray, shape (N,), optional
        Particle masses; ``None`` means unit masses.
    ids : ndarray, shape (N,), optional
        Particle or galaxy identifiers.
    metadata : dict
        Free-form facts about the source. Keys used across delvol: ``source`` (path),
        ``format``, ``units`` (for example ``"Mpc/h"``), ``box_size`` (periodic side length,
        when the file states one), ``cosmology``, ``redshift``, ``n_total`` (rows before
        any cut or subsample), ``field_units`` (by field name).
    fields : dict of str to ndarray
        Per-point quantities by name, float64, shape (N,) for scalars or (N, K) for
        vectors (velocities are (N, 3)); see :mod:`delvol.io.fields`. Their units are in
        ``metadata["field_units"]`` where the reader knows them.
    """

    positions: np.ndarray
    masses: np.ndarray | None = None
    ids: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = np.ascontiguousarray(self.positions, dtype=np.float64)
        if self.positions.ndim != 2 or self.positions.shape[1] != 3:
            raise ValueError(f"positions must have shape (N, 3), got {self.positions.shape}")
        n = len(self.positions)
        if self.masses is not None:
            self.masses = np.ascontiguousarray(self.masses, dtype=np.float64).reshape(-1)
            if len(self.masses) != n:
                raise ValueError(f"{len(self.masses)} masses for {n} positions")
        if self.ids is not None and len(self.ids) != n:
            raise ValueError(f"{len(self.ids)} ids for {n} positions")
        for name, values in self.fields.items():
            values = np.ascontiguousarray(values, dtype=np.float64)
            if values.ndim not in (1, 2) or len(values) != n:
                raise ValueError(f"field {name!r} has shape {values.shape}, expected ({n},) or ({n}, K)")
            self.fields[name] = values

    def __len__(self) -> int:
        return len(self.positions)

    def subset(self, index: np.ndarray) -> PointSet:
        """Return the points selected by a boolean mask or an index array."""
        return PointSet(
            self.positions[index],
            None if self.masses is None else self.masses[index],
            None if self.ids is None else self.ids[index],
            dict(self.metadata),
            {name: values[index] for name, values in self.fields.items()},
        )

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The axis-aligned bounding box as ``(lower, upper)`` corners."""
        return self.positions.min(axis=0), self.positions.max(axis=0)
