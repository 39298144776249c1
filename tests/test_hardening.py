"""Regression tests for the defects of issue 9 that the hostile corpus does not cover.

Each test names its defect number. The corpus (tests/hostile) covers the rest: device and
FIFO outputs (1), stored formats that would escape the target folder (2), size guards (5),
HDF5 link loops (8), leaking warnings (9) and out-of-range declinations (11).
"""

from __future__ import annotations

import errno
import io
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE
from galaxy_store import build_store, solid_jpeg
from PIL import Image

from delvol.atomic import atomic_path
from delvol.cli import build_parser, main
from delvol.cli.argv import normalise_argv
from delvol.errors import DelvolError
from delvol.geometry.cache import cache_dir, load_tessellation, save_tessellation
from delvol.io import load_points
from delvol.io.galaxy_store.database import GalaxyStore
from delvol.io.sky import sky_to_cartesian
from delvol.memory import QHULL_BYTES_PER_POINT, format_bytes


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """500 random points: quick to tessellate on a busy machine."""
    path = tmp_path_factory.mktemp("small") / "small.npy"
    np.save(path, np.random.default_rng(9).random((500, 3)) * 100)
    return path


def _one_error_line(capsys, argv: list[str], *fragments: str) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


# 1, 10: the atomic output helper ---------------------------------------------------------
def test_1_output_onto_dev_null_leaves_the_device(capsys):
    before = os.stat(os.devnull)
    _one_error_line(capsys, ["tessellate", str(SAMPLE), "-o", os.devnull], os.devnull, "not a regular file")
    after = os.stat(os.devnull)
    assert after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


def test_10_disk_full_names_the_output_not_the_temporary_file(tmp_path):
    dest = tmp_path / "t.npz"
    with pytest.raises(OSError) as info, atomic_path(dest) as tmp:
        tmp.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert info.value.filename == str(dest) and info.value.strerror == "disk full"
    assert list(tmp_path.iterdir()) == []


def test_10_write_errors_name_the_output(tmp_path, capsys, monkeypatch, small):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".g.npy.abcd1234.npy"))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    err = _one_error_line(capsys, ["grid", str(small), "--shape", "4", "-o", str(tmp_path / "g.npy")])
    assert f"{tmp_path / 'g.npy'}: Permission denied" in err and ".g.npy." not in err


def test_10_read_only_folder_names_the_output(tmp_path, capsys, small):
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", folder, folder], capture_output=True).returncode == 0
    if not mounted and os.geteuid() == 0:
        pytest.skip("root ignores permissions and cannot mount a read-only folder here")
    if not mounted:
        folder.chmod(0o555)
    try:
        out = folder / "t.npz"
        err = _one_error_line(capsys, ["tessellate", str(small), "-o", str(out)], f"{out}: ")
        assert f"{out}: " in err and ".t.npz." not in err
    finally:
        if mounted:
            subprocess.run(["umount", folder], check=True)
        folder.chmod(0o755)


# 5: the memory warning before a tessellation -------------------------------------------
@pytest.mark.parametrize("periodic", [False, True])
def test_5_tessellation_memory_is_predicted(tmp_path, capsys, monkeypatch, periodic):
    points = np.random.default_rng(0).random((300, 3)) * 10
    source = tmp_path / "p.npz"
    np.savez(source, pos=points, box_size=10.0)
    monkeypatch.setattr("delvol.scene.description.available_memory", lambda: 1000)
    assert main(["info", str(source), *(["--periodic"] if periodic else [])]) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    predicted = 300 * QHULL_BYTES_PER_POINT * (2 if periodic else 1)
    assert len(warning) == 1 and f"may need {format_bytes(predicted)}" in warning[0]
    assert ("doubled" in warning[0]) == periodic


# 6: a DISPLAY that points nowhere ------------------------------------------------------
@pytest.mark.parametrize("display", [":77", "nohost.invalid:0"])
def test_6_missing_x_server_is_one_line(capsys, monkeypatch, display):
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    _one_error_line(capsys, ["view", str(SAMPLE)], "no display", display)


# 7: text variants ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, header, sep, encoding",
    [
        ("bom.csv", "x,y,z", ",", "utf-8-sig"),
        ("tabs.tsv", "x\ty\tz", "\t", "utf-8"),
        ("tabs-no-header.tsv", None, "\t", "utf-8"),
        ("bom-tabs.tsv", "x\ty\tz", "\t", "utf-8-sig"),
        ("spaces.txt", "x   y z", "  \t ", "utf-8"),
        ("bom-spaces.txt", None, " ", "utf-8-sig"),
    ],
)
def test_7_common_text_variants_read(tmp_path, name, header, sep, encoding):
    points = np.random.default_rng(3).random((40, 3))
    lines = [sep.join(repr(v) for v in row) for row in points.tolist()]
    path = tmp_path / name
    path.write_text("\n".join(([header] if header else []) + lines) + "\n", encoding=encoding)
    np.testing.assert_array_equal(load_points(path).positions, points)


