"""Every Delaunay engine gives the same tessellation; optional engines skip when absent."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

from delvol.errors import DelvolError
from delvol.geometry import DegenerateInputError, tessellate
from delvol.geometry.cache import cache_dir, cached_tessellate, clear_cache
from delvol.geometry.dtfe import integrated_mass
from delvol.geometry.engines import ENGINES, available_engines, resolve_engine
from delvol.geometry.faces import neighbors_from_tetrahedra, oriented_faces, unique_faces

FAST = ["shull", "gmsh"]


def engine_param(name: str):
    missing = not ENGINES[name].available()
    return pytest.param(name, marks=pytest.mark.skipif(missing, reason=f"{name} is not installed"))


ALL_ENGINES = [engine_param(name) for name in ("scipy", *FAST)]
FAST_ENGINES = [engine_param(name) for name in FAST]


def clustered(n: int, seed: int = 3) -> np.ndarray:
    """Gaussian clumps of very different widths: densities spanning decades."""
    rng = np.random.default_rng(seed)
    centres = rng.random((20, 3))
    widths = 10.0 ** rng.uniform(-3, -1, 20)
    which = rng.integers(0, 20, n)
    return centres[which] + widths[which, None] * rng.standard_normal((n, 3))


def face_set(faces: np.ndarray) -> set[tuple[int, ...]]:
    return set(map(tuple, np.sort(faces, axis=1).tolist()))


def mass_error(tess, total: float) -> float:
    return abs(integrated_mass(tess.tetrahedra, tess.tet_volume, tess.density) - total) / total


@pytest.fixture(scope="module", params=["random", "clustered"])
def points(request):
    return np.random.default_rng(1).random((4000, 3)) if request.param == "random" else clustered(4000)


@pytest.fixture(scope="module")
def reference(points):
    return tessellate(points, engine="scipy")


@pytest.mark.parametrize("engine", FAST_ENGINES)
def test_same_tessellation_as_qhull(points, reference, engine):
    tess = tessellate(points, engine=engine)
    assert tess.info["engine"] == engine
    np.testing.assert_allclose(tess.density, reference.density, rtol=1e-12)
    np.testing.assert_allclose(tess.cell_volume, reference.cell_volume, rtol=1e-12)
    assert face_set(tess.faces) == face_set(reference.faces)
    assert len(tess.faces) == len(reference.faces)  # each face once
    np.testing.assert_array_equal(tess.hull, reference.hull)
    assert face_set(np.sort(tess.tetrahedra, axis=1)) == face_set(np.sort(reference.tetrahedra, axis=1))


@pytest.mark.parametrize("engine", FAST_ENGINES)
def test_derived_neighbours_match_the_engines(points, engine):
    tess = tessellate(points, engine=engine)
    derived = neighbors_from_tetrahedra(tess.tetrahedra)
    np.testing.assert_array_equal(derived, tess.neighbors)
    assert face_set(unique_faces(tess.tetrahedra, derived)) == face_set(tess.faces)


@pytest.mark.parametrize("engine", ALL_ENGINES)
def test_lattice_keeps_mass_and_uniform_density(engine):
    n = 8
    lattice = np.stack(np.meshgrid(*[np.arange(n, dtype=float)] * 3, indexing="ij"), -1).reshape(-1, 3)
    tess = tessellate(lattice, engine=engine)
    assert mass_error(tess, len(lattice)) < 1e-10
    assert tess.tet_volume.sum() == pytest.approx((n - 1) ** 3)
    boundary = np.any((lattice == 0) | (lattice == n - 1), axis=1)
    np.testing.assert_array_equal(tess.hull, boundary)  # the same flags from every engine
    np.testing.assert_allclose(tess.density[~boundary], 1.0, rtol=1e-9)


@pytest.mark.parametrize("engine", ALL_ENGINES)
def test_near_degenerate_input_keeps_mass(engine):
    rng = np.random.default_rng(7)
    grid = np.stack(np.meshgrid(*[np.arange(6.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    jittered = np.vstack([grid + 1e-12 * rng.standard_normal(grid.shape), rng.random((50, 3)) * 5])
    tess = tessellate(jittered, engine=engine)
    assert mass_error(tess, len(jittered)) < 1e-10


@pytest.mark.parametrize("engine", ALL_ENGINES)
def test_duplicates_merge_mass(engine):
    pts = np.random.default_rng(5).random((500, 3))
    dup = np.vstack([pts, pts[[7, 7, 42]]])
    masses = np.ones(len(dup))
    masses[-1] = 3.0
    tess = tessellate(dup, masses, engine=engine)
    reference = tessellate(dup, masses, engine="scipy")
    assert tess.info["n_duplicates"] == 3
    assert tess.density[500] == tess.density[501] == tess.density[7]
    np.testing.assert_allclose(tess.density, reference.density, rtol=1e-12)
    assert mass_error(tess, masses.sum()) < 1e-10


@pytest.mark.parametrize("engine", ALL_ENGINES)
@pytest.mark.parametrize(
    ("points", "message"),
    [
        (np.random.default_rng(0).random((3, 3)), "at least 4 points"),
        (np.zeros((10, 3)), "only 1 distinct points"),
        (np.c_[np.random.default_rng(0).random((50, 2)), np.zeros(50)], "plane or on a line"),
        (np.outer(np.arange(20.0), [1.0, 2.0, 3.0]), "plane or on a line"),
        (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, np.nan]]), "NaN or inf"),
    ],
    ids=["three", "one-distinct", "coplanar", "collinear", "nan"],
)
def test_degenerate_input_same_message(engine, points, message):
    with pytest.raises(DegenerateInputError, match=message):
        tessellate(points, engine=engine)


@pytest.mark.parametrize("engine", FAST_ENGINES)
def test_periodic_padding(engine):
    pts = np.random.default_rng(9).random((1500, 3))  # clumps leave voids wider than the padding
    tess = tessellate(pts, periodic=1.0, engine=engine)
    reference = tessellate(pts, periodic=1.0, engine="scipy")
    assert mass_error(tess, len(pts)) < 1e-10
    assert tess.tet_volume.sum() == pytest.approx(1.0, rel=1e-10)
    np.testing.assert_allclose(tess.density[: len(pts)], reference.density[: len(pts)], rtol=1e-12)
    assert face_set(tess.origin[tess.faces]) == face_set(reference.origin[reference.faces])
    assert (tess.neighbors >= -1).all() and tess.neighbors.shape == tess.tetrahedra.shape


def positively_oriented(tess) -> np.ndarray:
    """Qhull's tetrahedra come in either orientation; gmsh's are all positive."""
    tets = tess.tetrahedra.copy()
    p = tess.points[tets]
    flip = np.linalg.det(p[:, 1:] - p[:, :1]) < 0
    tets[flip] = tets[flip][:, [1, 0, 2, 3]]
    return tets


def test_oriented_faces_refuses_an_incomplete_hull():
    tess = tessellate(np.random.default_rng(2).random((300, 3)), engine="scipy")
    with pytest.raises(ValueError, match="missed a hull vertex"):
        oriented_faces(positively_oriented(tess), np.zeros(len(tess.points), dtype=bool))


def test_oriented_faces_match_the_neighbour_table():
    tess = tessellate(clustered(2000), engine="scipy")
    faces = oriented_faces(positively_oriented(tess), tess.hull)
    assert len(faces) == len(tess.faces) and face_set(faces) == face_set(tess.faces)


def test_auto_is_the_fastest_installed(monkeypatch):
    assert resolve_engine("auto") == available_engines()[0]
    for name in FAST:
        monkeypatch.setattr(ENGINES[name], "available", lambda: False)
    assert resolve_engine("auto") == "scipy"
    with pytest.raises(DelvolError, match="'gmsh' is not installed"):
        tessellate(np.random.default_rng(0).random((10, 3)), engine="gmsh")
    with pytest.raises(DelvolError, match="unknown Delaunay engine"):
        resolve_engine("cgal")


def ignored_signals() -> int:
    """The kernel's mask of ignored signals (Python's getsignal misses changes made in C)."""
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("SigIgn:")).split()[1], 16)


@pytest.mark.parametrize("engine", [engine_param("gmsh")])
def test_gmsh_leaves_signals_and_its_model_alone(engine):
    import gmsh

    handler = signal.getsignal(signal.SIGINT)
    ignored = ignored_signals()
    tessellate(np.random.default_rng(0).random((100, 3)), engine=engine)
    assert signal.getsignal(signal.SIGINT) is handler
    assert ignored_signals() == ignored  # SIGPIPE still ignored: a closed pipe raises, not kills
    thread = threading.Thread(target=tessellate, args=(np.random.default_rng(1).random((100, 3)),), daemon=True)
    thread.start()
    thread.join()
    assert ignored_signals() == ignored
    assert not gmsh.isInitialized()
    gmsh.initialize([], interruptible=False)  # someone else's session keeps its options
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # which gmsh.initialize reset, see gmsh_hxt
    try:
        gmsh.option.setNumber("Mesh.Algorithm3D", 4)
        tessellate(np.random.default_rng(0).random((100, 3)), engine=engine)
        assert gmsh.isInitialized() and gmsh.option.getNumber("Mesh.Algorithm3D") == 4
    finally:
        gmsh.finalize()


@pytest.mark.parametrize("engine", FAST_ENGINES)
def test_cache_key_names_the_engine(engine):
    pts = np.random.default_rng(8).random((500, 3))
    clear_cache()
    first = cached_tessellate(pts, engine=engine)
    cached_tessellate(pts, engine="scipy")
    assert len(list(cache_dir().glob("*.npz"))) == 2
    again = cached_tessellate(pts, engine=engine)
    assert "cache" in again.info and again.info["engine"] == engine
    np.testing.assert_array_equal(again.faces, first.faces)
    np.testing.assert_array_equal(again.neighbors, first.neighbors)  # derived after loading if not stored
    clear_cache()


@pytest.mark.parametrize("engine", ALL_ENGINES)
def test_interpolation_with_every_engine(engine):
    from delvol.geometry.interpolate import density_at

    pts = np.random.default_rng(4).random((800, 3))
    tess = tessellate(pts, engine=engine)
    np.testing.assert_allclose(density_at(tess, pts[:50]), tess.density[:50], rtol=1e-9)


def test_the_python_api_takes_the_engine():
    import delvol
    from delvol.errors import DelvolError

    points = np.random.default_rng(3).random((60, 3))
    assert delvol.tessellate(points, engine="scipy", cache=False).info["engine"] == "scipy"
    with pytest.raises(DelvolError, match="unknown Delaunay engine"):
        delvol.tessellate(points, engine="nope", cache=False)


@pytest.mark.parametrize("engine", [engine_param("gmsh")])
def test_gmsh_prints_nothing_for_the_duplicates_it_skips(tmp_path, engine):
    """HXT writes a warning per duplicate to fd 2 from C: a real process's stderr stays empty."""
    points = np.random.default_rng(2).random((500, 3))
    np.save(tmp_path / "twins.npy", np.vstack([points, points[:7], points[:3]]))
    command = [sys.executable, "-m", "delvol", "info", "twins.npy", "--engine", engine, "--no-cache"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert re.search(r"^duplicates +10 ", result.stdout, re.MULTILINE), result.stdout
    np.save(tmp_path / "flat.npy", points * [1, 1, 0])
    command[4] = "flat.npy"
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("delvol: error: flat.npy: all points lie in a plane")
    assert len(result.stderr.splitlines()) == 1, result.stderr  # not HXT's "= X = Error" line too


@pytest.mark.parametrize("engine", [engine_param("gmsh")])
def test_gmsh_failure_gives_hxts_reason_in_place_of_its_line(capfd, engine):
    from delvol.geometry.engines import gmsh_hxt

    flat = np.random.default_rng(2).random((50, 3)) * [1, 1, 0]
    raw, errors = gmsh_hxt._run_hxt(flat.reshape(-1))
    assert len(raw) == 0 and errors == ["all vertices are coplanar or nearly coplanar"]
    assert capfd.readouterr().err == ""
