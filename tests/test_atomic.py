"""Atomic output: nothing half-written, ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from delvol.atomic import atomic_path


def test_success_moves_into_place_with_umask_permissions(tmp_path):
    dest = tmp_path / "out.txt"
    with atomic_path(dest) as tmp:
        tmp.write_text("done")
        assert not dest.exists()
    assert dest.read_text() == "done"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o666 & ~umask
    assert list(tmp_path.iterdir()) == [dest]


def test_failure_leaves_nothing(tmp_path):
    dest = tmp_path / "out.txt"
    dest.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert dest.read_text() == "old"
    assert list(tmp_path.iterdir()) == [dest]


def test_npy_through_a_memory_map_moves_into_place_whole(tmp_path):
    import numpy as np

    from delvol.atomic import atomic_npy
    from delvol.memory import in_slabs

    dest = tmp_path / "grid.npy"
    with atomic_npy(dest, (5, 3, 2)) as out:
        assert not dest.exists()
        for i, slab in enumerate(in_slabs(out, nbytes=96)):  # two rows a slab: pages dropped between
            slab[...] = i
    np.testing.assert_array_equal(np.load(dest), np.repeat([0, 0, 1, 1, 2], 6).reshape(5, 3, 2))
    assert list(tmp_path.iterdir()) == [dest]


def test_npy_on_a_full_disk_fails_before_any_write(tmp_path, monkeypatch):
    import errno

    from delvol.atomic import atomic_npy

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    dest = tmp_path / "grid.npy"
    with pytest.raises(OSError, match="disk full") as caught, atomic_npy(dest, (1024, 1024, 1024)):
        raise AssertionError("unreachable: the space is reserved first")
    assert caught.value.filename == str(dest)
    assert list(tmp_path.iterdir()) == []


def test_release_pages_keeps_what_was_written(tmp_path):
    import numpy as np

    from delvol.memory import release_pages

    mapped = np.lib.format.open_memmap(tmp_path / "a.npy", mode="w+", shape=(4, 4))
    mapped[1:] = 7.0
    release_pages(mapped[1:])  # a view: its mapping is found through .base
    assert mapped.sum() == 84.0
    private = np.load(tmp_path / "a.npy", mmap_mode="c")
    private[0] = 1.0
    release_pages(private)  # copy-on-write: nothing dropped, the change stays in memory
    assert private[0].sum() == 4.0 and np.load(tmp_path / "a.npy")[0].sum() == 0.0
    release_pages(np.zeros(3))  # an array in memory: nothing to do
