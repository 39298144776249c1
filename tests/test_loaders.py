"""Point loaders: format detection, every reader, the common cuts, and bad input."""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
import struct
from dataclasses import replace

import h5py
import numpy as np
import pytest
from conftest import shared_file

from delvol.cli import build_parser, main
from delvol.cli.common import load_options
from delvol.errors import DelvolError
from delvol.io import LoadOptions, PointSet, load_points, readers, tables
from delvol.io.galaxy_store import schema as store_schema
from delvol.io.readers import detect_format
from delvol.io.sky import comoving_distance
from delvol.io.tables import read_table

RNG = np.random.default_rng(5)


def cli_options(*argv: str) -> LoadOptions:
    """The LoadOptions that ``delvol info FILE ARGS`` would use."""
    return load_options(build_parser().parse_args(["info", "FILE", *argv]))


def write_gadget2(path, npart, massarr, positions, ids, block_masses=None, endian="<", box=0.0, redshift=0.0):
    """A SnapFormat 1 snapshot written with struct, independently of the reader's dtype."""

    def record(payload: bytes) -> bytes:
        marker = struct.pack(f"{endian}i", len(payload))
        return marker + payload + marker

    header = struct.pack(
        f"{endian}6i6d2d2i6I2i4d",
        *npart,
        *massarr,
        1.0 / (1.0 + redshift),
        redshift,
        0,
        0,
        *npart,
        0,
        1,
        box,
        0.3,
        0.7,
        0.7,
    ).ljust(256, b"\0")
    blocks = [header, positions.astype(f"{endian}f4").tobytes(), np.zeros_like(positions, f"{endian}f4").tobytes()]
    blocks.append(ids.astype(ids.dtype.newbyteorder(endian)).tobytes())
    if block_masses is not None:
        blocks.append(block_masses.astype(f"{endian}f4").tobytes())
    path.write_bytes(b"".join(record(b) for b in blocks))


# ----------------------------------------------------------------------------- real data


@pytest.mark.real_data
def test_npy_and_hdf5_hold_the_same_particles():
    npy = load_points(shared_file("nbody/mini_n64_l32_z0_pos_float32.npy"))
    hdf5 = load_points(shared_file("nbody/mini_n64_l32_z0_particles.hdf5"))
    assert len(npy) == len(hdf5) == 262_144
    assert np.array_equal(npy.positions, hdf5.positions)
    assert npy.metadata["format"] == "npy" and hdf5.metadata["format"] == "hdf5"
    assert hdf5.metadata["box_size"] == 32.0 and hdf5.metadata["redshift"] == 0.0
    assert np.all(hdf5.masses == pytest.approx(1.088239739e10))
    assert "box_size" not in npy.metadata and npy.masses is None


@pytest.mark.real_data
def test_gadget2_snapshot(tmp_path):
    path = shared_file("nbody/gadget_z00.dat")
    points = load_points(path)
    assert len(points) == 20_560
    assert points.metadata["format"] == "gadget"
    assert points.metadata["counts_by_type"] == {0: 9_160, 1: 10_280, 4: 1_120}
    assert points.metadata["box_size"] == 100_000.0
    assert "kpc/h" in points.metadata["units"]
    # Header masses: gas and stars share one mass, dark matter another.
    assert np.all(points.masses[:9_160] == pytest.approx(0.0010856521548703313))
    assert np.all(points.masses[9_160:19_440] == pytest.approx(0.006669006310403347))
    assert len(np.unique(points.ids)) == 20_560
    assert np.abs(points.positions).max() < 15_000  # a zoom region ~12 Mpc/h across, in kpc/h

    dark = load_points(path, LoadOptions(ptypes=[1]))
    assert len(dark) == 10_280 and dark.metadata["counts_by_type"] == {1: 10_280}
    assert np.array_equal(dark.positions, points.positions[9_160:19_440])

    bare = tmp_path / "snapshot_000"
    shutil.copyfile(path, bare)
    assert detect_format(bare) == "gadget"
    assert np.array_equal(load_points(bare).positions, points.positions)


