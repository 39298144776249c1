"""The SQLite galaxy store: ingest, reading, export, crash safety and hostile input."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, shared_file
from PIL import Image

from delvol.cli import build_parser, main
from delvol.cli.common import load_options
from delvol.errors import DelvolError
from delvol.io import LoadOptions, load_points
from delvol.io.galaxy_store.database import GalaxyStore, StoredImage, read_store
from delvol.io.galaxy_store.ingest import IngestOptions, ingest
from delvol.io.sky import get_cosmology, sky_to_cartesian
from delvol.io.tables import read_table
from delvol.scene.description import SpriteOptions


def write_catalog(path: Path, ids, extra: dict[str, list] | None = None, seed: int = 0) -> Path:
    """A CSV with objid, ra, dec, redshift for ``ids`` plus ``extra`` columns."""
    rng = np.random.default_rng(seed)
    n = len(ids)
    columns = {
        "objid": list(ids),
        "ra": rng.uniform(0, 360, n).tolist(),
        "dec": rng.uniform(-60, 60, n).tolist(),
        "redshift": rng.uniform(0.01, 0.3, n).tolist(),
        **(extra or {}),
    }
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=True))
    return path


def write_jpegs(folder: Path, ids, size: int = 12, seed: int = 0) -> dict:
    """One small noise JPEG per id, named ``{id}.jpg``; returns id -> bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for objid in ids:
        path = folder / f"{objid}.jpg"
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path, quality=90)
        out[objid] = path.read_bytes()
    return out


def image_count(store: GalaxyStore) -> int:
    return len(store.image_objids())


@pytest.fixture
def small(tmp_path):
    """A 30-galaxy catalogue with integer ids and a JPEG for each."""
    ids = list(range(100, 130))
    images = write_jpegs(tmp_path / "img", ids)
    return write_catalog(tmp_path / "cat.csv", ids), tmp_path / "img", images


# --- real data ------------------------------------------------------------------------


@pytest.mark.real_data
def test_sdss_galaxies_with_composite_ids(tmp_path, capsys):
    csv_path = shared_file("catalogs/sdss_dr14_skyserver_10k.csv")
    db = tmp_path / "sdss.db"
    args = ["store", "ingest", str(csv_path), "-o", str(db), "--where", "class=GALAXY", "--id", "plate,mjd,fiberid"]
    assert main(args) == 0
    assert "10,000 rows, 4,998 selected" in capsys.readouterr().out
    table = read_table(csv_path)
    galaxy = table["class"] == "GALAXY"
    with GalaxyStore(db) as store:
        assert len(store) == 4998 and store.objid_type == "TEXT"
        cat = store.catalog()
    expected_ids = [f"{p}-{m}-{f}" for p, m, f in zip(table["plate"], table["mjd"], table["fiberid"], strict=True)]
    assert cat["objid"].tolist() == [i for i, g in zip(expected_ids, galaxy, strict=True) if g]
    # `redshift` is the redshift; the magnitude `z` is kept as an extra column.
    np.testing.assert_array_equal(cat["redshift"], table["redshift"][galaxy])
    np.testing.assert_array_equal(cat["z"], table["z"][galaxy])
    assert set(cat["class"]) == {"GALAXY"} and cat["plate"].dtype == np.int64
    # A second identical run changes nothing.
    assert main(args) == 0
    with GalaxyStore(db) as store:
        assert len(store) == 4998


