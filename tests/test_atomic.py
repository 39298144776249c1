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
