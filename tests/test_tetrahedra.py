"""The GL-free geometry of the exact modes: planes, visibility order, isosurfaces."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import ConvexHull
from scipy.stats import chi

from delvol.geometry import tessellate
from delvol.geometry.isosurface import boundary_edges, isosurface
from delvol.geometry.tetrahedra import back_to_front, circumspheres, linear_field


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(7)
    pts = np.concatenate([rng.uniform(-1, 1, (400, 3)), rng.normal(0.3, 0.08, (200, 3))])
    return tessellate(pts)


def test_linear_field_reproduces_vertex_values_and_sums_to_one(clustered):
    t = clustered
    field = linear_field(t.points, t.tetrahedra, t.density)
    tet = np.repeat(np.arange(len(t.tetrahedra)), 4)
    corners = t.points[t.tetrahedra].reshape(-1, 3)
    np.testing.assert_allclose(field.at(tet, corners), t.density[t.tetrahedra].ravel(), rtol=1e-9)
    np.testing.assert_allclose(field.planes.sum(axis=1), 0.0, atol=1e-6 * np.abs(field.planes).max())


def test_circumspheres_pass_through_all_four_vertices(clustered):
    t = clustered
    centre, r2 = circumspheres(t.points, t.tetrahedra)
    d2 = ((t.points[t.tetrahedra] - centre[:, None]) ** 2).sum(axis=2)
    np.testing.assert_allclose(d2, r2[:, None] * np.ones(4), rtol=1e-7)


def _order_violations(t, rank: np.ndarray, eye=None, direction=None) -> tuple[int, int]:
    """Neighbouring pairs composited in the wrong order: the one nearer the eye must come later."""
    a, k = np.nonzero(t.neighbors >= 0)
    b = t.neighbors[a, k]
    keep = a < b
    a, k, b = a[keep], k[keep], b[keep]
    lone = t.points[t.tetrahedra[a, k]]  # a's vertex opposite the shared face
    face = t.points[t.tetrahedra[a, (k + 1) % 4]]  # one vertex of the shared face
    others = np.stack([t.points[t.tetrahedra[a, (k + j) % 4]] for j in (1, 2, 3)], axis=1)
    normal = np.cross(others[:, 1] - others[:, 0], others[:, 2] - others[:, 0])
    normal *= np.sign(np.einsum("ij,ij->i", normal, lone - face))[:, None]  # points into a
    if eye is not None:
        side = np.einsum("ij,ij->i", normal, eye - face)
    else:
        side = -normal @ direction  # a lies towards the viewer when the view runs against the normal
    clear = np.abs(side) > 1e-12 * np.linalg.norm(normal, axis=1)
    a_in_front = side > 0
    wrong = np.where(a_in_front, rank[a] < rank[b], rank[b] < rank[a])
    return int(np.count_nonzero(wrong & clear)), int(np.count_nonzero(clear))


def test_power_distance_order_is_exact_for_every_neighbouring_pair(clustered):
    t = clustered
    centre, r2 = circumspheres(t.points, t.tetrahedra)
    rng = np.random.default_rng(3)
    eyes = [*rng.uniform(-0.9, 0.9, (3, 3)), *(rng.normal(size=(3, 3)) * 4)]  # inside, then outside the hull
    directions = [d / np.linalg.norm(d) for d in rng.normal(size=(3, 3))]
    checked = 0
    for view in [{"eye": eye} for eye in eyes] + [{"direction": d} for d in directions]:
        order = back_to_front(centre, r2, **view)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        wrong, n = _order_violations(t, rank, **view)
        assert wrong == 0
        checked += n
    assert checked > 9 * 3000


def gaussian_ball(cells: int = 22) -> np.ndarray:
    """A unit 3-D Gaussian sampled with low noise: a cubic lattice in the unit ball, moved
    radially so that the uniform ball's enclosed fraction r^3 becomes the Gaussian's."""
    g = (np.arange(cells) + 0.5) / cells * 2 - 1
    p = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    ru = np.linalg.norm(p, axis=1)
    p, ru = p[ru < 1], ru[ru < 1]
    return p / ru[:, None] * chi.ppf(ru**3, 3)[:, None]


def test_gaussian_ball_isosurface_is_a_closed_sphere_of_the_predicted_radius():
    points = gaussian_ball()
    n = len(points)
    t = tessellate(points)
    for radius in (1.0, 1.5):
        # The expected density n * pdf(r) equals the level at r = radius.
        level = n * (2 * np.pi) ** -1.5 * np.exp(-0.5 * radius**2)
        s = isosurface(t.points, t.tetrahedra, t.density, level)
        r = np.linalg.norm(s.vertices, axis=1)
        # DTFE smooths by about a lattice spacing (0.1 here): a few per cent in radius.
        assert abs(np.median(r) / radius - 1) < 0.04
        lo, hi = np.percentile(r, [1, 99]) / radius
        assert lo > 0.9 and hi < 1.1
        assert len(boundary_edges(s.triangles)) == 0
        # Outward normals and outward winding (the density falls outward).
        assert np.mean(np.einsum("ij,ij->i", s.normals, s.vertices / r[:, None])) > 0.95
        a, b, c = (s.vertices[s.triangles[:, k]] for k in range(3))
        assert np.mean(np.einsum("ij,ij->i", np.cross(b - a, c - a), a + b + c) > 0) > 0.99
        # Consistently wound: each directed edge once (its reverse belongs to the neighbour).
        directed = s.triangles[:, [[0, 1], [1, 2], [2, 0]]].reshape(-1, 2)
        assert len(np.unique(directed, axis=0)) == len(directed)
        # A closed outward surface encloses its divergence integral: the sphere's volume.
        volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6
        assert volume == pytest.approx(4 / 3 * np.pi * np.median(r) ** 3, rel=0.05)


def test_isosurfaces_are_watertight_inside_the_hull(clustered):
    t = clustered
    hull = ConvexHull(t.points)
    for level in np.percentile(t.density, [20, 60, 95]):
        s = isosurface(t.points, t.tetrahedra, t.density, level)
        open_edges = boundary_edges(s.triangles)
        ends = s.vertices[open_edges.ravel()]
        on_hull = np.abs(ends @ hull.equations[:, :3].T + hull.equations[:, 3]).min(axis=1) < 1e-9
        assert on_hull.all()
        assert len(s.triangles) > 50
