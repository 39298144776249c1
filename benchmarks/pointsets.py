"""Reproducible point sets for the benchmarks: Poisson, clustered, lattice, duplicates."""

from __future__ import annotations

import math

import numpy as np

SEED = 20240601
"""Every generator draws from this seed (offset by a per-kind constant), so runs compare."""


def poisson(n: int, seed: int = SEED) -> np.ndarray:
    """``n`` uniform random points in the unit cube, shape (n, 3), float64."""
    return np.random.default_rng(seed).random((n, 3))


def soneira_peebles(n: int, seed: int = SEED + 1, eta: int = 4, lam: float = 1.9) -> np.ndarray:
    """A Soneira–Peebles hierarchical clustering of ``n`` points, scaled into the unit cube.

    Each sphere holds ``eta`` spheres ``lam`` times smaller at random positions inside it,
    down to as many levels as it takes to reach ``n`` centres, of which ``n`` are kept at
    random. With the classic ``eta=4, lam=1.9`` the fractal dimension is
    log 4 / log 1.9 = 2.16, close to the galaxy correlation function's, so densities span
    several decades, as in real surveys and snapshots.

    Returns
    -------
    ndarray, shape (n, 3), float64
    """
    rng = np.random.default_rng(seed)
    levels = max(1, math.ceil(math.log(n) / math.log(eta)))
    centres = np.full((1, 3), 0.5)
    radius = 0.5
    for _ in range(levels):
        centres = np.repeat(centres, eta, axis=0) + radius * _in_unit_ball(rng, len(centres) * eta)
        radius /= lam
    kept = centres[rng.choice(len(centres), size=n, replace=False)]
    lower = kept.min(axis=0)
    return (kept - lower) / (kept.max(axis=0) - lower).max()


def _in_unit_ball(rng: np.random.Generator, n: int) -> np.ndarray:
    direction = rng.standard_normal((n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return direction * rng.random((n, 1)) ** (1 / 3)


def cubic_lattice(side: int) -> np.ndarray:
    """The ``side**3`` points of an exact unit-spacing cubic lattice, shape (side**3, 3)."""
    axis = np.arange(side, dtype=np.float64)
    return np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)


def with_duplicates(points: np.ndarray, rows: list[int]) -> np.ndarray:
    """``points`` followed by exact copies of ``rows`` (which may repeat)."""
    return np.vstack([points, points[rows]])


GENERATORS = {"poisson": poisson, "clustered": soneira_peebles}
"""The benchmark data sets by name; ``clustered`` is Soneira–Peebles."""
