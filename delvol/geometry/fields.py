"""DTFE fields: any quantity carried by the points, interpolated and differentiated.

The Delaunay Tessellation Field Estimator reconstructs a field sampled at the points as
the function that is linear inside every tetrahedron (Schaap & van de Weygaert 2000;
Cautun & van de Weygaert 2011). Its gradient is constant inside each tetrahedron, which
gives the velocity divergence, vorticity and shear tetrahedron by tetrahedron (Bernardeau
& van de Weygaert 1996; Romano-Díaz & van de Weygaert 2007).

Two weightings
--------------
``volume`` (the default) is that linear interpolant of the point values. Averaged over a
region it gives the *volume-weighted* mean, which is what the velocity-field statistics
of perturbation theory describe (Bernardeau & van de Weygaert 1996), what the DTFE code
returns by default, and the only variant that is linear inside each tetrahedron, so that
a linear field is reproduced exactly and its gradients are those of the field.

``mass`` interpolates the product ``rho f`` linearly and divides by the interpolated
density ``rho``. Averaged over a region it gives the *mass-weighted* mean (for velocities:
momentum over mass), which is what particle-based estimators return. At a point it equals
``sum(l_k rho_k f_k) / sum(l_k rho_k)`` with the barycentric coordinates ``l_k``; for a
field correlated with density it exceeds the volume-weighted value by exactly the
``l``-weighted variance of ``rho``-correlated values over their mean (see the tests).

Duplicates and periodic images
------------------------------
Values are given per input point, in the order the points were tessellated. Points that
Qhull left out as duplicates give their value to the kept twin as the mass-weighted mean
of the group (momentum is conserved, just as their masses are merged), and share it, as
they share the density. Periodic images carry their original's value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from delvol.geometry.engines.base import SHEAR
from delvol.geometry.interpolate import grid_centres, grid_shape, interpolate, locate
from delvol.geometry.tessellation import Tessellation

WEIGHTINGS = ("volume", "mass")
"""Interpolation variants; ``volume`` is the default (see the module notes)."""

DERIVED = ("divergence", "vorticity", "vorticity_magnitude", "shear", "shear_magnitude", "gradient")
"""Quantities derived from the gradient of a vector field (velocity):