# 9: warnings are captured at the command line, not switched off in the library ---------
def test_9_cli_leaves_the_warning_filters_as_they_were(small):
    before = list(warnings.filters)
    assert main(["info", str(small)]) == 0
    assert warnings.filters == before
    with pytest.warns(RuntimeWarning):
        np.nanmax(np.full(3, np.nan))  # the library's callers still see warnings


# 11: right ascension wraps, declination does not ------------------------------------------
def test_11_ra_wraps_modulo_360():
    a = sky_to_cartesian(np.array([370.0, -350.0]), np.array([20.0, 20.0]), np.array([0.1, 0.1]))
    b = sky_to_cartesian(np.array([10.0, 10.0]), np.array([20.0, 20.0]), np.array([0.1, 0.1]))
    np.testing.assert_allclose(a, b, rtol=1e-12)
    with pytest.raises(ValueError, match=r"dec = 95 at row 1"):
        sky_to_cartesian(np.array([1.0, 2.0]), np.array([0.0, 95.0]), np.array([0.1, 0.1]))


def test_11_ingest_drops_declinations_beyond_the_poles(tmp_path, capsys):
    catalog = tmp_path / "c.csv"
    catalog.write_text("objid,ra,dec,z\n1,370,20,0.1\n2,11,95,0.2\n3,12,-200,0.05\n4,13,4,0.07\n")
    assert main(["store", "ingest", str(catalog), "-o", str(tmp_path / "s.db")]) == 0
    assert "bad ra/dec/z  2 (e.g. 2, 3)" in capsys.readouterr().out
    with GalaxyStore(tmp_path / "s.db") as store:
        assert store.objids().tolist() == [1, 4]
        assert store.column("ra").tolist() == [10.0, 13.0]