@pytest.mark.real_data
def test_fits_sky_catalogue_becomes_comoving():
    points = load_points(shared_file("catalogs/vollim_dr7_cbp_102709.fits"))
    assert len(points) == 120_606
    assert points.metadata["format"] == "fits"
    meta = points.metadata
    assert (meta["units"], meta["cosmology"], meta["frame"]) == ("Mpc/h", "Planck18", "equatorial comoving")
    from astropy.cosmology import Planck18

    expected = Planck18.comoving_distance(0.107).to_value("Mpc") * Planck18.h
    distance = np.linalg.norm(points.positions, axis=1)
    assert distance.max() == pytest.approx(expected, rel=1e-4)
    assert distance.max() == pytest.approx(312.6, abs=0.1)
    in_mpc = load_points(shared_file("catalogs/vollim_dr7_cbp_102709.fits"), LoadOptions(units="Mpc"))
    assert np.linalg.norm(in_mpc.positions, axis=1).max() == pytest.approx(expected / Planck18.h, rel=1e-4)


@pytest.mark.real_data
def test_sdss_csv_uses_redshift_not_the_z_magnitude():
    path = shared_file("catalogs/sdss_dr14_skyserver_10k.csv")
    points = load_points(path)
    assert len(points) == 10_000 and points.metadata["format"] == "csv"
    table = read_table(path)
    assert np.count_nonzero(table["class"] == "GALAXY") == 4_998
    distance = np.linalg.norm(points.positions, axis=1)
    assert np.allclose(distance, np.abs(comoving_distance(table["redshift"])), rtol=1e-6, atol=1e-9)
    # The z magnitudes (~15-20) would put every object thousands of Mpc away.
    assert np.median(distance) < 1_000


# ----------------------------------------------------------------------------- NumPy


def test_structured_npy_with_mass_field(tmp_path):
    data = np.zeros(50, dtype=[("X", "f4"), ("Y", "f4"), ("Z", "f4"), ("Mass", "f8")])
    for name in ("X", "Y", "Z"):
        data[name] = RNG.random(50)
    data["Mass"] = RNG.random(50) + 1
    np.save(tmp_path / "s.npy", data)
    points = load_points(tmp_path / "s.npy")
    assert np.array_equal(points.positions, np.column_stack([data["X"], data["Y"], data["Z"]]).astype(np.float64))
    assert np.array_equal(points.masses, data["Mass"])
    # An override picks another field for a role.
    swapped = load_points(tmp_path / "s.npy", LoadOptions(columns={"x": "Mass"}))
    assert np.array_equal(swapped.positions[:, 0], data["Mass"])


def test_npz_positions_masses_ids_and_box(tmp_path):
    pos, mass, ids = RNG.random((40, 3)) * 10, RNG.random(40), np.arange(40) + 100
    np.savez(tmp_path / "a.npz", vel=RNG.random((40, 3)), positions=pos, masses=mass, ids=ids, box_size=10.0)
    points = load_points(tmp_path / "a.npz")
    assert np.array_equal(points.positions, pos) and np.array_equal(points.masses, mass)
    assert np.array_equal(points.ids, ids)
    assert points.metadata["box_size"] == 10.0 and points.metadata["format"] == "npz"
    # A FILE.npz:KEY path names the array; without a positions name the only N×3 one is taken.
    assert np.array_equal(load_points(f"{tmp_path / 'a.npz'}:vel").positions, np.load(tmp_path / "a.npz")["vel"])
    np.savez(tmp_path / "b.npz", stuff=pos, labels=np.arange(40))
    assert np.array_equal(load_points(tmp_path / "b.npz").positions, pos)


def test_npz_with_two_candidate_arrays_asks_for_a_name(tmp_path):
    np.savez(tmp_path / "c.npz", a=RNG.random((5, 3)), b=RNG.random((5, 3)))
    with pytest.raises(DelvolError, match=r"c\.npz: cannot tell which array.*a \(5, 3\), b \(5, 3\)"):
        load_points(tmp_path / "c.npz")


