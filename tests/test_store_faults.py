"""The galaxy store under real faults, with real processes.

kill -9 at random points of an ingest and a rerun that resumes; two ingests at once;
readers during an ingest (delvol's own, and a foreign one holding a long read transaction);
the .db file alone complete after the ingest, and opening from read-only media; a disk that
fills up (a small tmpfs, where this machine lets us mount one).
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from galaxy_store import solid_jpeg

from delvol.io.galaxy_store.database import GalaxyStore

pytestmark = pytest.mark.slow

BATCH = 40


def _catalog(folder: Path, ids: range, image_bytes: int = 0) -> tuple[Path, Path]:
    """A sky catalogue of ``ids`` and a folder with one JPEG per galaxy (padded to ``image_bytes``)."""
    folder.mkdir(parents=True, exist_ok=True)
    images = folder / "img"
    images.mkdir(exist_ok=True)
    jpeg = solid_jpeg((200, 40, 40), size=16)
    padded = jpeg[:2] + b"\xff\xfe" + (image_bytes + 2).to_bytes(2, "big") + b"\0" * image_bytes + jpeg[2:]
    rng = random.Random(ids.start)
    lines = ["objid,ra,dec,z"]
    for i in ids:
        (images / f"{i}.jpg").write_bytes(padded if image_bytes else jpeg)
        lines.append(f"{i},{rng.uniform(0, 40)},{rng.uniform(-20, 20)},{rng.uniform(0.01, 0.1)}")
    catalog = folder / f"cat{ids.start}.csv"
    catalog.write_text("\n".join(lines) + "\n")
    return catalog, images


def _ingest_argv(catalog: Path, db: Path, images: Path) -> list[str]:
    return [sys.executable, "-m", "delvol", "store", "ingest", str(catalog), "-o", str(db), "--images", str(images),
            "--batch", str(BATCH)]  # fmt: skip


def _check(db: Path) -> tuple[int, int]:
    """Galaxies and images in a sound store in which every galaxy written has its image."""
    with GalaxyStore(db) as store:
        assert store.integrity_check() == ["ok"]
        assert store.count_without_image() == 0
        return len(store), len(store.image_objids())


def test_kill_9_at_random_points_then_resume(tmp_path):
    n = 4000
    catalog, images = _catalog(tmp_path / "in", range(n))
    db = tmp_path / "s.db"
    rng = random.Random(7)
    counts = []
    for target in sorted(rng.sample(range(BATCH, n * 3 // 4), 4)):
        process = subprocess.Popen(_ingest_argv(catalog, db, images), stdout=subprocess.DEVNULL)
        while process.poll() is None and _galaxies(db) < target:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))  # anywhere: between batches, inside one, in a checkpoint
        process.kill()
        process.wait()
        galaxies, with_images = _check(db)
        assert galaxies == with_images and galaxies % BATCH == 0  # whole batches only
        counts.append(galaxies)
    result = subprocess.run(_ingest_argv(catalog, db, images), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert _check(db) == (n, n)
    with GalaxyStore(db) as store:
        assert store.meta["ingest_finished"]
    assert counts == sorted(counts) and counts[0] > 0  # each rerun resumed where the last stopped
    assert sum(count < n for count in counts) >= 3  # and was killed midway (a busy machine may overshoot)
    assert not _wal_pending(db)


def _galaxies(db: Path) -> int:
    """Galaxies committed so far, read in one short transaction (0 before the store exists)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM galaxies").fetchone()[0]
    except sqlite3.OperationalError:  # the tables are not made yet
        return 0
    finally:
        conn.close()


