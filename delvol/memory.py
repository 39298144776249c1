"""Memory guards: refuse, with one line, an allocation that cannot fit before attempting it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from delvol.errors import DelvolError

QHULL_BYTES_PER_POINT = 2400
"""Peak memory of a Qhull tessellation per input point (measured: about 2.4 kB)."""
FRAME_BYTES_PER_PIXEL = 16
"""Peak bytes per rendered pixel: the float32 RGB frame plus its 8-bit copy and slack."""


def peak_rss() -> int:
    """This process's peak resident memory in bytes, since it started its program.

    Linux's ``VmHWM``, not ``ru_maxrss``: the latter carries over ``exec`` from the parent,
    so a child of a big process would report at least the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
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