# ----------------------------------------------------------------------------- text, CSV


def test_whitespace_text_with_commented_header(tmp_path):
    path = tmp_path / "halos.txt"
    pos, mass = RNG.random((30, 3)), RNG.random(30) + 1
    # Spaces, runs of spaces and tabs all separate columns.
    body = "\n".join(" \t  ".join(f"{v:.17g}" for v in row) for row in np.column_stack([pos, mass]))
    path.write_text(f"# halo catalogue, made by hand\n# x y z mass\n{body}\n")
    points = load_points(path)
    assert points.metadata["format"] == "text"
    assert np.array_equal(points.positions, pos) and np.array_equal(points.masses, mass)


def test_text_without_header_takes_the_first_three_columns(tmp_path):
    path = tmp_path / "plain.dat"
    pos = RNG.random((20, 3))
    np.savetxt(path, np.column_stack([pos, np.ones(20)]))
    assert np.array_equal(load_points(path).positions, pos)


def test_csv_with_column_flags(tmp_path):
    path = tmp_path / "cat.csv"
    pos, weight = RNG.random((25, 3)), RNG.random(25)
    rows = "\n".join(
        f"{i}," + ",".join(f"{v:.17g}" for v in row) for i, row in enumerate(np.column_stack([pos, weight]))
    )
    path.write_text(f"gal,px,py,pz,w\n{rows}\n")
    options = cli_options("--columns", "x=px,y=PY,z=pz,mass=w,id=gal")
    assert options.columns == {"x": "px", "y": "PY", "z": "pz", "mass": "w", "id": "gal"}
    points = load_points(path, options)
    assert np.array_equal(points.positions, pos) and np.array_equal(points.masses, weight)
    assert np.array_equal(points.ids, np.arange(25))
    with pytest.raises(DelvolError, match=r"cat\.csv: no x column; available: gal, px, py, pz, w"):
        load_points(path)


@pytest.mark.parametrize(
    "argv", [["--columns", "q=px"], ["--columns", "x"], ["--columns", "x=a,x=b"], ["--type", "a"], ["--type", "-1"]]
)
def test_bad_reading_flags_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["info", "FILE", *argv])
    assert exc.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_reading_flags_reach_load_options():
    options = cli_options("--type", "0,4", "--cosmology", "WMAP9", "--units", "Mpc", "--format", "gadget")
    assert (options.ptypes, options.cosmology, options.units, options.format) == ([0, 4], "WMAP9", "Mpc", "gadget")
    # No --cosmology: the file's own (a galaxy store's), else Planck18, decided by the reader.
    assert cli_options().cosmology is None and cli_options().columns == {}
    with pytest.raises(SystemExit):
        cli_options("--cosmology", "Nonesuch")


def test_sky_columns_prefer_redshift_and_fall_back_to_z(tmp_path):
    ra, dec, red = RNG.random(10) * 360, RNG.random(10) * 90, RNG.random(10) * 0.1
    both = tmp_path / "both.csv"
    both.write_text(
        "ra,dec,z,redshift\n" + "\n".join(f"{a},{d},18.5,{r}" for a, d, r in zip(ra, dec, red, strict=True))
    )
    default = load_points(both)
    assert default.metadata["cosmology"] == "Planck18"
    assert np.allclose(np.linalg.norm(default.positions, axis=1), comoving_distance(red, "Planck18"), rtol=1e-6)
    only_z = tmp_path / "only_z.csv"
    only_z.write_text("RA,Dec,z\n" + "\n".join(f"{a},{d},{r}" for a, d, r in zip(ra, dec, red, strict=True)))
    points = load_points(only_z, LoadOptions(cosmology="WMAP9"))
    assert points.metadata["cosmology"] == "WMAP9"
    assert np.allclose(np.linalg.norm(points.positions, axis=1), comoving_distance(red, "WMAP9"), rtol=1e-6)
    # Cartesian columns win when x, y and z all exist.
    cart = tmp_path / "cart.csv"
    cart.write_text("ra,dec,x,y,z\n1,2,3,4,5\n6,7,8,9,10\n")
    assert np.array_equal(load_points(cart).positions, [[3, 4, 5], [8, 9, 10]])


