"""Memory guards: refuse, with one line, an allocation that cannot fit before attempting it."""

from __future__ import annotations

import mmap
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError

QHULL_BYTES_PER_POINT = 2400
"""Peak memory of a Qhull tessellation per input point (measured: about 2.4 kB)."""
FRAME_BYTES_PER_PIXEL = 16
"""Peak bytes per rendered pixel: the float32 RGB frame plus its 8-bit copy and slack."""
SLAB_BYTES = 1 << 24
"""Bytes of a slab in :func:`in_slabs`: 16 MiB, small beside any grid worth mapping."""


def proc_status_kb(field: str) -> int | None:
    """A field of ``/proc/self/status`` in kilobytes (``VmHWM``, ``VmRSS``...), or None where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss() -> int:
    """This process's peak resident memory in bytes, since it started its program.

    Linux's ``VmHWM``, not ``ru_maxrss``: the latter carries over ``exec`` from the parent,
    so a child of a big process would report at least the parent's peak.
    """
    peak = proc_status_kb("VmHWM")
    if peak is not None:
        return peak * 1024
    try:
        import resource
    except ImportError:  # Windows
        return 0
    scale = 1 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def available_memory() -> int:
    """Bytes of memory available to a new allocation without swapping.

    Linux's ``MemAvailable`` (page cache that can be dropped included), else free physical
    memory; a cgroup limit (a container or a batch job's allocation) lowers it.
    """
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available = 2**62  # no way to tell: do not refuse
    return min(available, _cgroup_room())


def _cgroup_room() -> int:
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as fh:
            limit = fh.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as fh:
            used = int(fh.read().strip())
    except (OSError, ValueError):
        return 2**62
    return 2**62 if limit == "max" else max(0, int(limit) - used)


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest unit that keeps a number of at least 1 (``"3.2 GB"``)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def require_memory(nbytes: float, what: str, path: str | os.PathLike | None = None) -> None:
    """Raise a one-line :class:`DelvolError` when ``nbytes`` exceed the available memory.

    Parameters
    ----------
    nbytes : float
        What the allocation needs.
    what : str
        What is being allocated, for the message (``"a 5000x5000x5000 float64 grid"``).
    path : str or os.PathLike, optional
        The file the request comes from.
    """
    room = available_memory()
    if nbytes > room:
        raise DelvolError(f"{what} needs {format_bytes(nbytes)}, more than the {format_bytes(room)} available", path)


def tessellation_memory(n_points: int, periodic: bool) -> int:
    """Predicted peak bytes of tessellating ``n_points`` (periodic padding about doubles the points)."""
    return int(n_points * QHULL_BYTES_PER_POINT * (2 if periodic else 1))


def tessellation_warning(n_points: int, periodic: bool, room: int) -> str | None:
    """A one-line warning when tessellating ``n_points`` may not fit in ``room`` bytes, else None."""
    needed = tessellation_memory(n_points, periodic)
    if needed <= room:
        return None
    padding = ", doubled by the periodic padding" if periodic else ""
    return (
        f"tessellating {n_points:,} points may need {format_bytes(needed)} "
        f"(about {QHULL_BYTES_PER_POINT / 1000:.1f} kB per point{padding}), "
        f"more than the {format_bytes(room)} available; --blocks N builds it in blocks on Dask"
    )


def require_frame_memory(size: tuple[int, int], supersample: int) -> None:
    """Refuse a frame whose float image (the size times ``supersample`` squared) cannot fit in memory.

    Frames larger than the GL limits are rendered in tiles, so memory is the only bound.
    """
    width, height = size
    pixels = float(width) * height * supersample**2
    require_memory(pixels * FRAME_BYTES_PER_PIXEL, f"a {width}x{height} frame at --supersample {supersample}")


def release_pages(array: np.ndarray) -> None:
    """Write a memory-mapped array's changes to its file and drop its pages from this process.

    Every page of a shared mapping that was touched counts in the process's resident
    memory until the mapping closes, so a grid filled through a memory map would end up
    resident whole. Dropped pages stay in the file and are read back when next touched.
    An array in memory, or a copy-on-write map (whose changes live only in its pages), is
    left as it is.

    Parameters
    ----------
    array : ndarray
        A :class:`numpy.memmap`, a view of one, or any other array.
    """
    base: object = array
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap) and base.mode == "c":
            return
        base = base.base
    if isinstance(base, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):  # not on Windows
        base.flush()
        base.madvise(mmap.MADV_DONTNEED)


def in_slabs(array: np.ndarray, nbytes: int = SLAB_BYTES) -> Iterator[np.ndarray]:
    """Views of ``array`` along its first axis, about ``nbytes`` each; a map's pages dropped after each.

    For filling or reading a memory-mapped array larger than memory: the process holds
    one slab's pages at a time (see :func:`release_pages`).

    Parameters
    ----------
    array : ndarray
    nbytes : int

    Yields
    ------
    ndarray
        ``array[start:stop]``, a view: writes to it reach ``array``.
    """
    row = max(1, array[:1].nbytes)
    step = max(1, nbytes // row)
    for start in range(0, len(array), step):
        yield array[start : start + step]
        release_pages(array)
