"""Periodic boundary conditions by replicating a padding shell of image points.

A simulation box has no edge, but a Delaunay tessellation of it does: hull points get
truncated Voronoi cells and biased densities. Replicating the points near each face of
the box onto the opposite side gives every original point its complete neighbourhood.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from delvol.errors import DegenerateInputError

SHIFTS = np.array([s for s in product((-1, 0, 1), repeat=3) if s != (0, 0, 0)], dtype=np.float64)
"""The 26 image shifts, in box sides; image code ``c`` (1..26) is the shift ``SHIFTS[c - 1]``."""
MIN_PADDING = 3.4
"""Padding below this many mean spacings leaves edge tetrahedra with wrong neighbours."""
DEFAULT_PADDING = 5.0
"""Mean spacings of padding when none is asked for: a margin over :data:`MIN_PADDING`."""


@dataclass(eq=False)
class PeriodicImages:
    """Original points followed by their image points in the padding shell.

    Attributes
    ----------
    points : ndarray, shape (M, 3)
        The first ``n_primary`` rows are the wrapped input points.
    origin : ndarray, shape (M,), int64
        Index of the input point that each row is an image of.
    shift : ndarray, shape (M,), int8
        0 for the input points, else 1 + index into the 26 image shifts.
    lower : ndarray, shape (3,)
        Lower corner of the box.
    box_size : float
        Side of the box.
    """

    points: np.ndarray
    origin: np.ndarray
    shift: np.ndarray
    n_primary: int
    lower: np.ndarray
    box_size: float


def box_lower_corner(points: np.ndarray, box_size: float) -> np.ndarray:
    """Guess the box's lower corner: 0 (the usual [0, L) box) or -L/2 (a box centred on 0).

    Raises
    ------
    DegenerateInputError
        If the points fit neither convention.
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    tol = 1e-4 * box_size
    for corner in (0.0, -0.5 * box_size):
        if np.all(lo >= corner - tol) and np.all(hi <= corner + box_size + tol):
            return np.full(3, corner)
    raise DegenerateInputError(
        f"points span [{lo.min():g}, {hi.max():g}], which fits neither a [0, {box_size:g}) "
        f"nor a [{-box_size / 2:g}, {box_size / 2:g}) periodic box"
    )


def wrap_into_box(points: np.ndarray, lower: np.ndarray, box_size: float) -> np.ndarray:
    """Points moved by whole box sides into ``[lower, lower + L)``."""
    wrapped = lower + np.mod(points - lower, box_size)
    # np.mod can round a value just below the lower corner up to exactly L.
    return np.where(wrapped >= lower + box_size, lower, wrapped)


def padding_width(n_points: int, box_size: float, padding: float) -> float:
    """The padding shell's thickness: ``padding`` mean spacings, at most one box side."""
    return min(padding * box_size / n_points ** (1 / 3), box_size)


def in_padding(rel: np.ndarray, shift: np.ndarray, box_size: float, width: float) -> np.ndarray:
    """Whether the images ``rel + shift * L`` (box-relative) fall in a shell ``width`` thick."""
    moved = rel + shift * box_size
    return np.all((moved >= -width) & (moved < box_size + width), axis=-1)


def pad_periodic(points: np.ndarray, box_size: float, padding: float = 5.0) -> PeriodicImages:
    """Wrap points into the box and add the images that fall within the padding shell.

    Parameters
    ----------
    points : ndarray, shape (N, 3)
    box_size : float
        Side length L of the periodic cube.
    padding : float
        Shell thickness in mean interparticle spacings ``L / N**(1/3)``; at least 3.4.
        The shell is capped at one box length, so very sparse boxes (N < 125 at the
        default) get a single layer of images.
    """
    if padding < MIN_PADDING:
        raise DegenerateInputError(f"periodic padding must be at least {MIN_PADDING} mean spacings, got {padding:g}")
    if not box_size > 0:
        raise DegenerateInputError(f"periodic box size must be positive, got {box_size:g}")
    lower = box_lower_corner(points, box_size)
    wrapped = wrap_into_box(points, lower, box_size)
    n = len(wrapped)
    width = padding_width(n, box_size, padding)
    rel = wrapped - lower
    parts, origins, shifts = [wrapped], [np.arange(n)], [np.zeros(n, dtype=np.int8)]
    for code, s in enumerate(SHIFTS, start=1):
        idx = np.flatnonzero(in_padding(rel, s, box_size, width))
        parts.append(wrapped[idx] + s * box_size)
        origins.append(idx)
        shifts.append(np.full(len(idx), code, dtype=np.int8))
    return PeriodicImages(np.concatenate(parts), np.concatenate(origins), np.concatenate(shifts), n, lower, box_size)


def owned_tetrahedra(tetrahedra: np.ndarray, images: PeriodicImages) -> np.ndarray:
    """Mask choosing one copy of every tetrahedron of the periodic tessellation.

    Translated copies of a tetrahedron differ only in their image shifts. Keeping the copy
    whose vertex with the smallest original index is an unshifted point keeps exactly one
    copy of each, so the kept set tiles one period of space and the DTFE mass identity
    holds over it.
    """
    origin = images.origin[tetrahedra]
    owner = np.argmin(origin, axis=1)
    return images.shift[tetrahedra[np.arange(len(tetrahedra)), owner]] == 0
