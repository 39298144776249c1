"""Write output files so that an interrupted run never leaves a half-written file.

Every command that writes a file goes through :func:`atomic_path`. It writes a hidden
temporary file beside the destination and renames it into place, so the destination is
either the old file or the whole new one. A destination that exists but is not a regular
file (``/dev/null``, a FIFO, a socket, a folder) is refused rather than replaced: a rename
would swap the device node for a plain file, which as root destroys ``/dev/null``. Errors
name the destination the user asked for, never the temporary file.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from delvol.errors import DelvolError


def check_destination(path: str | os.PathLike) -> bool:
    """Refuse a destination that cannot be replaced by a regular file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    bool
        Whether the destination's folder is missing (:func:`atomic_path` creates it).

    Raises
    ------
    DelvolError
        Naming ``path``: it is a folder, a device, a FIFO or a socket, or lies under a
        file that is not a folder.
    """
    dest = Path(path)
    try:
        mode = dest.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # ENOTDIR: a parent is a file; ELOOP: a symlink loop
        raise DelvolError(f"cannot write here ({exc.strerror or exc})", dest) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise DelvolError("is a folder; name the output file", dest)
    if mode is not None and not stat.S_ISREG(mode):
        raise DelvolError("not a regular file (a device, FIFO or socket); delvol writes only regular files", dest)
    for parent in dest.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise DelvolError(f"cannot write here ({parent} is not a folder)", dest)
            return parent != dest.absolute().parent
    return True


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` and move it into place on success.

    The temporary file lives in the destination folder (created if missing) so that the
    final ``os.replace`` is atomic. On any exception (including KeyboardInterrupt) it is
    removed and the destination is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The final destination; it must be absent or a regular file.
    suffix : str, optional
        Suffix for the temporary file; defaults to the destination's, because some writers
        (NumPy, Pillow, ffmpeg) pick their format from it.

    Raises
    ------
    DelvolError
        The destination is not a regular file (see :func:`check_destination`).
    OSError
        Writing failed (no permission, disk full, ...); its ``filename`` is ``path``.
    """
    dest = Path(path)
    check_destination(dest)
    tmp_path = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=dest.suffix if suffix is None else suffix, dir=dest.parent
        )
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        # mkstemp creates the file private (0600); give it the permissions open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        check_destination(dest)  # it may have become a device or folder while we wrote
        os.replace(tmp_path, dest)
    except OSError as exc:
        raise _naming(exc, dest, tmp_path) from exc
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)


@contextmanager
def atomic_npy(path: str | os.PathLike, shape: tuple[int, ...], dtype: DTypeLike = np.float64) -> Iterator[np.memmap]:
    """Yield a writable memory map of a new ``.npy`` file; it moves into place whole, on success.

    For an array larger than memory, written piece by piece (see
    :func:`delvol.memory.release_pages`). The file's blocks are allocated first, so a full
    disk is an ``OSError`` here rather than a ``SIGBUS`` on a later write into the map.

    Parameters
    ----------
    path : str or os.PathLike
        The final ``.npy`` file, as for :func:`atomic_path`.
    shape : tuple of int
    dtype : dtype, optional

    Raises
    ------
    DelvolError
        The destination is not a regular file.
    OSError
        Writing failed (disk full, ...); its ``filename`` is ``path``.
    """
    with atomic_path(path, suffix=".npy") as tmp:
        array = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        _allocate(tmp)
        yield array


def _allocate(path: Path) -> None:
    """Reserve the disk blocks of ``path``'s whole length (NumPy leaves the file sparse)."""
    if not hasattr(os, "posix_fallocate"):  # macOS, Windows: a full disk shows on writing
        return
    with open(path, "r+b") as fh:
        try:
            os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):  # filesystems that cannot reserve
                raise


@contextmanager
def atomic_folder(path: str | os.PathLike, replaceable: Callable[[Path], bool], kind: str) -> Iterator[Path]:
    """Yield a temporary folder beside ``path`` and move it into place on success.

    As :func:`atomic_path`, for an output of many files (a block folder): on any exception
    the temporary folder is removed and the destination left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The final folder: absent, empty, or one that ``replaceable`` accepts.
    replaceable : callable
        Whether an existing, non-empty folder may be replaced (one this kind of output wrote).
    kind : str
        What the output is, for the refusal (``"delvol block folder"``).

    Raises
    ------
    DelvolError
        The destination is a file, a device, or a folder that is not ``replaceable``.
    OSError
        Writing failed; its ``filename`` is ``path``.
    """
    dest = Path(path)
    if dest.exists() and not (dest.is_dir() and (not any(dest.iterdir()) or replaceable(dest))):
        raise DelvolError(f"exists and is not a {kind}; not replacing it", dest)
    tmp = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        yield tmp
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
            os.replace(dest, old / dest.name)
            os.replace(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dest)
    except OSError as exc:
        raise _naming(exc, dest, tmp) from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _naming(exc: OSError, dest: Path, tmp: Path | None) -> OSError:
    """``exc`` re-made to name ``dest`` where it named the temporary file, or nothing."""
    named = None if exc.filename is None else Path(os.fspath(exc.filename))
    ours = named is None or named == dest.parent or named == tmp
    # mkstemp names a temporary file that was never made, so tmp cannot be compared.
    ours = ours or (named is not None and named.parent == dest.parent and named.name.startswith(f".{dest.name}."))
    if exc.errno is None or not ours:
        return exc
    reason = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else os.strerror(exc.errno)
    return OSError(exc.errno, reason, os.fspath(dest))
