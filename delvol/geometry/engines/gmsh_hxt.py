"""The ``gmsh`` engine: HXT's parallel Delaunay kernel inside gmsh (GPLv2+, optional).

gmsh keeps one global model per process and, initialised as it is by default, installs its
own SIGINT handler, so this module initialises it non-interruptibly, under a lock, only
when nobody else has, and finalises it again straight after. Initialising also resets
SIGPIPE, which Python ignores so that a closed pipe raises BrokenPipeError, to the default
that kills the process (the movie writer's ffmpeg pipe did), so that is put back too. Only HXT (``Mesh.Algorithm3D
= 10``) gives the whole Delaunay tessellation: gmsh's default 3-D Delaunay inserts the
points into a bounding box and drops every tetrahedron that touched the box, which loses
a layer of tetrahedra along the hull.

gmsh returns tetrahedra only, 1-based, as uint64, every one positively oriented (HXT's
exact predicates); exact duplicates are skipped and simply left out, each with a warning that
HXT prints to fd 2 whatever gmsh's options say: :func:`~delvol.stderr_filter.filtered_stderr`
drops those lines, since ``tessellate`` counts and reports the duplicates itself. When HXT
fails (coplanar points) it returns no tetrahedra, raises nothing, and says why only in an
``= X = Error :`` line on fd 2, so that line is held back and becomes the reason in delvol's
one-line error.
"""

from __future__ import annotations

import ctypes
import functools
import inspect
import signal
import threading
from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from delvol.geometry.engines.base import NO_DROPPED, Triangulation
from delvol.geometry.engines.failure import explain_failure
from delvol.stderr_filter import filtered_stderr

NAME = "gmsh"
LICENCE = "GPL-2.0-or-later (gmsh)"
_HXT = 10  # Mesh.Algorithm3D
_LOCK = threading.Lock()  # one global gmsh model per process
# HXT's line for each exact duplicate, which it writes from C straight to fd 2 (gmsh 4.15): not
# through gmsh's logger, so General.Terminal = 0 and General.Verbosity = 0 leave it printed.
DUPLICATE_WARNINGS = (b"/!\\ Warning : skipping supposedly duplicate point (",)
HXT_ERROR = b"= X = Error : "


@functools.cache
def available() -> bool:
    """Whether the optional ``gmsh`` package imports: its wheel also needs X/GL libraries."""
    try:
        import gmsh  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _tetrahedralize_call(gmsh) -> Callable[[np.ndarray], np.ndarray]:
    """gmsh's point tetrahedralizer, whatever its name and signature in this version.

    gmsh 4.14 moved it from ``model.mesh`` to ``algorithm``, and 4.15 made it take optional
    constrained triangles and return ``(tetrahedra, steiner)`` instead of the tetrahedra.
    """
    algorithm = getattr(gmsh, "algorithm", None)
    call = getattr(algorithm, "tetrahedralize", None) or gmsh.model.mesh.tetrahedralize

    def tetrahedralize(coordinates: np.ndarray) -> np.ndarray:
        out = call(coordinates)
        return out[0] if isinstance(out, tuple) else out

    return tetrahedralize


def _initialize(gmsh) -> None:
    accepted = inspect.signature(gmsh.initialize).parameters
    kwargs = {"readConfigFiles": False} if "readConfigFiles" in accepted else {}
    if "interruptible" in accepted:
        kwargs["interruptible"] = False  # leave Ctrl-C to Python
    sigpipe = getattr(signal, "SIGPIPE", None)
    before = None if sigpipe is None else signal.getsignal(sigpipe)
    gmsh.initialize([], **kwargs)
    if sigpipe is None or before is None:
        return
    # Python's own record still says SIG_IGN, so re-apply it at the C level.
    if threading.current_thread() is threading.main_thread():
        signal.signal(sigpipe, before)
    elif before is signal.SIG_IGN:
        ctypes.CDLL(None).signal(sigpipe, ctypes.c_void_p(1))  # SIG_IGN, from any thread


def _run_hxt(coordinates: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """gmsh's raw output (1-based uint64) and HXT's error messages, with gmsh set up for HXT and quiet.

    The error messages have been printed already when there are tetrahedra.
    """
    import gmsh

    with _LOCK, filtered_stderr(DUPLICATE_WARNINGS, hold=[HXT_ERROR]) as pump:
        ours = not gmsh.isInitialized()
        if ours:
            _initialize(gmsh)
        saved = {name: gmsh.option.getNumber(name) for name in ("General.Terminal", "Mesh.Algorithm3D")}
        try:
            gmsh.option.setNumber("General.Terminal", 0)  # delvol reports failures (HXT's own lines: see above)
            gmsh.option.setNumber("Mesh.Algorithm3D", _HXT)
            raw = _tetrahedralize_call(gmsh)(coordinates)
        finally:
            if ours:
                gmsh.finalize()
            else:
                for name, value in saved.items():
                    gmsh.option.setNumber(name, value)
    if pump is None:
        return raw, []
    errors = [line.removeprefix(HXT_ERROR).decode(errors="replace").strip() for line in pump.held]
    if len(raw):  # HXT complained yet gave tetrahedra: no failure to fold its words into
        pump.emit_held()
    return raw, errors


def triangulate(framed: np.ndarray) -> Triangulation:
    """Triangulate with gmsh/HXT: zero-based int32 tetrahedra, no neighbours, no locator."""
    try:
        raw, errors = _run_hxt(np.ascontiguousarray(framed).reshape(-1))
    except Exception as exc:  # gmsh raises bare Exception with its last error message
        raise explain_failure(framed, "gmsh", exc) from exc
    if len(raw) == 0:
        raise explain_failure(framed, "gmsh", RuntimeError(errors[0]) if errors else None)
    # Zero-based int32, stored column by column: the face pass and the per-vertex sums read
    # one vertex of every tetrahedron at a time, which then streams through memory.
    columns = np.empty((4, len(raw) // 4), dtype=np.int32)
    for k in range(4):
        np.subtract(raw[k::4], 1, out=columns[k], casting="unsafe")
    del raw  # the uint64 copy is the largest array of the whole build
    tets = columns.T
    return Triangulation(tetrahedra=tets, neighbors=None, dropped=_dropped(framed, tets))


def _dropped(points: np.ndarray, tets: np.ndarray) -> np.ndarray:
    """The points no tetrahedron uses, each with the nearest vertex (its exact twin)."""
    used = np.zeros(len(points), dtype=bool)
    used[tets.reshape(-1)] = True
    lost = np.flatnonzero(~used)
    if len(lost) == 0:
        return NO_DROPPED
    # An exact twin shares the x coordinate, so a tree over those few kept points finds it
    # without indexing the whole cloud; a point dropped for any other reason falls back to
    # its nearest kept vertex, as Qhull reports it.
    kept = np.flatnonzero(used & np.isin(points[:, 0], points[lost, 0]))
    distance, nearest = cKDTree(points[kept]).query(points[lost]) if len(kept) else (np.inf, None)
    if not np.all(distance == 0):
        kept = np.flatnonzero(used)
        _, nearest = cKDTree(points[kept]).query(points[lost])
    return np.column_stack([lost, kept[nearest]]).astype(np.int64)
