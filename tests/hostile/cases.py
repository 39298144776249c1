"""A corpus of hostile inputs: broken files, bad options, dangerous output targets.

Each :class:`Case` builds its files in a scratch folder and returns the command line to
run. Every case must end with exit status 2 and one line on stderr, leave nothing under
the output's name (or leave an existing non-file target as it was), and leave the inputs
untouched; tests/hostile/test_hostile_inputs.py checks that for each.

Written as an attacker and a tired astronomer would: truncated and forged headers, wrong
magic numbers, NaN and infinity, empty files, folders and devices where files belong,
symlink loops, non-UTF-8 and non-ASCII names, values beyond every range.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample.npy"
OUT = "out"
"""Name of the output folder inside each case's scratch folder (created empty)."""


@dataclass(frozen=True)
class Case:
    """One hostile command line.

    Attributes
    ----------
    name : str
    build : callable
        ``build(folder) -> argv``; writes its inputs into ``folder``. ``folder / OUT`` exists
        and is empty; outputs are named inside it unless the case is about the target.
    needs_root_free : bool
        The case relies on file permissions, which root ignores.
    """

    name: str
    build: Callable[[Path], list[str]]
    needs_root_free: bool = False


def _npy_header(path: Path, shape: tuple, descr: str = "<f8", payload: bytes = b"") -> Path:
    with open(path, "wb") as fh:
        npy_format.write_array_header_1_0(fh, {"descr": descr, "fortran_order": False, "shape": shape})
        fh.write(payload)
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _save(path: Path, array) -> Path:
    with open(path, "wb") as fh:  # np.save(path) would append .npy to any other name
        np.save(fh, np.asarray(array), allow_pickle=True)
    return path


def _text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def _points(n: int = 50, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 3))


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    return _text(path, header + "\n" + "\n".join(rows) + "\n")


def _sky_rows(n: int = 40, dec: float | None = None, z: float | None = None) -> list[str]:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n):
        d = rng.uniform(-20, 20) if dec is None or i != n // 2 else dec
        zz = rng.uniform(0.02, 0.1) if z is None or i != n // 2 else z
        rows.append(f"{rng.uniform(0, 40)},{d},{zz}")
    return rows


def _h5(path: Path, fill: Callable) -> Path:
    import h5py

    with h5py.File(path, "w") as f:
        fill(f, h5py)
    return path


def _store(folder: Path, fmt: str = "JPEG", objid: int = 1) -> Path:
    """A galaxy store with one galaxy whose image row says ``fmt``."""
    from delvol.io.galaxy_store.database import GalaxyStore

    db = folder / "s.db"
    with GalaxyStore(db, "a") as store:
        store.prepare("INTEGER", {}, {"id_columns": '["objid"]'})
        store.write_batch(["objid", "ra", "dec", "redshift"], [(objid, 1.0, 2.0, 0.1)], [])
        store._conn.execute(
            "INSERT INTO images VALUES (?, ?, ?, ?, ?)", (objid, b"\xff\xd8 not really \xff\xd9", fmt, 8, 8)
        )
    return db


