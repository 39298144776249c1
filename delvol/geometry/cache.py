"""Save and load tessellations as .npz files (no pickles), and the on-disk cache.

The export written by ``delvol tessellate`` and the cache entries share one format: the
arrays of :data:`~delvol.geometry.tessellation.ARRAY_KEYS`, plus ``origin``, the periodic
box, and the build options as a JSON string.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from delvol import __version__
from delvol.atomic import atomic_path
from delvol.errors import DelvolError
from delvol.geometry.engines import resolve_engine
from delvol.geometry.tessellation import ARRAY_KEYS, Tessellation, tessellate
from delvol.progress import QUIET, StageLog

CACHE_FORMAT = 5
"""Bumped whenever the tessellation arrays change meaning, so stale cache entries miss."""

_DTYPES = {
    "points": np.float64,
    "masses": np.float64,
    "tetrahedra": np.int32,
    "neighbors": np.int32,
    "faces": np.int32,
    "tet_volume": np.float64,
    "cell_volume": np.float64,
    "density": np.float64,
    "hull": np.bool_,
    "buffer": np.bool_,
    "origin": np.int64,
}


def save_tessellation(
    tess: Tessellation,
    path: str | os.PathLike,
    extra: dict[str, np.ndarray] | None = None,
    *,
    derive: bool = True,
) -> None:
    """Write ``tess`` to an uncompressed .npz, atomically.

    Uncompressed because loading must be much faster than rebuilding: the cache exists to
    skip a Qhull run that takes a minute per million points. ``extra`` arrays (per-vertex
    fields, for ``delvol tessellate --field``) are written beside the tessellation's own.
    ``derive=False`` (the cache) leaves out a neighbour table that the engine did not give,
    rather than derive it.
    """
    arrays: dict[str, np.ndarray] = {**(extra or {})}
    arrays.update({key: np.asarray(value, dtype=_DTYPES[key]) for key, value in tess.arrays(derive=derive).items()})
    arrays["box_size"] = np.array(np.nan if tess.box_size is None else tess.box_size)
    arrays["box_lower"] = np.full(3, np.nan) if tess.box_lower is None else np.asarray(tess.box_lower)
    arrays["info"] = np.array(json.dumps(tess.info))
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub fears a key named allow_pickle


def load_tessellation(path: str | os.PathLike) -> Tessellation:
    """Read a tessellation written by :func:`save_tessellation`.

    Raises
    ------
    DelvolError
        If the file is not such an .npz.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in (*ARRAY_KEYS, "origin", "info") if k not in data.files and k != "neighbors"]
            if missing:
                raise DelvolError(f"not a delvol tessellation (missing {', '.join(missing)})", path)
            # Only neighbors may be missing (None: derived on first use).
            arrays: dict[str, Any] = {key: data[key] if key in data.files else None for key in _DTYPES}
            box_size = float(data["box_size"])
            box_lower = data["box_lower"]
            info = json.loads(str(data["info"]))
    except (OSError, ValueError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        if isinstance(exc, DelvolError):
            raise
        raise DelvolError(f"cannot read tessellation ({exc})", path) from exc
    check_arrays(arrays, path)
    periodic = np.isfinite(box_size)
    return Tessellation(
        **arrays,
        box_size=box_size if periodic else None,
        box_lower=box_lower if periodic else None,
        info=info,
    )


def check_arrays(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> None:
    """Check a loaded tessellation cheaply: shapes, index ranges, finite values.

    One pass of min/max over each array, far cheaper than the rebuild it guards; a damaged
    or forged file would otherwise crash the renderer (an index out of range) or draw
    nonsense (NaN densities).

    Raises
    ------
    DelvolError
        Naming ``path`` and the first problem found.
    """
    n, t = len(arrays["points"]), len(arrays["tetrahedra"])
    shapes = {
        "points": (n, 3),
        "masses": (n,),
        "cell_volume": (n,),
        "density": (n,),
        "hull": (n,),
        "buffer": (n,),
        "origin": (n,),
        "tetrahedra": (t, 4),
        "neighbors": (t, 4),
        "tet_volume": (t,),
        "faces": (len(arrays["faces"]), 3),
    }
    # A fast engine's cache entry has no neighbour table: it is derived only when asked for.
    present = {key for key, value in arrays.items() if value is not None}
    for key, shape in shapes.items():
        if key in present and arrays[key].shape != shape:
            raise DelvolError(f"damaged tessellation: {key} has shape {arrays[key].shape}, expected {shape}", path)
    ranges = {"tetrahedra": (0, n), "faces": (0, n), "origin": (0, n), "neighbors": (-1, t)}
    for key, (lo, hi) in ranges.items():
        values = arrays[key]
        if key in present and values.size and (values.min() < lo or values.max() >= hi):
            raise DelvolError(f"damaged tessellation: {key} holds indices outside [{lo}, {hi})", path)
    for key in ("points", "masses", "tet_volume", "cell_volume", "density"):
        bad = arrays[key].size - np.count_nonzero(np.isfinite(arrays[key]))
        if bad:
            raise DelvolError(f"damaged tessellation: {bad:,} {key} values are not finite", path)


def cache_dir() -> Path:
    """The cache folder: ``$DELVOL_CACHE_DIR``, else the platform's user cache dir."""
    env = os.environ.get("DELVOL_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("delvol"))


def cache_key(points: np.ndarray, masses: np.ndarray | None, options: dict[str, Any]) -> str:
    """Content hash of the inputs, the build options, the delvol version and the cache format.

    ``options`` should name the engine that will run, not ``auto``, which could pick another
    one once an engine is installed; :func:`cached_tessellate` resolves it.
    """
    h = hashlib.blake2b(digest_size=20)
    h.update(json.dumps({"version": __version__, "format": CACHE_FORMAT, **options}, sort_keys=True).encode())
    h.update(np.ascontiguousarray(points, dtype=np.float64).tobytes())
    if masses is not None:
        h.update(b"masses")
        h.update(np.ascontiguousarray(masses, dtype=np.float64).tobytes())
    return h.hexdigest()


def cached_tessellate(
    points: np.ndarray,
    masses: np.ndarray | None = None,
    *,
    use_cache: bool = True,
    log: StageLog = QUIET,
    **options: Any,
) -> Tessellation:
    """:func:`~delvol.geometry.tessellate`, reusing a cached result for identical input.

    Parameters
    ----------
    points, masses
        As for :func:`~delvol.geometry.tessellate`.
    use_cache : bool
        False skips the cache entirely (neither read nor written).
    log : StageLog
    **options
        Keyword options of :func:`~delvol.geometry.tessellate`; they are part of the key,
        with ``engine`` resolved to the engine that runs.
    """
    options["engine"] = resolve_engine(options.get("engine", "auto"))
    if not use_cache:
        return tessellate(points, masses, log=log, **options)
    with log.stage("cache lookup"):
        path = cache_dir() / f"{cache_key(points, masses, options)}.npz"
        if path.exists():
            try:
                tess = load_tessellation(path)
                tess.info["cache"] = str(path)
                return tess
            except DelvolError as exc:
                log.note(f"discarded a damaged cache entry and rebuilding it ({exc.problem})")
                path.unlink(missing_ok=True)
    tess = tessellate(points, masses, log=log, **options)
    with log.stage("cache write"):
        try:
            save_tessellation(tess, path, derive=False)
        except OSError:
            pass  # a read-only or full cache folder must not stop the work
    return tess


def clear_cache() -> tuple[int, int]:
    """Delete every cache entry; return how many files and bytes were removed."""
    count = size = 0
    folder = cache_dir()
    if folder.is_dir():
        for entry in folder.glob("*.npz"):
            size += entry.stat().st_size
            entry.unlink()
            count += 1
    return count, size