@pytest.mark.real_data
def test_vollim_row_number_ids_and_positions(tmp_path):
    fits = shared_file("catalogs/vollim_dr7_cbp_102709.fits")
    db = tmp_path / "vollim.db"
    report = ingest(fits, db, IngestOptions(batch=20_000))
    assert report.n_galaxies == 120_606
    table = read_table(fits)
    direct = sky_to_cartesian(table["ra"], table["dec"], table["z"], "Planck18", "Mpc/h")
    with GalaxyStore(db) as store:
        assert len(store) == 120_606
        np.testing.assert_array_equal(store.objids(), np.arange(120_606))
        np.testing.assert_array_equal(store.catalog()["redshift"], table["z"].astype(np.float64))
        np.testing.assert_array_equal(store.positions(), direct)
        in_mpc = store.positions("WMAP9", "Mpc")
    np.testing.assert_array_equal(in_mpc, sky_to_cartesian(table["ra"], table["dec"], table["z"], "WMAP9", "Mpc"))
    points = read_store(db, LoadOptions())
    np.testing.assert_array_equal(points.positions, direct)
    np.testing.assert_array_equal(points.ids, np.arange(120_606))
    assert points.metadata["format"] == "store" and points.metadata["units"] == "Mpc/h"
    assert points.metadata["cosmology"] == "Planck18" and points.metadata["source"] == str(db)


@pytest.mark.real_data
def test_real_jpegs_come_back_byte_for_byte(tmp_path):
    files = sorted(shared_file("galaxy_jpg/102474.jpg").parent.glob("*.jpg"))
    assert len(files) == 40
    catalog = write_catalog(tmp_path / "cat.csv", [int(f.stem) for f in files])
    db = tmp_path / "g.db"
    report = ingest(catalog, db, IngestOptions(images=files[0].parent, batch=16))
    assert report.n_images == 40 and not report.missing_images and not report.orphan_images
    with GalaxyStore(db) as store:
        for f in files:
            record = store.image_record(f.stem)
            assert record.data == f.read_bytes()
            assert (record.format, record.width, record.height) == ("JPEG", 424, 424)
        assert store.image(files[0].stem).shape == (424, 424, 3)
        batches = list(store.iter_images(batch=16))
    assert [len(b) for b in batches] == [16, 16, 8]
    assert {r.objid: r.data for b in batches for r in b} == {int(f.stem): f.read_bytes() for f in files}


# --- synthetic ------------------------------------------------------------------------


