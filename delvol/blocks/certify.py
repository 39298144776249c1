"""Which of a block's tetrahedra are certainly tetrahedra of the whole point set.

A tetrahedron of the block's own tessellation is Delaunay for every point if its
circumsphere holds none of them. The block saw every point inside its region (the padded
box and any cells added), and its circumsphere is empty of those, so a circumsphere whose
bounding box is inside the region (clipped to the data bounds, beyond which there are no
points) is empty of all points. Hull faces are
certified against the hull vertices of the whole set: a face is on the global hull when no
hull vertex lies beyond its plane.

Every Delaunay engine triangulates a sheared copy of the points (see ``SHEAR`` in
:mod:`delvol.geometry.engines.base`), so the circumspheres are computed in that frame and
mapped back with a margin for the shear's tiny distortion.
"""

from __future__ import annotations

import numpy as np

from delvol.geometry.engines.base import SHEAR
from delvol.geometry.faces import OPPOSITE

_UNSHEAR = np.linalg.inv(SHEAR)
# A ball of radius r in the sheared frame maps into a ball of radius r * ||S^-1|| around the
# mapped centre; the extra 1e-9 covers the rounding of nearly flat circumspheres.
_RADIUS_FACTOR = float(np.linalg.norm(_UNSHEAR, 2)) * (1.0 + 1e-9)
_PLANE_TOLERANCE = 1e-10  # relative: a hull vertex this close to a face's plane lies on it


def circumspheres(sheared: np.ndarray, tetrahedra: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Circumcentres (in the input frame) and bounding radii of tetrahedra.

    Parameters
    ----------
    sheared : ndarray, shape (N, 3)
        The points as the engine saw them (:func:`~delvol.geometry.engines.engine_frame`).
    tetrahedra : ndarray, shape (T, 4)
    centre : ndarray, shape (3,)
        The centre subtracted before the shear.

    Returns
    -------
    centres : ndarray, shape (T, 3)
    radii : ndarray, shape (T,)
        Infinite or NaN for flat tetrahedra, which then fail every containment test.
    """
    a = sheared[tetrahedra[:, 0]]
    u, v, w = (sheared[tetrahedra[:, k]] - a for k in (1, 2, 3))
    vw, wu, uv = np.cross(v, w), np.cross(w, u), np.cross(u, v)
    det = np.einsum("ij,ij->i", u, vw)
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = (
            np.einsum("ij,ij->i", u, u)[:, None] * vw
            + np.einsum("ij,ij->i", v, v)[:, None] * wu
            + np.einsum("ij,ij->i", w, w)[:, None] * uv
        ) / (2.0 * det[:, None])
    radii = np.linalg.norm(offset, axis=1) * _RADIUS_FACTOR
    centres = (a + offset) @ _UNSHEAR.T + centre
    return centres, radii


def hull_faces(tetrahedra: np.ndarray, neighbors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The triangles on the hull, and the fourth vertex of the tetrahedron behind each."""
    faces, inner = [], []
    for k in range(4):
        outer = neighbors[:, k] == -1
        faces.append(tetrahedra[outer][:, OPPOSITE[k]])
        inner.append(tetrahedra[outer, k])
    return np.concatenate(faces), np.concatenate(inner)


def beyond_global_hull(points: np.ndarray, faces: np.ndarray, inner: np.ndarray, hull_points: np.ndarray) -> np.ndarray:
    """The hull vertex of the whole set farthest beyond each face's plane, or -1 if none is.

    A face with one is on its block's hull only: the whole set continues past it, and
    that vertex is a point the block is missing.
    """
    out = np.full(len(faces), -1, dtype=np.int64)
    if len(faces) == 0 or len(hull_points) == 0:
        return out
    a = points[faces[:, 0]]
    normal = np.cross(points[faces[:, 1]] - a, points[faces[:, 2]] - a)
    flip = np.einsum("ij,ij->i", normal, points[inner] - a) > 0
    normal[flip] *= -1.0  # outward
    scale = np.ptp(hull_points, axis=0).max()
    tolerance = _PLANE_TOLERANCE * np.linalg.norm(normal, axis=1) * scale
    for start in range(0, len(faces), 4096):  # bounds the (faces, hull points) product
        part = slice(start, start + 4096)
        reach = normal[part] @ hull_points.T - np.einsum("ij,ij->i", normal[part], a[part])[:, None]
        far = np.argmax(reach, axis=1)
        out[part] = np.where(reach[np.arange(len(far)), far] > tolerance[part], far, -1)
    return out


def probes(points: np.ndarray, faces: np.ndarray, inner: np.ndarray, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Spheres through each face's vertices, centred ``height`` circumradii beyond its plane.

    Growing ``height`` sweeps a face's sphere through the half-space beyond it: the first
    points it takes in are the face's neighbours on the far side, which a block missing
    them must add.
    """
    a = points[faces[:, 0]]
    ab, ac = points[faces[:, 1]] - a, points[faces[:, 2]] - a
    normal = np.cross(ab, ac)
    area2 = np.einsum("ij,ij->i", normal, normal)
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = (
            np.einsum("ij,ij->i", ac, ac)[:, None] * np.cross(normal, ab)
            + np.einsum("ij,ij->i", ab, ab)[:, None] * np.cross(ac, normal)
        ) / (2.0 * area2[:, None])
        normal /= np.sqrt(area2)[:, None]
    flip = np.einsum("ij,ij->i", normal, points[inner] - a) > 0
    normal[flip] *= -1.0  # outward
    circumradius = np.linalg.norm(offset, axis=1)
    rise = height * circumradius
    return a + offset + rise[:, None] * normal, np.hypot(circumradius, rise)