def test_missing_cells_are_nan_or_empty_never_zero(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("x,y,z,id,name,n\n1,2,3,7,a,1\n4,5,,,,2\n")
    table = read_table(path)
    assert table["x"].dtype == np.int64 and table["n"].dtype == np.int64  # complete: keep their type
    assert table["z"].dtype == np.float64 and table["id"].dtype == np.float64
    np.testing.assert_array_equal(table["z"], [3.0, np.nan])
    np.testing.assert_array_equal(table["id"], [7.0, np.nan])
    assert table["name"].tolist() == ["a", ""]
    # FITS nulls (big-endian integers, bytes text) are filled the same way.
    from astropy.table import MaskedColumn, Table

    fits = tmp_path / "gaps.fits"
    Table(
        {
            "i": MaskedColumn(np.array([1, 2, 3], ">i4"), mask=[False, True, False]),
            "f": MaskedColumn(np.array([1, 2, 3], ">f4"), mask=[False, True, False]),
            "s": MaskedColumn(["a", "bb", "c"], mask=[True, False, False]),
        }
    ).write(fits)
    table = read_table(fits)
    np.testing.assert_array_equal(table["i"], [1.0, np.nan, 3.0])
    assert table["i"].dtype == np.float64 and table["f"].dtype == np.float32
    np.testing.assert_array_equal(table["f"], [1.0, np.nan, 3.0])
    assert table["s"].tolist() == ["", "bb", "c"]
    # No reader yields a masked boolean column today; one would be treated like integers.
    np.testing.assert_array_equal(tables._plain(MaskedColumn([True, False], mask=[False, True])), [1.0, np.nan])


@pytest.mark.parametrize("cosmology", ["Planck18", "WMAP9"])
def test_comoving_distance_agrees_with_astropy(cosmology):
    from astropy.cosmology import realizations

    cosmo = getattr(realizations, cosmology)
    rng = np.random.default_rng(6)
    # Uniform up to z = 10, log-uniform down to 1e-8, and blueshifts of nearby galaxies.
    z = np.concatenate([rng.uniform(0, 10, 2000), 10 ** rng.uniform(-8, 1, 2000), rng.uniform(-0.01, 0, 50), [10.0]])
    expected = cosmo.comoving_distance(z).to_value("Mpc")
    np.testing.assert_allclose(comoving_distance(z, cosmology, "Mpc"), expected, rtol=1e-10, atol=0)
    np.testing.assert_allclose(comoving_distance(z, cosmology), expected * cosmo.h, rtol=1e-10, atol=0)
    assert comoving_distance(0.0, cosmology) == 0.0
    assert np.array_equal(comoving_distance(np.array([0.0, 0.5]), cosmology)[:1], [0.0])
    with pytest.raises(ValueError, match="greater than -1, got -1"):
        comoving_distance([0.1, -1.0], cosmology)


# ----------------------------------------------------------------------------- HDF5


def test_hdf5_gadget4_layout(tmp_path):
    path = tmp_path / "snap_010.hdf5"
    gas, dark = RNG.random((12, 3)), RNG.random((30, 3))
    gas_mass = RNG.random(12)
    with h5py.File(path, "w") as f:
        header = f.create_group("Header")
        header.attrs["BoxSize"] = 50.0
        header.attrs["MassTable"] = [0.0, 0.25, 0, 0, 0, 0]
        header.attrs["NumPart_ThisFile"] = [12, 30, 0, 0, 0, 0]
        header.attrs["NumPart_Total"] = [12, 30, 0, 0, 0, 0]
        header.attrs["Redshift"] = 1.5
        f.create_group("Parameters").attrs["UnitLength_in_cm"] = 3.085678e24
        f.create_dataset("PartType0/Coordinates", data=gas)
        f.create_dataset("PartType0/Masses", data=gas_mass)
        f.create_dataset("PartType0/ParticleIDs", data=np.arange(12))
        f.create_dataset("PartType1/Coordinates", data=dark)
        f.create_dataset("PartType1/ParticleIDs", data=np.arange(12, 42))
    points = load_points(path)
    assert np.array_equal(points.positions, np.vstack([gas, dark]))
    assert np.array_equal(points.masses, np.concatenate([gas_mass, np.full(30, 0.25)]))
    assert np.array_equal(points.ids, np.arange(42))
    meta = points.metadata
    assert (meta["box_size"], meta["redshift"], meta["units"]) == (50.0, 1.5, "Mpc/h")
    assert meta["counts_by_type"] == {0: 12, 1: 30}
    dark_only = load_points(path, LoadOptions(ptypes=[1]))
    assert np.array_equal(dark_only.positions, dark) and np.all(dark_only.masses == 0.25)
    with pytest.raises(DelvolError, match=r"snap_010\.hdf5: no particles of type 3; .*12 of type 0, 30 of type 1"):
        load_points(path, LoadOptions(ptypes=[3]))


def test_hdf5_swift_layout(tmp_path):
    path = tmp_path / "swift_0001.hdf5"
    dark, mass = RNG.random((20, 3)) * 100, RNG.random(20)
    with h5py.File(path, "w") as f:
        f.create_group("Header").attrs["BoxSize"] = [100.0, 100.0, 100.0]
        f.create_group("Units").attrs["Unit length in cgs (U_L)"] = [3.08567758e24]
        f.create_dataset("PartType1/Coordinates", data=dark)
        f.create_dataset("PartType1/Masses", data=mass)
    points = load_points(path)
    assert np.array_equal(points.positions, dark) and np.array_equal(points.masses, mass)
    assert (points.metadata["box_size"], points.metadata["units"]) == (100.0, "Mpc")
    with h5py.File(path, "r+") as f:
        f["Header"].attrs["BoxSize"] = [100.0, 50.0, 100.0]  # not cubic: no periodic box to offer
    assert "box_size" not in load_points(path).metadata


def test_hdf5_named_dataset(tmp_path):
    path = tmp_path / "gen.h5"
    pos = RNG.random((15, 3))
    table = np.zeros(15, dtype=[("x", "f8"), ("y", "f8"), ("z", "f8"), ("mass", "f4")])
    table["x"], table["y"], table["z"], table["mass"] = pos.T[0], pos.T[1], pos.T[2], 2.0
    with h5py.File(path, "w") as f:
        f.create_dataset("sim/points", data=pos)
        f.create_dataset("sim/table", data=table)
    assert np.array_equal(load_points(f"{path}:sim/points").positions, pos)
    structured = load_points(f"{path}:/sim/table")
    assert np.array_equal(structured.positions, pos) and np.all(structured.masses == 2.0)
    assert structured.metadata["source"] == f"{path}:/sim/table"
    with pytest.raises(DelvolError, match=r"gen\.h5: no dataset 'nope'; datasets: sim/points, sim/table"):
        load_points(f"{path}:nope")


@pytest.mark.parametrize("value", [3.0, np.int64(7), b"abc", "text", h5py.Empty("f"), np.zeros(5)], ids=repr)
def test_hdf5_dataset_that_is_not_points(value, tmp_path, capsys):
    path = tmp_path / "odd.h5"
    with h5py.File(path, "w") as f:
        f["pos"] = value
    shape = re.escape(str(np.shape(value) if isinstance(value, np.ndarray) else ()))
    with pytest.raises(DelvolError, match=rf"odd\.h5: expected an N×3 array .*got shape {shape}$"):
        load_points(f"{path}:pos")
    with pytest.raises(DelvolError, match=r"odd\.h5: "):  # found as the array named pos, or as none
        load_points(path)
    assert main(["info", f"{path}:pos"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("delvol: error: ") and err.count("\n") == 1 and "got shape" in err


# ----------------------------------------------------------------------------- Gadget-2


@pytest.mark.parametrize("endian", [">", "<"])
def test_gadget2_written_here(tmp_path, endian):
    npart = [3, 5, 0, 0, 2, 0]
    pos = RNG.random((10, 3)).astype(np.float32) * 1000
    ids = np.arange(10, dtype=np.int64) + 2**33  # 8-byte ids
    gas_and_star_mass = np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype=np.float32)
    path = tmp_path / "snapshot_005"
    write_gadget2(path, npart, [0, 0.5, 0, 0, 0, 0], pos, ids, gas_and_star_mass, endian, box=1000.0, redshift=2.0)
    assert detect_format(path) == "gadget"
    points = load_points(path)
    assert np.array_equal(points.positions, pos.astype(np.float64))
    assert np.array_equal(points.ids, ids)
    assert np.array_equal(points.masses, [1, 2, 3, 0.5, 0.5, 0.5, 0.5, 0.5, 4, 5])
    meta = points.metadata
    assert (meta["box_size"], meta["redshift"]) == (1000.0, pytest.approx(2.0))
    assert meta["counts_by_type"] == {0: 3, 1: 5, 4: 2}
    stars = load_points(path, LoadOptions(ptypes=[4, 0]))
    assert np.array_equal(stars.positions, pos[[0, 1, 2, 8, 9]].astype(np.float64))
    assert np.array_equal(stars.masses, [1, 2, 3, 4, 5])


def test_truncated_gadget2_is_an_error(tmp_path):
    path = tmp_path / "snap.dat"
    write_gadget2(path, [0, 4, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], RNG.random((4, 3)), np.arange(4, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DelvolError, match=r"snap\.dat: corrupt Gadget-2 snapshot: the ids record"):
        load_points(path, LoadOptions(format="gadget"))


# ----------------------------------------------------------------------------- cuts


def test_box_cut_keeps_the_inside_and_counts_the_total(tmp_path):
    pos = RNG.random((500, 3)) * 10
    np.save(tmp_path / "p.npy", pos)
    options = cli_options("--box", "2", "2", "2", "6", "6", "6")
    points = load_points(tmp_path / "p.npy", options)
    inside = np.all((pos >= 2) & (pos <= 6), axis=1)
    assert np.array_equal(points.positions, pos[inside])
    assert points.metadata["n_total"] == 500
    with pytest.raises(DelvolError, match=r"p\.npy: no points inside the box"):
        load_points(tmp_path / "p.npy", LoadOptions(box=(np.full(3, 20.0), np.full(3, 30.0))))


def test_max_points_subsample_is_reproducible(tmp_path):
    pos = RNG.random((1000, 3))
    np.save(tmp_path / "p.npy", pos)
    first = load_points(tmp_path / "p.npy", LoadOptions(max_points=100, seed=3))
    again = load_points(tmp_path / "p.npy", LoadOptions(max_points=100, seed=3))
    other = load_points(tmp_path / "p.npy", LoadOptions(max_points=100, seed=4))
    assert len(first) == 100 and first.metadata["n_total"] == 1000
    assert np.array_equal(first.positions, again.positions)
    assert not np.array_equal(first.positions, other.positions)
    assert all(any(np.array_equal(row, p) for p in pos) for row in first.positions[:5])
    assert len(load_points(tmp_path / "p.npy", LoadOptions(max_points=5000))) == 1000


# ----------------------------------------------------------------------------- detection, store


def test_detection_by_content(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 3)))
    shutil.copyfile(tmp_path / "a.npy", tmp_path / "arr.bin")
    np.savez(tmp_path / "b.npz", pos=np.zeros((2, 3)))
    (tmp_path / "c.dat").write_text("x,y,z\n1,2,3\n")
    (tmp_path / "d").write_text("1 2 3\n")
    with h5py.File(tmp_path / "e", "w") as f:
        f["pos"] = np.zeros((2, 3))
    found = {name: detect_format(tmp_path / name) for name in ("arr.bin", "b.npz", "c.dat", "d", "e")}
    assert found == {"arr.bin": "npy", "b.npz": "npz", "c.dat": "csv", "d": "text", "e": "hdf5"}
    # --format overrides detection: the comma-free CSV read as CSV keeps its one column.
    (tmp_path / "one.txt").write_text("x y z\n1 2 3\n")
    with pytest.raises(DelvolError, match=r"one\.txt: no x column; available: x y z"):
        load_points(tmp_path / "one.txt", LoadOptions(format="csv"))


def test_sqlite_goes_to_the_store_reader(tmp_path, monkeypatch):
    path = tmp_path / "galaxies.sqlite"
    sqlite3.connect(path).execute("CREATE TABLE t (a)").connection.close()
    assert detect_format(path) == "store"
    # One signature for both the format sniffing and the store's own file check.
    assert readers.SQLITE_MAGIC is store_schema.SQLITE_MAGIC
    seen = []

    def read_store(p, options):
        seen.append((p, options))
        return PointSet(np.zeros((1, 3)))

    monkeypatch.setitem(readers.FORMATS, "store", replace(readers.FORMATS["store"], read=read_store))
    options = LoadOptions(columns={"mass": "m"})
    points = load_points(path, options)
    assert seen == [(path, options)] and points.metadata["format"] == "store"


# ----------------------------------------------------------------------------- bad input


def _npy_bytes(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


#: File name, content (None: no file), options, and what the message must say.
BAD_INPUTS = [
    ("nothing.npy", None, None, "no such file"),
    ("empty.csv", b"", None, "the file is empty"),
    ("text.npy", b"1 2 3\n", None, "named .npy but the content looks like text"),
    ("flat.npy", _npy_bytes(np.zeros((4, 2))), None, r"expected an N×3 array .* shape \(4, 2\)"),
    ("nan.txt", b"# x y z\n1 2 3\n4 5 6\nnan 1 2\n", None, "non-finite coordinates in 1 row.*row 2"),
    ("blank.csv", b"x,y,z\n1,2,3\n4,5,\n7,8,9\n", None, "non-finite coordinates in 1 row.*row 1 "),
    ("blank_sky.csv", b"ra,dec,redshift\n1,2,0.1\n3,,0.2\n", None, "non-finite ra/dec/redshift in 1 row.*row 1 "),
    ("cols.csv", b"a,b,c\n1,2,3\n", None, "no x column; available: a, b, c"),
    ("renamed.csv", b"x,y,z\n1,2,3\n", LoadOptions(columns={"x": "px"}), "no column 'px' .*available: x, y, z"),
    (
        "obj.npy",
        _npy_bytes(np.array([{"x": 1}, None], dtype=object), allow_pickle=True),
        None,
        "cannot read as npy: Object arrays cannot be loaded",
    ),
    ("junk.bin", bytes(range(256)) * 3, None, "unrecognised binary content"),
    ("ragged.txt", b"x y z\n1 2 3\n4 5\n", None, "cannot read as a text table .*data line 1"),
    ("comments.txt", b"# x y z\n\n", None, "only comments and blank lines"),
    ("words.csv", b"x,y,z\na,b,c\n", None, "column 'x' does not hold numbers"),
    ("typed.npy", _npy_bytes(np.zeros((4, 3))), LoadOptions(ptypes=[1]), "particle types apply to snapshots"),
]


@pytest.mark.parametrize("name, content, options, expected", BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_input_raises_one_line_naming_the_file(name, content, options, expected, tmp_path):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DelvolError, match=expected) as exc:
        load_points(path, options)
    message = str(exc.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_cli_info_bad_and_good_file(tmp_path, capsys):
    bad = tmp_path / "text.npy"
    bad.write_text("1 2 3\n")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and err.startswith("delvol: error: ")
    good = tmp_path / "good.npy"
    np.save(good, RNG.random((300, 3)))
    assert main(["info", str(good), "--no-cache", "--max-points", "200"]) == 0
    out = capsys.readouterr().out
    assert "(format npy)" in out and "200 of 300" in out