``divergence`` (scalar) trace of the velocity gradient ``J[c, d] = d v_c / d x_d``;
``vorticity`` (3-vector) the curl; ``vorticity_magnitude`` its length; ``shear``
(3×3) the symmetric trace-free part ``(J + J^T) / 2 - div / 3 I``; ``shear_magnitude``
its Frobenius norm ``sqrt(sum sigma_ij^2)``; ``gradient`` (3×3) ``J`` itself. A
``gradient`` of a scalar field is its 3-vector gradient.
"""

COMPONENTS = {"x": 0, "y": 1, "z": 2}
_CHUNK = 1 << 19  # tetrahedra per block: bounds the (chunk, 4, 3) gradient temporaries


@dataclass(frozen=True)
class FieldSpec:
    """A field by name, optionally one component (``vel:x``) or a derived quantity (``vel:divergence``).

    Attributes
    ----------
    name : str
        The field as the loaders know it (``vel``, ``temperature``, a column).
    derived : str, optional
        One of :data:`DERIVED`.
    component : int, optional
        0, 1 or 2 for x, y, z of a vector field.
    """

    name: str
    derived: str | None = None
    component: int | None = None

    @classmethod
    def parse(cls, text: str) -> FieldSpec:
        """``NAME``, ``NAME:x|y|z`` or ``NAME:DERIVED`` (``-`` or ``_`` in derived names).

        Raises
        ------
        ValueError
            An empty name or an unknown suffix.
        """
        name, _, suffix = text.rpartition(":") if ":" in text else (text, "", "")
        suffix = suffix.strip().lower().replace("-", "_")
        if not name.strip():
            raise ValueError(f"expected a field name such as vel or vel:divergence, got {text!r}")
        if not suffix:
            return cls(name.strip())
        if suffix in COMPONENTS:
            return cls(name.strip(), component=COMPONENTS[suffix])
        if suffix in DERIVED:
            return cls(name.strip(), derived=suffix)
        choices = ", ".join((*COMPONENTS, *DERIVED))
        raise ValueError(f"unknown field suffix {suffix!r} in {text!r}; choose from {choices}")

    def component_of(self, values: np.ndarray) -> np.ndarray:
        """``values`` itself, or its column :attr:`component`.

        Raises
        ------
        ValueError
            A component of a field that has no such column.
        """
        if self.component is None:
            return values
        if values.ndim != 2 or values.shape[1] <= self.component:
            raise ValueError(f"field {self.name!r} has no {'xyz'[self.component]} component")
        return values[:, self.component]

    def __str__(self) -> str:
        if self.derived:
            return f"{self.name}:{self.derived}"
        if self.component is not None:
            return f"{self.name}:{'xyz'[self.component]}"
        return self.name


def _check_values(tess: Tessellation, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if len(values) != tess.n_primary:
        raise ValueError(f"{len(values)} field values for {tess.n_primary} points")
    return values


def representatives(tess: Tessellation) -> np.ndarray:
    """For every input point, the input point whose vertex stands for it.

    Itself, except for the duplicates that Qhull left out of every tetrahedron: those
    map to the nearest (coincident) point that is a vertex.
    """
    n = tess.n_primary
    used = np.zeros(n, dtype=bool)
    owners = tess.origin[tess.tetrahedra].ravel()
    used[owners[owners < n]] = True  # buffer points stand for no input point
    rep = np.arange(n)
    lost = np.flatnonzero(~used)
    if lost.size:
        kept = np.flatnonzero(used)
        _, nearest = cKDTree(tess.points[kept]).query(tess.points[lost])
        rep[lost] = kept[nearest]
    return rep


def point_values(tess: Tessellation, values: np.ndarray) -> np.ndarray:
    """Per-input-point values with duplicates merged: each group gets its mass-weighted mean.

    Parameters
    ----------
    tess : Tessellation
    values : ndarray, shape (n_primary, ...)

    Returns
    -------
    ndarray, same shape, float64
    """
    values = _check_values(tess, values)
    rep = representatives(tess)
    if np.array_equal(rep, np.arange(len(rep))):
        return values
    n = len(rep)
    masses = tess.masses[:n]
    total = np.bincount(rep, weights=masses, minlength=n)
    # Massless groups fall back to a plain mean.
    weights = np.where(total[rep] > 0, masses, 1.0)
    flat = values.reshape(n, -1)
    sums = np.column_stack([np.bincount(rep, weights=weights * flat[:, k], minlength=n) for k in range(flat.shape[1])])
    merged = sums / np.bincount(rep, weights=weights, minlength=n)[:, None].clip(min=np.finfo(float).tiny)
    return merged[rep].reshape(values.shape)


def vertex_rows(tess: Tessellation, values: np.ndarray) -> np.ndarray:
    """``values`` (one row per input point) with a NaN row for each buffer point after them.

    Indexed by ``tess.origin`` (or the locator's), this gives every vertex a value: buffer
    points (:attr:`Tessellation.buffer`) lie outside the survey, where no field is known,
    so whatever touches them is NaN, as outside the convex hull.
    """
    n_buffer = int(np.count_nonzero(tess.buffer))
    if not n_buffer:
        return values
    return np.concatenate([values, np.full((n_buffer, *values.shape[1:]), np.nan)])


def field_at(tess: Tessellation, values: np.ndarray, query: np.ndarray, weighting: str = "volume") -> np.ndarray:
    """The DTFE interpolation of a field of the points at any positions.

    Parameters
    ----------
    tess : Tessellation
    values : ndarray, shape (n_primary,) or (n_primary, K, ...)
        The field at the input points (scalars, vectors or tensors).
    query : array_like, shape (..., 3)
    weighting : {"volume", "mass"}
        Linear interpolation of the values, or of ``rho f`` divided by that of ``rho``
        (see the module notes).

    Returns
    -------
    ndarray, shape ``query.shape[:-1] + values.shape[1:]``
        NaN outside the convex hull; periodic boxes wrap the positions.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
    rows = vertex_rows(tess, point_values(tess, values))
    density = tess.density[: len(rows)] if weighting == "mass" else None
    return interpolate(tess, rows, query, density)


def barycentric_gradients(points: np.ndarray, tetrahedra: np.ndarray) -> np.ndarray:
    """The constant gradient of each barycentric coordinate in each tetrahedron.

    With edges ``a, b, c`` from vertex 0, the gradients of coordinates 1, 2 and 3 are
    ``b×c``, ``c×a`` and ``a×b`` over the triple product, and coordinate 0's is minus
    their sum. A degenerate (zero-volume) tetrahedron gets NaN.

    Returns
    -------
    ndarray, shape (T, 4, 3)
    """
    edges = points[tetrahedra[:, 1:]] - points[tetrahedra[:, :1]]
    a, b, c = edges[:, 0], edges[:, 1], edges[:, 2]
    grads = np.empty((len(tetrahedra), 4, 3))
    grads[:, 1], grads[:, 2], grads[:, 3] = np.cross(b, c), np.cross(c, a), np.cross(a, b)
    det = np.einsum("ij,ij->i", a, grads[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        grads[:, 1:] /= np.where(det != 0, det, np.nan)[:, None, None]
    grads[:, 0] = -grads[:, 1:].sum(axis=1)
    return grads


def _gradients(points: np.ndarray, tetrahedra: np.ndarray, vertex_values: np.ndarray) -> np.ndarray:
    """``d f / d x`` in each tetrahedron: shape (T, *value_shape, 3)."""
    out = np.empty((len(tetrahedra), *vertex_values.shape[1:], 3))
    for start in range(0, len(tetrahedra), _CHUNK):
        tets = tetrahedra[start : start + _CHUNK]
        grads = barycentric_gradients(points, tets)
        out[start : start + len(tets)] = np.einsum("tk...,tkd->t...d", vertex_values[tets], grads)
    return out


def tet_gradient(tess: Tessellation, values: np.ndarray) -> np.ndarray:
    """The gradient of the linear DTFE field in each of ``tess.tetrahedra``.

    Returns
    -------
    ndarray, shape (T, *values.shape[1:], 3)
        For velocities, ``J[t, c, d] = d v_c / d x_d``.
    """
    return _gradients(tess.points, tess.tetrahedra, vertex_rows(tess, point_values(tess, values))[tess.origin])


def derive(gradient: np.ndarray, kind: str) -> np.ndarray:
    """A quantity of :data:`DERIVED` from gradients ``J[..., c, d] = d v_c / d x_d``.

    Returns
    -------
    ndarray
        ``gradient.shape[:-2]`` for scalars, plus ``(3,)`` for the vorticity and
        ``(3, 3)`` for the shear and the gradient.
    """
    if kind == "gradient":
        return gradient
    if gradient.shape[-2:] != (3, 3):
        raise ValueError(f"{kind} needs a 3-vector field such as a velocity")
    divergence = np.trace(gradient, axis1=-2, axis2=-1)
    if kind == "divergence":
        return divergence
    if kind in ("vorticity", "vorticity_magnitude"):
        j = gradient
        curl = np.stack(
            [j[..., 2, 1] - j[..., 1, 2], j[..., 0, 2] - j[..., 2, 0], j[..., 1, 0] - j[..., 0, 1]], axis=-1
        )
        return curl if kind == "vorticity" else np.linalg.norm(curl, axis=-1)
    if kind in ("shear", "shear_magnitude"):
        shear = 0.5 * (gradient + np.swapaxes(gradient, -1, -2)) - divergence[..., None, None] / 3 * np.eye(3)
        return shear if kind == "shear" else np.sqrt((shear**2).sum(axis=(-2, -1)))
    raise ValueError(f"unknown derived quantity {kind!r}; choose from {', '.join(DERIVED)}")


def tet_weights(tess: Tessellation, weighting: str) -> np.ndarray:
    """Each tetrahedron's volume, or its DTFE mass ``V_T mean(rho at its vertices)``."""
    if weighting == "volume":
        return tess.tet_volume
    if weighting == "mass":
        return tess.tet_volume * tess.density[tess.tetrahedra].mean(axis=1)
    raise ValueError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")


def point_gradient(tess: Tessellation, values: np.ndarray, weighting: str = "volume") -> np.ndarray:
    """The gradient at each input point: the weighted mean over the tetrahedra around it.

    ``volume`` weights each tetrahedron of the point's star by its volume (the DTFE
    code's per-point estimate), ``mass`` by its DTFE mass. Periodic images add their
    tetrahedra to their original's star; duplicates get their twin's value.

    Returns
    -------
    ndarray, shape (n_primary, *values.shape[1:], 3)
    """
    # Tetrahedra touching a buffer point (outside the survey) have no gradient.
    inside = ~tess.buffer[tess.tetrahedra].any(axis=1)
    grads = tet_gradient(tess, values)[inside]
    w = tet_weights(tess, weighting)[inside]
    n = tess.n_primary
    owners = tess.origin[tess.tetrahedra[inside]]
    flat = grads.reshape(len(grads), -1)
    sums = np.zeros((n, flat.shape[1]))
    totals = np.zeros(n)
    for k in range(4):
        totals += np.bincount(owners[:, k], weights=w, minlength=n)
        for c in range(flat.shape[1]):
            sums[:, c] += np.bincount(owners[:, k], weights=w * flat[:, c], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / totals[:, None]
    return mean[representatives(tess)].reshape(n, *grads.shape[1:])


def gradient_at(tess: Tessellation, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """The gradient of the linear (volume-weighted) DTFE field at any positions.

    Constant inside each tetrahedron; NaN outside the convex hull.

    Returns
    -------
    ndarray, shape ``query.shape[:-1] + values.shape[1:] + (3,)``
    """
    vals = vertex_rows(tess, point_values(tess, values))
    q = np.asarray(query, dtype=np.float64)
    tri, origin, _ = tess.locator
    out = np.full((int(np.prod(q.shape[:-1])), *vals.shape[1:], 3), np.nan)
    for rows, inside, simplex, _ in locate(tess, q):
        hit, where = np.unique(simplex, return_inverse=True)
        # Gradients in the sheared Qhull frame x' = S (x - c), taken back by the chain rule.
        local = _gradients(tri.points, tri.simplices[hit], vals[origin])
        out[rows][inside] = (local @ SHEAR)[where]
    return out.reshape(*q.shape[:-1], *vals.shape[1:], 3)


def field_grid(
    tess: Tessellation,
    values: np.ndarray,
    shape: int | tuple[int, int, int] = 128,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    weighting: str = "volume",
    derived: str | None = None,
) -> np.ndarray:
    """A field, or a quantity derived from its gradient, at the cell centres of a grid.

    Parameters
    ----------
    tess : Tessellation
    values : ndarray, shape (n_primary, ...)
    shape : int or (int, int, int)
    lower, upper : ndarray, shape (3,), optional
        Grid corners; default to the periodic box, or to the bounds of the input points.
    weighting : {"volume", "mass"}
        For the field itself; derived quantities are those of the linear (volume-weighted)
        field, the only one whose gradient is constant inside each tetrahedron.
    derived : str, optional
        One of :data:`DERIVED`.

    Returns
    -------
    ndarray, shape ``shape + component shape`` (components last), NaN outside the hull.
    """
    shape3 = grid_shape(shape)
    lo, hi = tess.bounds
    lo = lo if lower is None else np.asarray(lower, dtype=np.float64)
    hi = hi if upper is None else np.asarray(upper, dtype=np.float64)
    centres = grid_centres(lo, hi, shape3)
    if derived is None:
        return field_at(tess, values, centres, weighting)
    if weighting != "volume":
        raise ValueError("derived quantities are gradients of the volume-weighted field; use weighting='volume'")
    return derive(gradient_at(tess, values, centres), derived)


def point_field(
    tess: Tessellation, fields: dict[str, np.ndarray], spec: FieldSpec, weighting: str = "volume"
) -> np.ndarray:
    """One value per input point for a :class:`FieldSpec`: the field, a component, or a
    derived quantity from the per-point gradient.

    Raises
    ------
    KeyError
        ``spec.name`` is not among ``fields``.
    ValueError
        A component of a scalar field, or a derived quantity the field cannot give.
    """
    values = spec.component_of(np.asarray(fields[spec.name], dtype=np.float64))
    if spec.derived is not None:
        return derive(point_gradient(tess, values, weighting), spec.derived)
    return point_values(tess, values)


def scalar_specs(name: str, values: np.ndarray) -> list[FieldSpec]:
    """Every scalar a field gives: itself, or for a 3-vector its components, divergence,
    vorticity magnitude and shear magnitude (what a viewer cycles through)."""
    values = np.asarray(values)
    if values.ndim == 1:
        return [FieldSpec(name)]
    specs = [FieldSpec(name, component=k) for k in range(min(values.shape[1], 3))]
    if values.shape[1] == 3:
        specs += [FieldSpec(name, derived=d) for d in ("divergence", "vorticity_magnitude", "shear_magnitude")]
    return specs


def units_of(spec: FieldSpec, metadata: dict) -> str:
    """The units of a spec's values from a point set's metadata: the field's own (its
    ``field_units``), per length unit (``units``) for derived quantities."""
    units = metadata.get("field_units", {}).get(spec.name, "as stored")
    if spec.derived is None:
        return units
    return f"{units} per {metadata.get('units', 'length unit')}"


class FieldCache:
    """Per-vertex values of field specs, computed on first use and kept (for the viewer).

    Parameters
    ----------
    tess : Tessellation
    fields : dict of str to ndarray
        Per-input-point fields (:attr:`PointSet.fields`).
    metadata : dict
        The point set's metadata, for units.
    """

    def __init__(self, tess: Tessellation, fields: dict[str, np.ndarray], metadata: dict) -> None:
        self.tess = tess
        self.fields = fields
        self.metadata = metadata
        self._values: dict[FieldSpec, np.ndarray] = {}

    def choices(self, first: FieldSpec | None = None) -> list[FieldSpec]:
        """``first``, then every other scalar the fields give."""
        specs = [] if first is None else [first]
        for name, values in self.fields.items():
            specs += [s for s in scalar_specs(name, values) if s not in specs]
        return specs

    def vertex_values(self, spec: FieldSpec) -> np.ndarray:
        """One value per vertex of the tessellation (images repeat their original's)."""
        if spec not in self._values:
            values = point_field(self.tess, self.fields, spec)
            if values.ndim != 1:
                raise ValueError(
                    f"{values.shape[1:]} values per point, not one: pick a component ({spec.name}:x) or a "
                    f"scalar such as {spec.name}:divergence"
                )
            self._values[spec] = vertex_rows(self.tess, values)[self.tess.origin]
        return self._values[spec]

    def label(self, spec: FieldSpec) -> str:
        return f"{spec} ({units_of(spec, self.metadata)})"