def info(path_of: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda d: ["info", str(path_of(d))]


def tess(path_of: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda d: ["tessellate", str(path_of(d)), "-o", str(d / OUT / "t.npz")]


def _symlink(d: Path, name: str, target: str) -> Path:
    link = d / name
    os.symlink(target, link)
    return link


def _unreadable(d: Path) -> Path:
    path = _save(d / "locked.npy", _points())
    path.chmod(0)
    return path


def _fifo(d: Path, name: str) -> Path:
    path = d / OUT / name
    os.mkfifo(path)
    return path


def _sample_link(d: Path) -> Path:
    return _symlink(d, "sample.npy", str(SAMPLE))


# Files read as point sets ---------------------------------------------------------------
FILES: dict[str, Callable[[Path], Path]] = {
    "missing": lambda d: d / "nope.npy",
    "folder": lambda d: (d / "dir.npy").mkdir() or d / "dir.npy",
    "symlink-loop": lambda d: _symlink(d, "loop.npy", "loop.npy"),
    "dangling-symlink": lambda d: _symlink(d, "gone.npy", "nowhere.npy"),
    "empty-npy": lambda d: _text(d / "e.npy", ""),
    "empty-noext": lambda d: _text(d / "e", ""),
    "empty-csv": lambda d: _text(d / "e.csv", ""),
    "empty-h5": lambda d: _text(d / "e.h5", ""),
    "blank-lines": lambda d: _text(d / "b.txt", "\n\n   \n"),
    "only-comments": lambda d: _text(d / "c.txt", "# x y z\n# nothing\n"),
    "npy-truncated": lambda d: _npy_header(d / "t.npy", (1000, 3), payload=b"\0" * 800),
    "npy-huge-header": lambda d: _npy_header(d / "h.npy", (10**12, 3), payload=b"\0" * 64),
    "npy-huge-1d": lambda d: _npy_header(d / "h1.npy", (2**62,), "|u1"),
    "npy-wrong-magic": lambda d: _text(d / "w.npy", "NUMPY but not really\x00\x01"),
    "npy-bad-header": lambda d: _bytes(d / "bh.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': nonsense}\n"),
    "npy-object": lambda d: _save(d / "o.npy", np.array([{"a": 1}, None], dtype=object)),
    "npy-strings": lambda d: _save(d / "s.npy", np.array([["a", "b", "c"]] * 10)),
    "npy-complex": lambda d: _save(d / "c.npy", _points() + 1j),
    "npy-1d": lambda d: _save(d / "1d.npy", np.arange(30.0)),
    "npy-2col": lambda d: _save(d / "2c.npy", _points()[:, :2]),
    "npy-4d": lambda d: _save(d / "4d.npy", np.zeros((2, 2, 2, 3))),
    "npy-scalar": lambda d: _save(d / "sc.npy", np.float64(3)),
    "npy-no-rows": lambda d: _save(d / "0.npy", np.zeros((0, 3))),
    "npy-nan": lambda d: _save(d / "nan.npy", np.vstack([_points(), [np.nan, 0, 0]])),
    "npy-inf": lambda d: _save(d / "inf.npy", np.vstack([_points(), [0, np.inf, 0]])),
    "npy-three-points": lambda d: _save(d / "3.npy", _points(3)),
    "npy-flat": lambda d: _save(d / "flat.npy", np.column_stack([_points()[:, :2], np.zeros(50)])),
    "npy-all-duplicates": lambda d: _save(d / "dup.npy", np.ones((50, 3))),
    "npy-huge-coordinates": lambda d: _save(d / "big.npy", _points() * 1e308 * 1.7),
    "npz-not-zip": lambda d: _text(d / "n.npz", "x,y,z\n1,2,3\n"),
    "npz-truncated": lambda d: _bytes(d / "tz.npz", (_npz(d / "full.npz")).read_bytes()[:300]),
    "npz-huge-member": lambda d: _npz_member(d / "hm.npz", (10**11, 3)),
    "npz-no-arrays": lambda d: _zip(d / "na.npz", {"readme.txt": b"hello"}),
    "npz-pickle": lambda d: _zip(d / "pk.npz", {"pos.npy": _npy_bytes(np.array([None, 1], dtype=object))}),
    "npz-missing-key": lambda d: Path(str(_npz(d / "k.npz")) + ":nokey"),
    "h5-truncated": lambda d: _bytes(d / "t.h5", _h5(d / "full.h5", _h5_points).read_bytes()[:700]),
    "h5-wrong-magic": lambda d: _text(d / "w.h5", "\x89HDF but not at all\x00"),
    "h5-self-link": lambda d: _h5(d / "l1.h5", lambda f, h5py: f.__setitem__("a", h5py.SoftLink("/a"))),
    "h5-link-pair": lambda d: _h5(
        d / "l2.h5", lambda f, h5py: (f.__setitem__("a", h5py.SoftLink("/b")), f.__setitem__("b", h5py.SoftLink("/a")))
    ),
    "h5-link-loop-dataset": lambda d: Path(
        str(_h5(d / "l3.h5", lambda f, h5py: f.__setitem__("pos", h5py.SoftLink("/pos")))) + ":pos"
    ),
    "h5-huge-dataset": lambda d: _h5(
        d / "hd.h5", lambda f, h5py: f.create_dataset("pos", shape=(10**11, 3), dtype="f8", chunks=(1024, 3))
    ),
    "h5-no-datasets": lambda d: _h5(d / "nd.h5", lambda f, h5py: f.create_group("g")),
    "h5-strings": lambda d: _h5(d / "st.h5", lambda f, h5py: f.__setitem__("pos", np.array([[b"a", b"b", b"c"]] * 9))),
    "h5-empty-dataset": lambda d: _h5(d / "em.h5", lambda f, h5py: f.__setitem__("pos", h5py.Empty("f8"))),
    "h5-nan": lambda d: _h5(d / "hn.h5", lambda f, h5py: f.__setitem__("pos", np.full((20, 3), np.nan))),
    "csv-header-only": lambda d: _text(d / "h.csv", "x,y,z\n"),
    "csv-no-x": lambda d: _csv(d / "nx.csv", "a,b,c", ["1,2,3"] * 10),
    "csv-text-x": lambda d: _csv(d / "tx.csv", "x,y,z", ["a,2,3"] * 10),
    "csv-ragged": lambda d: _csv(d / "rg.csv", "x,y,z", ["1,2,3", "4,5", "6,7,8,9"]),
    "csv-nan": lambda d: _csv(d / "nan.csv", "x,y,z", [f"{a},{b},{c}" for a, b, c in _points()] + ["nan,1,1"]),
    "csv-inf": lambda d: _csv(d / "inf.csv", "x,y,z", [f"{a},{b},{c}" for a, b, c in _points()] + ["1,inf,1"]),
    "csv-binary": lambda d: _bytes(d / "bin.csv", bytes(range(256)) * 4),
    "csv-latin1": lambda d: _text(d / "l1.csv", "x,y,zé\n1,2,3\n", encoding="latin-1"),
    "csv-dec-95": lambda d: _csv(d / "d95.csv", "ra,dec,z", _sky_rows(dec=95.0)),
    "csv-dec-minus-200": lambda d: _csv(d / "d200.csv", "ra,dec,z", _sky_rows(dec=-200.0)),
    "csv-z-below-minus-1": lambda d: _csv(d / "zm1.csv", "ra,dec,z", _sky_rows(z=-1.5)),
    "csv-z-nan": lambda d: _csv(d / "zn.csv", "ra,dec,z", _sky_rows(z=float("nan"))),
    "csv-overflow-int": lambda d: _csv(d / "ov.csv", "x,y,z", ["1,2,3"] * 5 + ["99999999999999999999999,2,3"]),
    "tsv-no-x": lambda d: _text(d / "nx.tsv", "a\tb\tc\n1\t2\t3\n"),
    "fits-truncated": lambda d: _bytes(d / "t.fits", _fits(d / "full.fits").read_bytes()[:3000]),
    "fits-garbage": lambda d: _text(d / "g.fits", "SIMPLE  = nonsense" + " " * 3000),
    "db-text": lambda d: _text(d / "t.db", "not a database"),
    "db-truncated": lambda d: _bytes(d / "tr.db", _store(d / OUT).read_bytes()[:5000]),
    "db-foreign": lambda d: _foreign_db(d / "f.db"),
    "gadget-truncated": lambda d: _gadget_truncated(d / "snap_000"),
    "unicode-name-truncated": lambda d: _npy_header(d / "données_ü_☃.npy", (100, 3), payload=b"\0" * 16),
    "newline-in-name": lambda d: _npy_header(d / "two\nlines.npy", (100, 3), payload=b"\0" * 16),
    "unreadable": _unreadable,
}


def _npy_bytes(array: np.ndarray) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _npz(path: Path) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, pos=_points(200))
    return path


def _npz_member(path: Path, shape: tuple) -> Path:
    from io import BytesIO

    header = BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return _zip(path, {"pos.npy": header.getvalue() + b"\0" * 4096})


def _h5_points(f, h5py) -> None:
    f["pos"] = _points(2000)


def _fits(path: Path) -> Path:
    from astropy.table import Table

    p = _points(300)
    Table({"x": p[:, 0], "y": p[:, 1], "z": p[:, 2]}).write(path, format="fits")
    return path


def _foreign_db(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a)")
    conn.close()
    return path


def _gadget_truncated(path: Path) -> Path:
    """A Gadget-2 header promising 1000 particles, and a file that stops after the header."""
    header = np.zeros(256, dtype=np.uint8)
    npart = np.array([0, 1000, 0, 0, 0, 0], dtype=np.int32)
    header[:24] = np.frombuffer(npart.tobytes(), dtype=np.uint8)
    block = (256).to_bytes(4, "little")
    pos = (1000 * 12).to_bytes(4, "little")
    path.write_bytes(block + header.tobytes() + block + pos + b"\0" * 100)
    return path


def _option(*argv: str, sample: bool = True) -> Callable[[Path], list[str]]:
    """A command line with ``{in}`` standing for the sample and ``{out}`` for the output folder."""

    def build(d: Path) -> list[str]:
        source = str(_sample_link(d)) if sample else ""
        return [a.replace("{in}", source).replace("{out}", str(d / OUT)) for a in argv]

    return build


def _file_option(command: str, flag: str, name: str, content: str, output: str) -> Callable[[Path], list[str]]:
    """``command`` on the sample, with ``flag`` naming a file ``name`` that holds ``content``."""
    return lambda d: [command, str(_sample_link(d)), "-o", str(d / OUT / output), flag, str(_text(d / name, content))]


def _ingest(
    *extra: str, rows: tuple[str, list[str]] | None = None, output: Callable[[Path], Path] | None = None
) -> Callable[[Path], list[str]]:
    """``store ingest`` of a small sky catalogue (or ``rows``), ``{dir}`` in ``extra`` standing for the folder."""

    def build(d: Path) -> list[str]:
        header, lines = rows or ("ra,dec,z", _sky_rows())
        target = output(d) if output else d / OUT / "s.db"
        catalog = _csv(d / "c.csv", header, lines)
        return ["store", "ingest", str(catalog), "-o", str(target), *(e.replace("{dir}", str(d)) for e in extra)]

    return build


def _crafted_store(verb: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        db = _store(d, fmt="/../../../escaped")
        if verb == "get":
            return ["store", "get", str(db), "1"]
        return ["store", "export", str(db), str(d / OUT / "export")]

    return build


def _cwd_get(d: Path) -> list[str]:
    db = _store(d, fmt="../../escaped")
    os.chdir(d / OUT)
    return ["store", "get", str(db), "1"]


def _escaping_id_export(d: Path) -> list[str]:
    from delvol.io.galaxy_store.database import GalaxyStore

    db = d / "s.db"
    with GalaxyStore(db, "a") as store:
        store.prepare("TEXT", {}, {"id_columns": '["name"]'})
        store.write_batch(["objid", "ra", "dec", "redshift"], [("../../evil", 1.0, 2.0, 0.1)], [])
        store._conn.execute(
            "INSERT INTO images VALUES (?, ?, ?, ?, ?)", ("../../evil", b"\xff\xd8\xff\xd9", "JPEG", 8, 8)
        )
    return ["store", "export", str(db), str(d / OUT / "export")]


def _bad_obj(content: bytes) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        obj = d / "m.obj"
        obj.write_bytes(content)
        return ["render", str(_sample_link(d)), "--obj", str(obj), "-o", str(d / OUT / "r.png"), "--size", "32x24"]

    return build


OPTIONS: dict[str, Callable[[Path], list[str]]] = {
    "size-zero": _option("render", "{in}", "-o", "{out}/r.png", "--size", "0x10"),
    "size-words": _option("render", "{in}", "-o", "{out}/r.png", "--size", "big"),
    "size-huge": _option("render", "{in}", "-o", "{out}/r.png", "--size", "1000000x1000000"),
    "size-huge-supersample": _option(
        "render", "{in}", "-o", "{out}/r.png", "--size", "40000x40000", "--supersample", "8"
    ),
    "supersample-99": _option("render", "{in}", "-o", "{out}/r.png", "--supersample", "99"),
    "render-jpg": _option("render", "{in}", "-o", "{out}/r.jpg"),
    "render-view-bogus": _option("render", "{in}", "-o", "{out}/r.png", "--view", "-q"),
    "render-camera-missing": _option("render", "{in}", "-o", "{out}/r.png", "--camera", "{out}/none.json"),
    "render-colormap": _option("render", "{in}", "-o", "{out}/r.png", "--colormap", "rainbow-unicorn"),
    "render-nan-exposure": _option("render", "{in}", "-o", "{out}/r.png", "--exposure", "nan"),
    "periodic-negative": _option("info", "--periodic", "-5", "{in}"),
    "periodic-nan": _option("info", "{in}", "--periodic", "nan"),
    "periodic-too-small": _option("info", "{in}", "--periodic", "5"),
    "periodic-from-npy": _option("info", "--periodic", "{in}"),
    "grid-shape-5000": _option("grid", "{in}", "--shape", "5000", "-o", "{out}/g.npy"),
    "grid-shape-zero": _option("grid", "{in}", "--shape", "0", "-o", "{out}/g.npy"),
    "grid-shape-two": _option("grid", "{in}", "--shape", "4", "4", "-o", "{out}/g.npy"),
    "grid-extent-reversed": _option("grid", "{in}", "--extent", "1", "1", "1", "0", "0", "0", "-o", "{out}/g.npy"),
    "fly-1e12-frames": _option("fly", "{in}", "-o", "{out}/m.mp4", "--fps", "1e6", "--duration", "1e6"),
    "fly-negative-duration": _option("fly", "{in}", "-o", "{out}/m.mp4", "--duration", "-1"),
    "fly-avi": _option("fly", "{in}", "-o", "{out}/m.avi"),
    "fly-png-no-field": _option("fly", "{in}", "-o", "{out}/frames.png"),
    "max-points-text": _option("info", "{in}", "--max-points", "many"),
    "columns-bad-role": _option("info", "{in}", "--columns", "w=a"),
    "type-negative": _option("info", "{in}", "--type", "-1"),
    "type-on-npy": _option("info", "{in}", "--type", "1"),
    "cosmology-unknown": _option("info", "{in}", "--cosmology", "Nope18"),
    "format-wrong": _option("info", "{in}", "--format", "hdf5"),
    "box-empty": _option("info", "{in}", "--box", "5", "5", "5", "6", "6", "6"),
    "unknown-command": _option("explode", sample=False),
    "unknown-option": _option("info", "{in}", "--frobnicate"),
    "no-arguments": _option(sample=False),
    "store-get-escaping-format": _crafted_store("get"),
    "store-export-escaping-format": _crafted_store("export"),
    "store-get-escaping-format-cwd": _cwd_get,
    "store-ingest-missing": _option("store", "ingest", "{out}/none.csv", "-o", "{out}/s.db", sample=False),
    "store-ingest-batch-0": _ingest("--batch", "0"),
    "store-ingest-pattern": _ingest("--images", "{dir}", "--pattern", "x.jpg"),
    "store-ingest-no-redshift": _ingest(rows=("ra,dec", ["1,2"])),
    "size-negative": _option("render", "{in}", "-o", "{out}/r.png", "--size", "-5x5"),
    "columns-missing": _option("info", "{in}", "--columns", "x=nope,y=b,z=c"),
    "max-points-zero": _option("info", "{in}", "--max-points", "0"),
    "box-nan": _option("info", "{in}", "--box", "nan", "0", "0", "1", "1", "1"),
    "grid-shape-negative": _option("grid", "{in}", "--shape", "-3", "-o", "{out}/g.npy"),
    "camera-garbage": _file_option("render", "--camera", "c.json", "{nope", "r.png"),
    "camera-wrong-json": _file_option("render", "--camera", "c.json", "[1, 2]", "r.png"),
    "fly-path-missing": _option("fly", "{in}", "-o", "{out}/m.mp4", "--path", "{out}/none.json"),
    "fly-path-garbage": _file_option("fly", "--path", "p.json", "\x00\x01", "m.mp4"),
    "h5-empty-member": lambda d: ["info", str(_h5(d / "m.h5", _h5_points)) + ":"],
    "store-info-folder": lambda d: ["store", "info", str(d)],
    "store-info-csv": lambda d: ["store", "info", str(_csv(d / "c.csv", "ra,dec,z", _sky_rows()))],
    "store-ingest-to-dev-null": _ingest(output=lambda d: Path(os.devnull)),
    "store-ingest-to-fifo": _ingest(output=lambda d: _fifo(d, "s.db")),
    "store-ingest-images-missing": _ingest("--images", "{dir}/no-such-folder"),
    "store-export-into-dev-null": lambda d: ["store", "export", str(_store(d, fmt="JPEG")), os.devnull],
    "store-export-escaping-id": _escaping_id_export,
    "store-get-unknown-id": lambda d: ["store", "get", str(_store(d)), "999", "-o", str(d / OUT / "x.jpg")],
    "store-get-text-id-on-integer-store": lambda d: ["store", "get", str(_store(d)), "abc", "-o", str(d / OUT / "x")],
    "store-sprites-on-npy": _option("render", "{in}", "--sprites", "-o", "{out}/r.png"),
    "obj-1e300": _bad_obj(b"v 0 0 0\nv 1e300 0 0\nv 0 1 0\nf 1 2 3\n"),
    "obj-binary": _bad_obj(b"v 0 0 0\x00\x01\x02"),
    "obj-face-out-of-range": _bad_obj(b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n"),
}


def _target(command: str, make: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    """``command`` writing onto a hostile target made by ``make``."""

    def build(d: Path) -> list[str]:
        target = str(make(d))
        source = str(_sample_link(d))
        if command == "tessellate":
            return ["tessellate", source, "-o", target]
        if command == "grid":
            return ["grid", source, "--shape", "4", "-o", target]
        if command == "render":
            return ["render", source, "-o", target, "--size", "32x24"]
        if command == "fly":
            return ["fly", source, "-o", target, "--size", "32x24", "--duration", "0.1"]
        return ["store", "get", str(_store(d)), "1", "-o", target]

    return build


def _dev_null_png(d: Path) -> Path:
    return _symlink(d / OUT, "r.png", os.devnull)


RAW_OK = (".npz", ".npy", ".jpg")
"""Suffixes of the commands that take any output name: /dev/null goes to them as it is."""

TARGETS: dict[str, Callable[[Path], Path]] = {
    "dev-null": lambda d: Path(os.devnull),
    "fifo": lambda d: _fifo(d, "pipe.out"),
    "folder": lambda d: d / OUT,
    "under-a-file": lambda d: _text(d / OUT / "plain", "") / "x.out",
    "symlink-to-dev-null": _dev_null_png,
}


def _named(make: Callable[[Path], Path], suffix: str) -> Callable[[Path], Path]:
    """The same target, under a name with the suffix the command wants (a device gets a link).

    Commands that check the suffix first (render, fly) would refuse /dev/null for its name
    alone, so they get a link to it named with their suffix.
    """

    def build(d: Path) -> Path:
        target = make(d)
        if target.suffix == suffix or target.is_dir() or (target == Path(os.devnull) and suffix in RAW_OK):
            return target
        if target.parent.is_file() or not target.exists():
            return target.with_suffix(suffix)
        return _symlink(d / OUT, f"link{suffix}", str(target))

    return build


def all_cases() -> list[Case]:
    """Every case of the corpus."""
    cases = [Case(f"info-{name}", info(make), needs_root_free=name == "unreadable") for name, make in FILES.items()]
    cases += [Case(f"tessellate-{name}", tess(FILES[name])) for name in ("npy-truncated", "h5-self-link", "csv-dec-95")]
    cases += [Case(f"option-{name}", build) for name, build in OPTIONS.items()]
    suffixes = {"tessellate": ".npz", "grid": ".npy", "render": ".png", "fly": ".mp4", "get": ".jpg"}
    for command, suffix in suffixes.items():
        for name, make in TARGETS.items():
            cases.append(Case(f"target-{command}-{name}", _target(command, _named(make, suffix))))
    return cases
