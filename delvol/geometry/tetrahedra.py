"""The linear DTFE field of each tetrahedron, its circumsphere, and the visibility order.

Inside tetrahedron t the DTFE density is linear: the barycentric blend of its four vertex
densities. Writing each barycentric coordinate about the tetrahedron's own centroid,
``lambda_k(x) = a_k . (x - c_t) + 1/4``, keeps every number on the scale of the
tetrahedron, whatever its distance from the data origin, which is what the exact line
integral and the isosurfaces need in float32.

Delaunay tetrahedra have an exact visibility order (Edelsbrunner 1990): sorted by the power
distance of the eye to their circumspheres, ``|o - c|^2 - r^2``, every tetrahedron comes
after all the tetrahedra that hide part of it. For an orthographic view the order is the
limit, the circumcentre's depth along the view direction. Pure NumPy, no GL.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

_CHUNK = 1 << 19  # tetrahedra per block: bounds the (chunk, 3, 3) float64 temporaries


class LinearField(NamedTuple):
    """Per-tetrahedron barycentric planes about the centroid, and the vertex values.

    Attributes
    ----------
    centroid : ndarray, shape (T, 3)
    planes : ndarray, shape (T, 4, 3)
        ``a_k``: the gradient of barycentric coordinate k; ``lambda_k(x) = a_k . (x - c) + 1/4``.
    values : ndarray, shape (T, 4)
        The field at the four vertices.
    """

    centroid: np.ndarray
    planes: np.ndarray
    values: np.ndarray

    @property
    def gradient(self) -> np.ndarray:
        """The field's gradient in each tetrahedron, shape (T, 3)."""
        return np.einsum("tkj,tk->tj", self.planes, self.values)

    def at(self, tet: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The field at points ``x`` (shape (M, 3)) known to lie in tetrahedra ``tet`` (M,)."""
        lam = np.einsum("mkj,mj->mk", self.planes[tet], x - self.centroid[tet]) + 0.25
        return np.einsum("mk,mk->m", lam, self.values[tet])


def linear_field(points: np.ndarray, tetrahedra: np.ndarray, values: np.ndarray) -> LinearField:
    """The barycentric planes of every tetrahedron and the vertex values of a field.

    Parameters
    ----------
    points : ndarray, shape (N, 3)
    tetrahedra : ndarray, shape (T, 4), int
    values : ndarray, shape (N,)
        The field at the points (the DTFE density); NaN becomes 0.

    Returns
    -------
    LinearField
        Degenerate (zero-volume) tetrahedra get zero planes.
    """
    t = len(tetrahedra)
    centroid = np.empty((t, 3))
    planes = np.zeros((t, 4, 3))
    for start in range(0, t, _CHUNK):
        tet = tetrahedra[start : start + _CHUNK]
        corners = np.take(points, tet, axis=0)
        centroid[start : start + len(tet)] = corners.mean(axis=1)
        edges = corners[:, 1:] - corners[:, :1]  # rows: v1 - v0, v2 - v0, v3 - v0
        det = np.linalg.det(edges)
        ok = np.abs(det) > 0
        # x - v0 = E^T lambda_{1..3}, so the gradient of lambda_k is column k of inv(E).
        inv = np.zeros_like(edges)
        inv[ok] = np.linalg.inv(edges[ok])
        grads = np.swapaxes(inv, 1, 2)  # grads[:, k] = gradient of lambda_{k+1}
        block = planes[start : start + len(tet)]
        block[:, 1:] = grads
        block[:, 0] = -grads.sum(axis=1)
    vals = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0)[tetrahedra]
    return LinearField(centroid, planes, vals)


def circumspheres(points: np.ndarray, tetrahedra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Circumcentres, shape (T, 3), and squared radii, shape (T,), of the tetrahedra.

    Solved relative to each tetrahedron's first vertex, so the radius does not lose
    digits to the distance from the origin. Degenerate tetrahedra get the first vertex
    and radius 0.
    """
    t = len(tetrahedra)
    centre = np.empty((t, 3))
    r2 = np.zeros(t)
    for start in range(0, t, _CHUNK):
        tet = tetrahedra[start : start + _CHUNK]
        corners = np.take(points, tet, axis=0)
        v0 = corners[:, 0]
        edges = corners[:, 1:] - v0[:, np.newaxis]
        rhs = 0.5 * np.einsum("tkj,tkj->tk", edges, edges)
        ok = np.abs(np.linalg.det(edges)) > 0
        rel = np.zeros((len(tet), 3))
        rel[ok] = np.linalg.solve(edges[ok], rhs[ok][..., np.newaxis])[..., 0]
        centre[start : start + len(tet)] = v0 + rel
        r2[start : start + len(tet)] = np.einsum("tj,tj->t", rel, rel)
    return centre, r2


def power_distance(eye: np.ndarray, centre: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """``|eye - c|^2 - r^2`` for every circumsphere."""
    d = centre - np.asarray(eye, dtype=np.float64)
    return np.einsum("tj,tj->t", d, d) - r2


def back_to_front(
    centre: np.ndarray, r2: np.ndarray, eye: np.ndarray | None = None, direction: np.ndarray | None = None
) -> np.ndarray:
    """Indices of the tetrahedra from the farthest to the nearest: the order to composite.

    Give ``eye`` for a perspective view (power distance), or the view ``direction`` for an
    orthographic one (circumcentre depth).
    """
    if eye is not None:
        key = power_distance(eye, centre, r2)
    elif direction is not None:
        key = centre @ np.asarray(direction, dtype=np.float64)
    else:
        raise ValueError("back_to_front needs an eye or a view direction")
    # float64 keys: neighbours' keys differ by the eye's distance to their shared face,
    # which float32 would lose far from the data.
    return np.argsort(-key)