# 12: cache entries are checked ----------------------------------------------------------
@pytest.mark.parametrize("damage", ["faces", "density", "shape"])
def test_12_damaged_cache_entry_is_rebuilt_with_a_note(capsys, damage, tmp_path, monkeypatch, small):
    monkeypatch.setenv("DELVOL_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["info", str(small)]) == 0
    (entry,) = cache_dir().glob("*.npz")
    good = load_tessellation(entry)
    bad = load_tessellation(entry)
    if damage == "faces":
        bad.faces[5, 1] = len(bad.points) + 7
    elif damage == "density":
        bad.density[:] = np.nan
    else:
        bad.tet_volume = bad.tet_volume[:-1]
    with pytest.raises(DelvolError, match="damaged tessellation"):
        save_tessellation(bad, entry) or load_tessellation(entry)
    capsys.readouterr()
    assert main(["info", str(small)]) == 0
    err = capsys.readouterr().err
    assert err.count("discarded a damaged cache entry") == 1
    np.testing.assert_array_equal(load_tessellation(entry).faces, good.faces)


# 13: the smaller ones ----------------------------------------------------------------------
def test_13_strict_says_why_on_stderr(tmp_path, capsys):
    images = tmp_path / "img"
    images.mkdir()
    (images / "1.jpg").write_bytes(solid_jpeg((255, 0, 0)))
    (images / "2.jpg").write_bytes(b"\xff\xd8 truncated")
    catalog = tmp_path / "c.csv"
    catalog.write_text("objid,ra,dec,z\n1,10,20,0.1\n2,11,21,0.2\n")
    argv = ["store", "ingest", str(catalog), "-o", str(tmp_path / "s.db"), "--images", str(images), "--strict"]
    _one_error_line(capsys, argv, "--strict", "2.jpg")


def test_13_export_then_ingest_keeps_every_image_format(tmp_path):
    db = build_store(tmp_path / "a", {1: solid_jpeg((255, 0, 0)), 2: solid_jpeg((0, 255, 0))})
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 255)).save(png, format="PNG")
    with GalaxyStore(db, "a") as store:
        store._conn.execute(
            "UPDATE images SET img = ?, format = 'PNG', width = 8, height = 8 WHERE objid = 2", (png.getvalue(),)
        )
    assert main(["store", "export", str(db), str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["1.jpg", "2.png", "catalog.csv"]
    again = tmp_path / "again.db"
    argv = [
        "store",
        "ingest",
        str(tmp_path / "out" / "catalog.csv"),
        "-o",
        str(again),
        "--images",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 0
    with GalaxyStore(db) as a, GalaxyStore(again) as b:
        assert list(a.iter_images()) == list(b.iter_images())


def test_13_render_into_missing_folders_says_so(tmp_path, capsys, small):
    out = tmp_path / "new" / "deeper" / "r.png"
    assert main(["render", str(small), "-o", str(out), "--size", "32x24"]) == 0
    err = capsys.readouterr().err
    assert f"note: creating folder {out.parent}" in err and out.is_file()


def test_13_thumbnail_failures_are_reported_once(tmp_path, capsys):
    db = build_store(tmp_path / "s", {i: solid_jpeg((255, 0, 0)) for i in range(1, 9)})
    with GalaxyStore(db, "a") as store:
        store._conn.execute("UPDATE images SET img = substr(img, 1, 100) WHERE objid IN (3, 5)")
    capsys.readouterr()
    assert main(["render", str(db), "--sprites", "-o", str(tmp_path / "r.png"), "--size", "64x48"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "placeholders" in line]
    assert len(lines) == 1 and "2 thumbnails drawn as placeholders" in lines[0]


@pytest.mark.slow
def test_13_sigterm_during_fly_removes_the_temporary_movie_and_stops_ffmpeg(tmp_path, small):
    out = tmp_path / "out"
    out.mkdir()
    argv = ["fly", str(small), "-o", str(out / "m.mp4"), "--size", "64x48", "--duration", "600", "--fps", "30"]
    process = subprocess.Popen([sys.executable, "-m", "delvol", *argv], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".m.mp4.*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    temporary = list(out.glob(".m.mp4.*"))
    assert temporary, "the movie never started"
    while not (ffmpeg := _processes_writing(temporary[0])) and time.monotonic() < deadline:
        time.sleep(0.05)  # the temporary file is made before ffmpeg starts
    assert ffmpeg
    time.sleep(0.5)  # some frames into the encoder
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert err.strip().splitlines()[-1] == "delvol: terminated"
    assert list(out.iterdir()) == []
    for pid in ffmpeg:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def _processes_writing(path: Path) -> list[int]:
    """Ids of the processes whose command line names ``path``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(path).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


# 14: argparse pitfalls ---------------------------------------------------------------------
def test_14_periodic_without_a_value_before_the_file(tmp_path, capsys):
    points = np.random.default_rng(2).random((200, 3)) * 50
    source = tmp_path / "box.npz"
    np.savez(source, pos=points, box_size=50.0)
    assert main(["info", "--periodic", str(source)]) == 0
    assert "periodic box 50" in capsys.readouterr().out
    assert main(["info", "--periodic", "50", str(source)]) == 0
    assert "periodic box 50" in capsys.readouterr().out


def test_14_view_minus_z_as_written(tmp_path, small):
    images = {}
    for argv in (["--view", "-z"], ["--view=-z"]):
        out = tmp_path / f"{len(images)}.png"
        assert main(["render", str(small), "-o", str(out), "--size", "48x32", *argv]) == 0
        images[tuple(argv)] = np.asarray(Image.open(out))
    first, second = images.values()
    np.testing.assert_array_equal(first, second)


def test_14_normalise_argv_only_touches_what_argparse_would_misread():
    parser = build_parser()
    assert normalise_argv(parser, ["info", "--periodic", "f.hdf5"]) == ["info", "f.hdf5", "--periodic"]
    assert normalise_argv(parser, ["info", "--periodic", "7", "f.hdf5"]) == ["info", "--periodic", "7", "f.hdf5"]
    assert normalise_argv(parser, ["info", "f", "--periodic", "nan"]) == ["info", "f", "--periodic", "nan"]
    assert normalise_argv(parser, ["render", "f", "--view", "-z"]) == ["render", "f", "--view=-z"]
    assert normalise_argv(parser, ["render", "f", "--azimuth", "-30"]) == ["render", "f", "--azimuth", "-30"]
    assert normalise_argv(parser, ["info", "--", "--periodic"]) == ["info", "--", "--periodic"]


# 3: the last delvol reader to close folds what an ingest could not -------------------------
def test_3_last_reader_to_close_folds_the_log(tmp_path, monkeypatch):
    from delvol.io.galaxy_store import schema as store_schema

    monkeypatch.setattr(store_schema, "FOLD_TIMEOUT_S", 0.2)
    db = tmp_path / "w.db"
    wal = tmp_path / "w.db-wal"
    writer = GalaxyStore(db, "a")
    writer.prepare("INTEGER", {}, {})
    reader = GalaxyStore(db)
    with reader.snapshot():  # held across the whole write, as a foreign reader might
        assert len(reader) == 0  # the snapshot starts with the first read
        writer.write_batch(["objid", "ra", "dec", "redshift"], [(i, 1.0, 2.0, 0.1) for i in range(500)], [])
        assert not writer.fold()
        writer.close()
        assert wal.stat().st_size > 0
    reader.close()
    assert not wal.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["w.db"]
    with GalaxyStore(db) as store:
        assert len(store) == 500
