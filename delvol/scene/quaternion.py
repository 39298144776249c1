"""Unit quaternions as NumPy arrays ``[x, y, z, w]`` (Hamilton convention).

pyrr's quaternion helpers work in its transposed row-vector convention and silently
return zeros for integer inputs (``apply_to_vector(q, [1, 0, 0])``), so the camera and
the path interpolation use these few explicit functions instead. ``rotate(q, v)`` turns a
vector by q; ``multiply(a, b)`` is the rotation b followed by a.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def normalize(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def from_axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by ``angle`` radians about ``axis`` (right-handed)."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    return np.append(axis * np.sin(angle / 2), np.cos(angle / 2))


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b``: rotate by b, then by a."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ]
    )


def to_matrix(q: np.ndarray) -> np.ndarray:
    """The 3×3 rotation matrix R with ``R @ v == rotate(q, v)``."""
    x, y, z, w = normalize(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def rotate(q: np.ndarray, v: ArrayLike) -> np.ndarray:
    """Rotate vector(s) ``v`` (shape (3,) or (N, 3)) by ``q``."""
    return np.asarray(v, dtype=np.float64) @ to_matrix(q).T


def from_matrix(m: np.ndarray) -> np.ndarray:
    """The unit quaternion (with w >= 0) of a 3×3 rotation matrix (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    trace = np.trace(m)
    if trace > 0:
        s = 2 * np.sqrt(1 + trace)
        q = np.array([(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4])
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2 * np.sqrt(1 + m[i, i] - m[j, j] - m[k, k])
        q = np.empty(4)
        q[i] = s / 4
        q[j] = (m[j, i] + m[i, j]) / s
        q[k] = (m[k, i] + m[i, k]) / s
        q[3] = (m[k, j] - m[j, k]) / s
    unit = normalize(q)
    return -unit if unit[3] < 0 else unit


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical linear interpolation along the shorter arc from a (t=0) to b (t=1)."""
    a, b = normalize(a), normalize(b)
    dot = float(np.dot(a, b))
    if dot < 0:  # q and -q are the same rotation; take the short way round
        b, dot = -b, -dot
    if dot > 0.9995:
        return normalize(a + t * (b - a))
    theta = np.arccos(dot)
    return (np.sin((1 - t) * theta) * a + np.sin(t * theta) * b) / np.sin(theta)


def conjugate(q: np.ndarray) -> np.ndarray:
    """The inverse rotation of a unit quaternion."""
    x, y, z, w = q
    return np.array([-x, -y, -z, w])


def log(q: np.ndarray) -> np.ndarray:
    """The 3-vector ``axis * angle / 2`` of a unit quaternion, with ``exp(log(q)) == q``."""
    q = normalize(q)
    sin_half = float(np.linalg.norm(q[:3]))
    if sin_half < 1e-15:
        return np.zeros(3)
    return q[:3] / sin_half * np.arctan2(sin_half, q[3])


def exp(v: np.ndarray) -> np.ndarray:
    """The unit quaternion of the 3-vector ``axis * angle / 2`` (inverse of :func:`log`)."""
    v = np.asarray(v, dtype=np.float64)
    half = float(np.linalg.norm(v))
    if half < 1e-15:
        return IDENTITY.copy()
    return np.append(v / half * np.sin(half), np.cos(half))


def angle_between(a: np.ndarray, b: np.ndarray) -> float:
    """The angle in radians of the rotation that takes orientation a to b (0 to π)."""
    relative = multiply(conjugate(normalize(a)), normalize(b))
    # atan2 stays accurate for tiny angles, where arccos of the dot product does not.
    return 2 * float(np.arctan2(np.linalg.norm(relative[:3]), abs(relative[3])))


def align_signs(qs: np.ndarray) -> np.ndarray:
    """A copy of the sequence ``qs`` (shape (N, 4)) with each negated where needed to
    lie in the same hemisphere as the one before.

    q and -q are the same rotation, but interpolating between quaternions in opposite
    hemispheres takes the long way round; aligned neighbours never do.
    """
    out = normalize(np.array(qs, dtype=np.float64))
    for i in range(1, len(out)):
        if np.dot(out[i], out[i - 1]) < 0:
            out[i] = -out[i]
    return out


def squad(a: np.ndarray, b: np.ndarray, control_a: np.ndarray, control_b: np.ndarray, t: float) -> np.ndarray:
    """Shoemake's spherical quadrangle interpolation from a (t=0) to b (t=1).

    The inner control points shape the curve as Bézier handles do: with
    ``control_a == a`` and ``control_b == b`` it is :func:`slerp`. Its angular velocity
    (in :func:`log` units per unit t) is ``log(a⁻¹ b) + 2 log(a⁻¹ control_a)`` at a.
    """
    return slerp(slerp(a, b, t), slerp(control_a, control_b, t), 2 * t * (1 - t))
