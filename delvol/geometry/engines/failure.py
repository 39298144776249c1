"""One clear message for input that an engine could not tessellate."""

from __future__ import annotations

import numpy as np

from delvol.errors import DegenerateInputError


def check_count(points: np.ndarray) -> None:
    """Refuse fewer than 4 points before any engine sees them."""
    if len(points) < 4:
        raise DegenerateInputError(f"DTFE needs at least 4 points, got {len(points)}")


def explain_failure(points: np.ndarray, engine: str, exc: Exception | None) -> DegenerateInputError:
    """Say why ``engine`` failed: too few distinct points, no 3-D extent, or its own words."""
    distinct = len(np.unique(points, axis=0))
    if distinct < 4:
        return DegenerateInputError(f"only {distinct} distinct points; DTFE needs at least 4")
    centred = points - points.mean(axis=0)
    sv = np.linalg.svd(centred[:: max(1, len(points) // 100_000)], compute_uv=False)
    if sv[-1] <= 1e-9 * sv[0]:
        return DegenerateInputError("all points lie in a plane or on a line; DTFE needs 3-D extent")
    first = str(exc).strip().splitlines()[0] if exc is not None else "no tetrahedra"
    return DegenerateInputError(f"{engine} could not tessellate the points ({first})")