def test_concurrent_ingests_both_finish(tmp_path):
    first = _catalog(tmp_path / "a", range(0, 500))
    second = _catalog(tmp_path / "b", range(500, 1000))
    db = tmp_path / "s.db"
    processes = [subprocess.Popen(_ingest_argv(*pair[:1], db, pair[1]), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for pair in (first, second)]  # fmt: skip
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    assert _check(db) == (1000, 1000)


READER = """
import sys, time
from delvol.io.galaxy_store.database import GalaxyStore
end = time.monotonic() + float(sys.argv[2])
reads = 0
while time.monotonic() < end:
    with GalaxyStore(sys.argv[1]) as store:
        len(store); store.image_objids(); reads += 1
    time.sleep(0.01)
print(reads)
"""


def test_readers_never_fail_an_ingest_and_the_db_alone_is_complete(tmp_path):
    n = 1000
    catalog, images = _catalog(tmp_path / "in", range(n))
    db = tmp_path / "s.db"
    # A store at rest, then a foreign reader holding a read transaction open throughout.
    seed_catalog, seed_images = _catalog(tmp_path / "seed", range(n, n + 10))
    subprocess.run(_ingest_argv(seed_catalog, db, seed_images), check=True, stdout=subprocess.DEVNULL)
    foreign = sqlite3.connect(db, isolation_level=None)
    foreign.execute("BEGIN")
    assert foreign.execute("SELECT count(*) FROM galaxies").fetchone() == (10,)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), "8"], stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    result = subprocess.run(_ingest_argv(catalog, db, images), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "still in s.db-wal" in result.stdout  # the foreign snapshot kept the log from being folded
    foreign.execute("COMMIT")
    foreign.close()
    assert int(reader.communicate(timeout=120)[0]) > 10
    assert time.monotonic() - started < 120
    # The foreign reader was the last one; delvol's reader process has finished too.
    assert not _wal_pending(db)
    copy = tmp_path / "copy" / "s.db"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)
    assert _check(copy) == (n + 10, n + 10)


def test_db_is_complete_while_delvol_readers_keep_it_open(tmp_path):
    n = 600
    catalog, images = _catalog(tmp_path / "in", range(n))
    db = tmp_path / "s.db"
    subprocess.run(_ingest_argv(catalog, db, images), check=True, stdout=subprocess.DEVNULL, timeout=600)
    extra_catalog, extra_images = _catalog(tmp_path / "more", range(n, 2 * n))
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), "15"], stdout=subprocess.PIPE, text=True)
    result = subprocess.run(_ingest_argv(extra_catalog, db, extra_images), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and "still in" not in result.stdout, result.stdout + result.stderr
    # Copy the .db alone while the reader still has the store open.
    assert reader.poll() is None, "the reader finished before the ingest"
    copy = tmp_path / "media" / "s.db"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)
    reader.communicate(timeout=120)
    assert _check(copy) == (2 * n, 2 * n)
    # The copy on read-only media opens (SQLite cannot create the -shm file there).
    if subprocess.run(["mount", "--bind", "-o", "ro", copy.parent, copy.parent], capture_output=True).returncode:
        pytest.skip("cannot mount a read-only folder on this machine")
    try:
        assert _check(copy) == (2 * n, 2 * n)
        assert sorted(os.listdir(copy.parent)) == ["s.db"]
    finally:
        subprocess.run(["umount", copy.parent], check=True)


def test_disk_full_is_reported_and_a_rerun_resumes(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", disk], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        n = 800
        catalog, images = _catalog(tmp_path / "in", range(n), image_bytes=8000)  # ~6.5 MB of images
        db = disk / "s.db"
        result = subprocess.run(_ingest_argv(catalog, db, images), capture_output=True, text=True, timeout=600)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [result.stderr.strip()] and "Traceback" not in result.stderr
        assert f"{db}: disk full" in result.stderr and "no transaction" not in result.stderr
        galaxies, _ = _check(db)
        assert 0 < galaxies < n and galaxies % BATCH == 0
        subprocess.run(["mount", "-o", "remount,size=64m", disk], check=True)
        result = subprocess.run(_ingest_argv(catalog, db, images), capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        assert _check(db) == (n, n)
    finally:
        subprocess.run(["umount", "-l", disk], check=False)


def _wal_pending(db: Path) -> bool:
    wal = db.with_name(db.name + "-wal")
    return wal.exists() and wal.stat().st_size > 0