def test_unmatched_rows_and_images_are_reported(small, tmp_path, capsys):
    catalog, folder, images = small
    (folder / "999.jpg").write_bytes(images[100])
    (folder / "README.txt").write_text("not an image")
    (folder / "101.jpg").unlink()
    assert main(["store", "ingest", str(catalog), "-o", str(tmp_path / "s.db"), "--images", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "no image      1 (e.g. 101)" in out
    assert "no galaxy     1 (e.g. 999)" in out
    with GalaxyStore(tmp_path / "s.db") as store:
        assert len(store) == 30 and image_count(store) == 29 and store.count_without_image() == 1


def test_rerun_is_idempotent_and_never_drops_data(tmp_path):
    ids = list(range(60))
    images = write_jpegs(tmp_path / "img", ids)
    first = write_catalog(tmp_path / "a.csv", ids[:40])
    second = write_catalog(tmp_path / "b.csv", ids[20:], seed=1)
    db = tmp_path / "s.db"
    options = IngestOptions(images=tmp_path / "img", batch=7)
    ingest(first, db, options)
    again = ingest(first, db, options)
    assert again.n_images == 0 and again.n_images_kept == 40
    with GalaxyStore(db) as store:
        assert len(store) == 40 and image_count(store) == 40
    ingest(second, db, options)
    with GalaxyStore(db) as store:
        assert len(store) == 60 and image_count(store) == 60
        assert store.objids().tolist() == ids
        assert all(store.image_bytes(i) == images[i] for i in ids)
        # Overlapping rows take the newer catalogue's values.
        assert store.catalog()["ra"][25] == read_table(second)["ra"][5]
        assert store.integrity_check() == ["ok"]


def test_export_reingest_round_trip_with_hostile_column_names(tmp_path):
    ids = [f"g{i}-x" for i in range(12)]
    images = write_jpegs(tmp_path / "img", ids)
    hostile = {
        'say "hi"': [float(i) + 0.1 for i in range(12)],
        "x; DROP TABLE galaxies; --": [f"v{i};'\"" for i in range(12)],
        "with space": list(range(12)),
        "RA": [1.5] * 12,  # clashes with `ra` in SQLite's case-insensitive names
        "rowid": [7] * 12,
    }
    catalog = write_catalog(tmp_path / "cat.csv", ids, hostile)
    db = tmp_path / "s.db"
    where = ["with space=3", "x; DROP TABLE galaxies; --=v3;'\""]
    report = ingest(catalog, tmp_path / "w.db", IngestOptions(where=where))
    assert report.n_galaxies == 1
    with GalaxyStore(tmp_path / "w.db") as store:
        assert store.objids().tolist() == ["g3-x"]
    report = ingest(catalog, db, IngestOptions(images=tmp_path / "img", batch=5))
    assert report.renamed == {"RA": "RA_2", "rowid": "rowid_2"}
    with GalaxyStore(db) as store:
        cat = store.catalog()
        assert list(cat) == [*"objid ra dec redshift".split(), *list(hostile)[:3], "RA_2", "rowid_2"]
        assert cat["ra"].tolist() == read_table(catalog)["ra"].tolist() and set(cat["RA_2"]) == {1.5}
        assert cat["x; DROP TABLE galaxies; --"].tolist() == hostile["x; DROP TABLE galaxies; --"]
        assert cat['say "hi"'].tolist() == hostile['say "hi"']
        assert cat["objid"].tolist() == ids
    assert main(["store", "export", str(db), str(tmp_path / "out")]) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {f"{i}.jpg" for i in ids} | {"catalog.csv"}
    assert all((tmp_path / "out" / f"{i}.jpg").read_bytes() == images[i] for i in ids)
    again = tmp_path / "again.db"
    ingest(tmp_path / "out" / "catalog.csv", again, IngestOptions(images=tmp_path / "out"))
    with GalaxyStore(db) as a, GalaxyStore(again) as b:
        assert list(a.iter_images()) == list(b.iter_images())
        cat_a, cat_b = a.catalog(), b.catalog()
        assert list(cat_a) == list(cat_b)
        for name in cat_a:
            np.testing.assert_array_equal(cat_a[name], cat_b[name])


def test_corrupt_images_are_skipped_and_listed(small, tmp_path, capsys):
    catalog, folder, _ = small
    (folder / "103.jpg").write_bytes(b"this is not an image at all")
    # Cut inside the pixel data: the header still parses, only the end marker is missing.
    whole = write_jpegs(tmp_path / "big", [104], size=96)[104]
    (folder / "104.jpg").write_bytes(whole[: len(whole) * 4 // 5])
    db = tmp_path / "s.db"
    assert main(["store", "ingest", str(catalog), "-o", str(db), "--images", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "unreadable    2 images skipped:" in out
    assert f"{folder / '103.jpg'}: not an image Pillow can identify" in out
    assert f"{folder / '104.jpg'}: truncated JPEG" in out
    with GalaxyStore(db) as store:
        assert len(store) == 30 and image_count(store) == 28
    strict = ["store", "ingest", str(catalog), "-o", str(tmp_path / "t.db"), "--images", str(folder), "--strict"]
    assert main(strict) == 2
    with GalaxyStore(tmp_path / "t.db") as store:
        assert image_count(store) == 28


def _assert_one_line_error(capsys, argv: list[str], *fragments: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("delvol: error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_files_that_are_not_stores(small, tmp_path, capsys):
    catalog, _, _ = small
    good = tmp_path / "good.db"
    ingest(catalog, good)

    text = tmp_path / "notes.db"
    text.write_text("just some text\n" * 100)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE galaxies (objid INTEGER)")
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    future = tmp_path / "future.db"
    future.write_bytes(good.read_bytes())
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    cases = {
        text: "not a SQLite database",
        foreign: "not a delvol galaxy store",
        truncated: "truncated database",
        future: "schema version '99' is unknown",
        tmp_path / "missing.db": "no such file",
    }
    for path, message in cases.items():
        with pytest.raises(DelvolError, match=message) as info:
            GalaxyStore(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
        _assert_one_line_error(capsys, ["store", "info", str(path)], str(path), message)
    # Appending never takes over a file that is not a store.
    for path in (text, foreign, future):
        with pytest.raises(DelvolError):
            ingest(catalog, path)
    with sqlite3.connect(foreign) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("galaxies",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


def test_ids_that_are_not_file_names_are_never_written(tmp_path, capsys, monkeypatch):
    db = tmp_path / "s.db"
    with GalaxyStore(db, "a") as store:
        store.prepare("TEXT", {}, {})
        jpeg = write_jpegs(tmp_path / "img", ["a"])["a"]
        store.write_batch(
            ["objid", "ra", "dec", "redshift"],
            [("ok", 1.0, 2.0, 0.1), ("../evil", 1.0, 2.0, 0.1)],
            [StoredImage("ok", jpeg, "JPEG", 12, 12), StoredImage("../evil", jpeg, "JPEG", 12, 12)],
        )
    _assert_one_line_error(capsys, ["store", "export", str(db), str(tmp_path / "out")], "'../evil' cannot be")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.jpg").exists()
    monkeypatch.chdir(tmp_path / "img")
    _assert_one_line_error(capsys, ["store", "get", str(db), "../evil"], "cannot be used as a file name")
    assert main(["store", "get", str(db), "ok"]) == 0
    assert (tmp_path / "img" / "ok.jpg").read_bytes() == jpeg


def test_fits_with_vector_column_and_no_id(tmp_path):
    from astropy.table import Table

    n = 50
    rng = np.random.default_rng(3)
    table = Table(
        {
            "RA": rng.uniform(0, 360, n),
            "DEC": rng.uniform(-60, 60, n),
            "Z": rng.uniform(0.01, 0.2, n).astype(np.float32),
            "FLUX": rng.random((n, 5)),
            "BIGID": np.arange(n, dtype=np.uint64) + np.uint64(2**63),
        }
    )
    table["Z"][7] = np.nan
    table.write(tmp_path / "cat.fits")
    report = ingest(tmp_path / "cat.fits", tmp_path / "s.db")
    assert report.skipped_columns == ["FLUX"] and report.bad_coordinates == [7]
    with GalaxyStore(tmp_path / "s.db") as store:
        assert store.columns() == {"objid": "INTEGER", "ra": "REAL", "dec": "REAL", "redshift": "REAL", "BIGID": "TEXT"}
        cat = store.catalog()
    assert cat["objid"].tolist() == [i for i in range(n) if i != 7]
    assert cat["BIGID"][0] == str(2**63)


def test_damaged_pages_give_one_line_errors(tmp_path, capsys):
    ids = list(range(400))
    write_jpegs(tmp_path / "img", ids, size=32)
    db = tmp_path / "s.db"
    ingest(write_catalog(tmp_path / "cat.csv", ids), db, IngestOptions(images=tmp_path / "img"))
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(2 * page, len(data), 3 * page):
        data[start : start + 64] = b"\x5a" * 64  # clobber page headers all through the file
    db.write_bytes(bytes(data))
    with pytest.raises(DelvolError, match="damaged or truncated galaxy store") as info:
        with GalaxyStore(db) as store:
            store.catalog()
            list(store.iter_images())
    assert str(db) in str(info.value)
    _assert_one_line_error(capsys, ["store", "export", str(db), str(tmp_path / "out")], str(db))


def test_missing_ids_are_refused_and_missing_numbers_stay_missing(tmp_path, capsys):
    db = tmp_path / "s.db"
    blank_id = tmp_path / "blank_id.csv"
    blank_id.write_text("objid,ra,dec,redshift\n1,10,5,0.1\n,11,6,0.2\n3,12,7,0.3\n")
    _assert_one_line_error(
        capsys, ["store", "ingest", str(blank_id), "-o", str(db)], f"{blank_id}: ", "'objid' has 1 missing"
    )
    # A blank part of a composite text id, and a blank text id, are refused alike.
    _assert_one_line_error(
        capsys, ["store", "ingest", str(blank_id), "-o", str(db), "--id", "ra,objid"], "'objid' has 1 missing"
    )
    blank_name = tmp_path / "blank_name.csv"
    blank_name.write_text("id,ra,dec,redshift\nNGC1,10,5,0.1\n,11,6,0.2\n")
    _assert_one_line_error(capsys, ["store", "ingest", str(blank_name), "-o", str(db)], "'id' has 1 missing")
    assert not db.exists()
    # Rows that --where leaves out need no id.
    assert ingest(blank_id, db, IngestOptions(where=["ra=12"])).n_galaxies == 1
    # A blank in an integer extra column is stored as missing (NULL), not as 0.
    blank_extra = tmp_path / "blank_extra.csv"
    blank_extra.write_text("objid,ra,dec,redshift,nspec\n1,10,5,0.1,3\n2,11,6,0.2,\n")
    ingest(blank_extra, tmp_path / "extra.db")
    with GalaxyStore(tmp_path / "extra.db") as store:
        np.testing.assert_array_equal(store.column("nspec"), [3.0, np.nan])


def test_duplicate_ids_are_refused(tmp_path):
    catalog = write_catalog(tmp_path / "cat.csv", [1, 2, 3, 2, 5, 5])
    with pytest.raises(DelvolError, match=r"not unique: 2 values repeat \(e\.g\. 2, 5\)"):
        ingest(catalog, tmp_path / "s.db")
    assert not (tmp_path / "s.db").exists()


def test_bad_options_give_one_line_errors(small, tmp_path, capsys):
    catalog, folder, _ = small
    db = str(tmp_path / "s.db")
    _assert_one_line_error(capsys, ["store", "ingest", str(catalog), "-o", db, "--id", "nosuch"], "--id: no column")
    _assert_one_line_error(capsys, ["store", "ingest", str(catalog), "-o", db, "--where", "ra"], "COL=VALUE")
    _assert_one_line_error(
        capsys, ["store", "ingest", str(catalog), "-o", db, "--where", "ra=abc"], "holds numbers, not 'abc'"
    )
    _assert_one_line_error(
        capsys, ["store", "ingest", str(catalog), "-o", db, "--images", str(folder), "--pattern", "x.jpg"], "{objid}"
    )
    assert main(["store", "ingest", str(catalog), "-o", db]) == 0
    capsys.readouterr()
    # Row-number ids cannot be mixed into a store keyed on the objid column.
    no_ids = tmp_path / "noid.csv"
    no_ids.write_text("ra,dec,z\n1,2,0.1\n")
    _assert_one_line_error(capsys, ["store", "ingest", str(no_ids), "-o", db], "ids come from objid")
    _assert_one_line_error(capsys, ["store", "get", db, "12345", "-o", str(tmp_path / "x.jpg")], "no image")


def test_get_info_and_read_only_access(small, tmp_path, capsys):
    catalog, folder, images = small
    db = tmp_path / "s.db"
    assert main(["store", "ingest", str(catalog), "-o", str(db), "--images", str(folder)]) == 0
    assert not db.with_name("s.db-wal").exists() and not db.with_name("s.db-shm").exists()
    assert main(["store", "get", str(db), "107", "-o", str(tmp_path / "out" / "g.jpg")]) == 0
    assert (tmp_path / "out" / "g.jpg").read_bytes() == images[107]
    capsys.readouterr()
    assert main(["store", "info", str(db), "--check"]) == 0
    out = capsys.readouterr().out
    assert "galaxies      30  (ids: objid, integer)" in out and "images        30 JPEG" in out
    assert "integrity     ok" in out and "finished 20" in out
    with GalaxyStore(db) as store:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store._conn.execute("DELETE FROM galaxies")
        with pytest.raises(ValueError, match="read-only"):
            store.set_meta(note="x")
        assert len(store) == 30
        assert store._conn.execute("PRAGMA page_size").fetchone() == (8192,)


def test_a_store_is_read_in_its_own_cosmology(small, tmp_path, capsys):
    catalog, _, _ = small
    db = tmp_path / "wmap9.db"
    assert main(["store", "ingest", str(catalog), "-o", str(db), "--cosmology", "WMAP9"]) == 0
    table = read_table(catalog)
    sky = table["ra"], table["dec"], table["redshift"]
    wmap9, planck18 = sky_to_cartesian(*sky, "WMAP9"), sky_to_cartesian(*sky, "Planck18")
    assert np.abs(wmap9 - planck18).max() > 1.0  # Mpc/h: far enough apart to tell
    parser = build_parser()
    own = load_points(db, load_options(parser.parse_args(["info", str(db)])))
    np.testing.assert_array_equal(own.positions, wmap9)
    assert own.metadata["cosmology"] == "WMAP9"
    forced = load_points(db, load_options(parser.parse_args(["info", str(db), "--cosmology", "Planck18"])))
    np.testing.assert_array_equal(forced.positions, planck18)
    assert forced.metadata["cosmology"] == "Planck18"
    # Sprite sizes in kpc become Mpc/h with the h of the cosmology the positions are in.
    sprites = SpriteOptions(sprite_size="100kpc", sprite_placeholders=True)
    with GalaxyStore(db) as store:
        assert store.cosmology == "WMAP9"
        assert sprites.galaxies(own, store).sizes[0] == pytest.approx(0.1 * get_cosmology("WMAP9").h)
        assert sprites.galaxies(forced, store).sizes[0] == pytest.approx(0.1 * get_cosmology("Planck18").h)
    capsys.readouterr()
    assert main(["info", str(db), "--no-cache"]) == 0
    assert "cosmology     WMAP9\n" in capsys.readouterr().out
    assert main(["info", str(db), "--no-cache", "--cosmology", "Planck18"]) == 0
    assert "cosmology     Planck18\n" in capsys.readouterr().out
    assert main(["store", "info", str(db)]) == 0
    assert "cosmology     WMAP9\n" in capsys.readouterr().out


def test_prepare_and_set_meta_upsert_the_same_meta(tmp_path):
    db = tmp_path / "s.db"
    with GalaxyStore(db, "a") as store:
        store.prepare("INTEGER", {}, {"source": "a.csv", "note": "first"})
        assert store.meta["format"] == "delvol-galaxy-store" and store.meta["source"] == "a.csv"
        store.prepare("INTEGER", {"mag": "REAL"}, {"note": "second"})
        store.set_meta(source="b.csv", extra="x")
    with GalaxyStore(db) as store:
        assert {key: store.meta[key] for key in ("source", "note", "extra", "schema_version")} == {
            "source": "b.csv",
            "note": "second",
            "extra": "x",
            "schema_version": "1",
        }
        assert list(store.columns()) == ["objid", "ra", "dec", "redshift", "mag"]


def test_point_loader_reads_a_store(small, tmp_path):
    catalog, _, _ = small
    db = tmp_path / "galaxies.db"
    ingest(catalog, db)
    table = read_table(catalog)
    points = load_points(db)
    np.testing.assert_array_equal(points.positions, sky_to_cartesian(table["ra"], table["dec"], table["redshift"]))
    np.testing.assert_array_equal(points.ids, table["objid"])
    assert points.metadata["format"] == "store"
    assert len(load_points(db, LoadOptions(max_points=10))) == 10


def _ingest_process(catalog: Path, folder: Path, db: Path, batch: int) -> subprocess.Popen:
    argv = [sys.executable, "-m", "delvol", "store", "ingest", str(catalog), "-o", str(db)]
    argv += ["--images", str(folder), "--batch", str(batch)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _watch_until_some_batches(proc: subprocess.Popen, db: Path, n: int, batch: int) -> tuple[int, set[int]]:
    """Poll the store as a reader while ``proc`` ingests; kill -9 it once a quarter is in.

    Every snapshot must show whole batches: as many images as galaxies, in multiples of
    ``batch``. Returns how many galaxies were stored when the writer died, and the counts
    the reader saw.
    """
    store = None
    seen = set()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if store is None:
                try:
                    store = GalaxyStore(db)
                except DelvolError:  # not created yet
                    time.sleep(0.002)
                    continue
            with store.snapshot():
                n_galaxies, n_images = len(store), image_count(store)
            assert n_images == n_galaxies and (n_galaxies % batch == 0 or n_galaxies == n)
            seen.add(n_galaxies)
            if n_galaxies >= n // 4:
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait(30)
        with GalaxyStore(db) as after:
            return len(after), seen
    finally:
        if store is not None:
            store.close()


@pytest.mark.slow
def test_kill_mid_ingest_then_resume(tmp_path):
    n, batch = 4000, 25
    ids = list(range(n))
    images = write_jpegs(tmp_path / "img", ids, size=8)
    catalog = write_catalog(tmp_path / "cat.csv", ids)
    for attempt in range(3):
        db = tmp_path / f"s{attempt}.db"
        proc = _ingest_process(catalog, tmp_path / "img", db, batch)
        stored, seen = _watch_until_some_batches(proc, db, n, batch)
        if proc.returncode == -signal.SIGKILL and 0 < stored < n:
            break
    else:
        pytest.fail("the ingest never got killed part-way through")
    assert stored % batch == 0 and len(seen - {0}) >= 2  # the reader saw the store grow
    with GalaxyStore(db) as store:
        assert store.meta["ingest_finished"] == ""
    rerun = _ingest_process(catalog, tmp_path / "img", db, batch)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert f"images        {n - stored:,} written, {stored:,} already stored" in out
    with GalaxyStore(db) as store:
        assert store.integrity_check() == ["ok"]
        assert store.objids().tolist() == ids
        assert image_count(store) == n
        got = {record.objid: record.data for chunk in store.iter_images(500) for record in chunk}
        assert got == images
        assert store.meta["ingest_finished"] != ""
        rows = store._conn.execute("SELECT count(*), count(DISTINCT objid) FROM images").fetchone()
    assert rows == (n, n)


@pytest.mark.real_data
def test_fast_jpeg_header_agrees_with_pillow(tmp_path):
    from io import BytesIO

    from PIL import Image

    from delvol.io.galaxy_store.images import jpeg_size

    folder = shared_file("galaxy_jpg/102474.jpg").parent
    for path in sorted(folder.glob("*.jpg")):
        data = path.read_bytes()
        with Image.open(BytesIO(data)) as img:
            assert jpeg_size(data) == img.size
    buffer = BytesIO()
    Image.new("RGB", (37, 21), (10, 200, 30)).save(buffer, format="JPEG", progressive=True)
    assert jpeg_size(buffer.getvalue()) == (37, 21)
    assert jpeg_size(b"\xff\xd8\xff\xda\x00\x08garbage") is None
    assert jpeg_size(b"\x89PNG\r\n\x1a\n") is None
    assert jpeg_size(buffer.getvalue()[:20]) is None


def test_opening_to_write_waits_for_a_writer_and_not_for_a_reader(tmp_path):
    """SQLite refuses the WAL switch at once while another connection writes the new file, and the no-op
    switch of a WAL store waits out the busy timeout behind any reader: opening to write does neither."""
    import threading

    db = tmp_path / "s.db"
    writer = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # as another ingest switching the new file to WAL
    threading.Timer(0.3, writer.execute, ("COMMIT",)).start()
    started = time.monotonic()
    with GalaxyStore(db, "a") as store:
        assert store.meta == {} and time.monotonic() - started >= 0.25
        store.prepare("INTEGER", {}, {})
    writer.close()
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM galaxies").fetchone()  # a long read transaction, as a foreign browser's
    started = time.monotonic()
    with GalaxyStore(db, "a") as store:
        store.set_meta(cosmology="Planck18")
        assert time.monotonic() - started < 5
        reader.close()  # else closing waits for it to fold the log
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
