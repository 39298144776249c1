"""Hostile block folders (``delvol tessellate FILE --blocks N -o DIR/``): damaged copies of a valid one.

Each variant edits a fresh copy of a valid folder (``d / "blocks"``, with ``d`` the scratch
folder around it) and returns the path to hand to the command: the folder, or something
else where the case is about the path. A valid copy of block 0 lies at ``d / "outside"``
for the cases that point outside the folder: were it read, the command would succeed.
tests/hostile/test_hostile_folders.py runs every command that takes a folder on each.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

FOLDER = "blocks"
OUTSIDE = "outside"
"""A folder beside the case's block folder holding a valid copy of its block 0."""
BLOCK = "block-00000.npz"


def _index(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "index.json").read_text())


def _edit_index(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Path]:
    """A variant whose index is ``change(index)`` (or ``index`` changed in place when that returns None)."""

    def build(d: Path) -> Path:
        folder = d / FOLDER
        index = _index(folder)
        changed = change(index)
        (folder / "index.json").write_text(json.dumps(index if changed is None else changed))
        return folder

    return build


def _set(where: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda index: where(index).__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda index: index.pop(key) and None


def _entry(i: int = 0) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda index: index["blocks"][i]


def _top(index: dict[str, Any]) -> dict[str, Any]:
    return index


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _resave(name: str, change: Callable[[dict[str, np.ndarray]], Any]) -> Callable[[Path], Path]:
    """A variant whose ``name`` (points.npz or a block file) holds ``change(arrays)`` (in place when None)."""

    def build(d: Path) -> Path:
        path = d / FOLDER / name
        arrays = _arrays(path)
        changed = change(arrays)
        with open(path, "wb") as fh:
            np.savez(fh, **(arrays if changed is None else changed))
        return d / FOLDER

    return build


def _put(key: str, value: Callable[[dict[str, np.ndarray]], Any]) -> Callable[[dict[str, np.ndarray]], None]:
    return lambda arrays: arrays.__setitem__(key, value(arrays))


def _without(key: str) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    return lambda arrays: {name: array for name, array in arrays.items() if name != key}


def _poke(key: str, row: int, value: Any) -> Callable[[dict[str, np.ndarray]], None]:
    """Set the first entry of one row (the last row when ``row`` is -1) of an array."""

    def change(arrays: dict[str, np.ndarray]) -> None:
        array = arrays[key].copy()
        array.reshape(len(array), -1)[row, 0] = value
        arrays[key] = array

    return change


def _bytes(name: str, data: Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    """A variant whose file ``name`` holds ``data(its bytes)``."""

    def build(d: Path) -> Path:
        path = d / FOLDER / name
        path.write_bytes(data(path.read_bytes()))
        return d / FOLDER

    return build


def _huge_member(name: str, member: str, shape: tuple[int, ...], descr: str) -> Callable[[Path], Path]:
    """A variant whose ``name`` has a member that promises ``shape`` and holds 4 kB."""

    def build(d: Path) -> Path:
        from io import BytesIO

        path = d / FOLDER / name
        arrays = _arrays(path)
        header = BytesIO()
        npy_format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
        with zipfile.ZipFile(path, "w") as z:
            for key, array in arrays.items():
                if key != member:
                    buffer = BytesIO()
                    np.save(buffer, array)
                    z.writestr(key + ".npy", buffer.getvalue())
            z.writestr(member + ".npy", header.getvalue() + b"\0" * 4096)
        return d / FOLDER

    return build


def _remove(name: str) -> Callable[[Path], Path]:
    return lambda d: (d / FOLDER / name).unlink() or d / FOLDER


def _make_dir(name: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        (d / FOLDER / name).unlink()
        (d / FOLDER / name).mkdir()
        return d / FOLDER

    return build


def _symlink(name: str, target: Callable[[Path], str]) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        path = d / FOLDER / name
        path.unlink()
        os.symlink(target(d), path)
        return d / FOLDER

    return build


def _file_with_slash(d: Path) -> str:
    return f"{d / FOLDER / 'index.json'}/"  # a Path would drop the slash


def _duplicate_block(index: dict[str, Any]) -> None:
    index["blocks"][1] = dict(index["blocks"][0])


def _n_points(delta: int) -> Callable[[dict[str, Any]], None]:
    return lambda index: index.__setitem__("n_points", index["n_points"] + delta)


def _keys_beyond(arrays: dict[str, np.ndarray]) -> None:
    keys = arrays["vertex_keys"].copy()
    keys[-1] = 27 * 10**6  # beyond every image of every point
    arrays["vertex_keys"] = keys


def _past_end(key: str) -> Callable[[dict[str, np.ndarray]], None]:
    """Point the first vertex of ``key`` (tetrahedra or faces) one past the block's last vertex."""

    def change(arrays: dict[str, np.ndarray]) -> None:
        _poke(key, 0, len(arrays["vertex_keys"]))(arrays)

    return change


VARIANTS: dict[str, Callable[[Path], Path | str]] = {
    # index.json
    "index-missing": _remove("index.json"),
    "index-empty": _bytes("index.json", lambda _: b""),
    "index-not-json": _bytes("index.json", lambda _: b"{not json"),
    "index-binary": _bytes("index.json", lambda _: bytes(range(256))),
    "index-list": _edit_index(lambda index: [index]),
    "index-a-directory": _make_dir("index.json"),
    "index-format-2": _edit_index(_set(_top, "format_version", 2)),
    **{f"index-no-{key}": _edit_index(_drop(key)) for key in ("blocks", "n_points", "box_size", "box_lower", "info")},
    "index-n_points-string": _edit_index(lambda index: index.__setitem__("n_points", str(index["n_points"]))),
    "index-n_points-float": _edit_index(lambda index: index.__setitem__("n_points", index["n_points"] + 0.5)),
    "index-n_points-negative": _edit_index(_set(_top, "n_points", -3)),
    "index-n_points-huge": _edit_index(_set(_top, "n_points", 10**15)),
    "index-n_points-plus-one": _edit_index(_n_points(1)),
    "index-n_points-minus-one": _edit_index(_n_points(-1)),
    "index-box_size-string": _edit_index(_set(_top, "box_size", "1")),
    "index-box_size-negative": _edit_index(_set(_top, "box_size", -1.0)),
    "index-box_lower-two": _edit_index(_set(_top, "box_lower", [0.0, 0.0])),
    "index-info-list": _edit_index(_set(_top, "info", [])),
    "index-blocks-null": _edit_index(_set(_top, "blocks", None)),
    "index-blocks-empty": _edit_index(_set(_top, "blocks", [])),
    "index-blocks-object": _edit_index(_set(_top, "blocks", {"0": "block-00000.npz"})),
    "index-entry-number": _edit_index(lambda index: index["blocks"].__setitem__(0, 0)),
    "index-entry-no-file": _edit_index(lambda index: _entry()(index).pop("file") and None),
    "index-entry-no-n_faces": _edit_index(lambda index: _entry()(index).pop("n_faces") and None),
    "index-entry-block-string": _edit_index(_set(_entry(), "block", "0")),
    "index-entry-block-negative": _edit_index(_set(_entry(), "block", -1)),
    "index-entry-block-bool": _edit_index(_set(_entry(), "block", True)),
    "index-entry-n_faces-string": _edit_index(_set(_entry(), "n_faces", "many")),
    "index-entry-n_faces-negative": _edit_index(_set(_entry(), "n_faces", -5)),
    "index-entry-n_tetrahedra-negative": _edit_index(_set(_entry(), "n_tetrahedra", -5)),
    "index-entry-n_core-null": _edit_index(_set(_entry(), "n_core", None)),
    "index-entry-file-absolute": lambda d: _edit_index(_set(_entry(), "file", str(d / OUTSIDE / BLOCK)))(d),
    "index-entry-file-dotdot": _edit_index(_set(_entry(), "file", f"../{OUTSIDE}/{BLOCK}")),
    "index-entry-file-other-block": _edit_index(_set(_entry(), "file", "block-00001.npz")),
    "index-entry-file-null": _edit_index(_set(_entry(), "file", None)),
    "index-entry-duplicate": _edit_index(_duplicate_block),
    "index-entry-dropped": _edit_index(lambda index: index["blocks"].pop() and None),
    "index-entry-block-99": _edit_index(lambda index: _entry()(index).update(block=99, file="block-00099.npz")),
    # points.npz
    "points-missing": _remove("points.npz"),
    "points-empty": _bytes("points.npz", lambda _: b""),
    "points-truncated": _bytes("points.npz", lambda data: data[: len(data) // 2]),
    "points-not-zip": _bytes("points.npz", lambda _: b"x,y,z\n1,2,3\n"),
    "points-a-directory": _make_dir("points.npz"),
    **{f"points-no-{key}": _resave("points.npz", _without(key)) for key in ("points", "density", "hull")},
    "points-two-columns": _resave("points.npz", _put("points", lambda a: a["points"][:, :2])),
    "points-density-short": _resave("points.npz", _put("density", lambda a: a["density"][:-1])),
    "points-nan": _resave("points.npz", _poke("points", 5, np.nan)),
    "points-inf": _resave("points.npz", _poke("points", 5, np.inf)),
    "points-strings": _resave("points.npz", _put("points", lambda a: a["points"].astype("U8"))),
    "points-complex-density": _resave("points.npz", _put("density", lambda a: a["density"] + 0j)),
    "points-object-hull": _resave("points.npz", _put("hull", lambda a: a["hull"].astype(object))),
    "points-huge-member": _huge_member("points.npz", "density", (10**11,), "<f8"),
    # block files
    "block-missing": _remove(BLOCK),
    "block-empty": _bytes(BLOCK, lambda _: b""),
    "block-truncated": _bytes(BLOCK, lambda data: data[: len(data) // 2]),
    "block-a-directory": _make_dir(BLOCK),
    **{
        f"block-no-{key}": _resave(BLOCK, _without(key))
        for key in ("core", "vertex_keys", "vertex_position", "tetrahedra", "tet_volume", "faces")
    },
    "block-tetrahedra-negative": _resave(BLOCK, _poke("tetrahedra", 0, -1)),
    "block-tetrahedra-past-end": _resave(BLOCK, _past_end("tetrahedra")),
    "block-faces-negative": _resave(BLOCK, _poke("faces", -1, -7)),
    "block-faces-past-end": _resave(BLOCK, _past_end("faces")),
    "block-keys-negative": _resave(BLOCK, _poke("vertex_keys", 0, -1)),
    "block-keys-beyond": _resave(BLOCK, _keys_beyond),
    "block-core-beyond": _resave(BLOCK, _poke("core", 0, 10**6)),
    "block-core-negative": _resave(BLOCK, _poke("core", 0, -2)),
    "block-tetrahedra-three-columns": _resave(BLOCK, _put("tetrahedra", lambda a: a["tetrahedra"][:, :3])),
    "block-faces-four-columns": _resave(BLOCK, _put("faces", lambda a: a["tetrahedra"])),
    "block-position-two-columns": _resave(BLOCK, _put("vertex_position", lambda a: a["vertex_position"][:, :2])),
    "block-position-short": _resave(BLOCK, _put("vertex_position", lambda a: a["vertex_position"][:-1])),
    "block-tet_volume-short": _resave(BLOCK, _put("tet_volume", lambda a: a["tet_volume"][:-1])),
    "block-tetrahedra-float": _resave(BLOCK, _put("tetrahedra", lambda a: a["tetrahedra"].astype(float))),
    "block-keys-float": _resave(BLOCK, _put("vertex_keys", lambda a: a["vertex_keys"] + 0.5)),
    "block-faces-strings": _resave(BLOCK, _put("faces", lambda a: a["faces"].astype("U4"))),
    "block-tetrahedra-object": _resave(BLOCK, _put("tetrahedra", lambda a: a["tetrahedra"].astype(object))),
    "block-core-2d": _resave(BLOCK, _put("core", lambda a: a["core"][:, None])),
    "block-position-nan": _resave(BLOCK, _poke("vertex_position", 3, np.nan)),
    "block-huge-member": _huge_member(BLOCK, "tetrahedra", (10**11, 4), "<i4"),
    "block-symlink-loop": _symlink(BLOCK, lambda d: BLOCK),
    "block-symlink-dangling": _symlink(BLOCK, lambda d: str(d / "nowhere.npz")),
    # the folder's path
    "dir-missing": lambda d: d / "no-such-folder",
    "dir-empty": lambda d: (d / "empty").mkdir() or d / "empty",
    "dir-a-file-with-slash": _file_with_slash,
}

FOLLOWED: dict[str, Callable[[Path], Path]] = {
    "block-symlink-outside": _symlink(BLOCK, lambda d: str(d / OUTSIDE / BLOCK)),
    "index-symlink-outside": _symlink("index.json", lambda d: str(d / OUTSIDE / "index.json")),
    "points-compressed": lambda d: _compress(d / FOLDER / "points.npz"),
    "block-compressed": lambda d: _compress(d / FOLDER / BLOCK),
}
"""Variants that are valid and must give the valid folder's results: a symlinked file is followed
(as every reader of a path follows one), and a member compressed by another writer is read whole."""


def _compress(path: Path) -> Path:
    arrays = _arrays(path)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path.parent


def make_case(valid: Path, d: Path, variant: Callable[[Path], Path | str]) -> str:
    """Copy ``valid`` to ``d / FOLDER``, put a valid block 0 and index at ``d / OUTSIDE``, apply ``variant``.

    Returns the path to give the command, as a string (it may end in a slash).
    """
    shutil.copytree(valid, d / FOLDER)
    (d / OUTSIDE).mkdir()
    for name in (BLOCK, "index.json"):
        shutil.copy(valid / name, d / OUTSIDE / name)
    return os.fspath(variant(d))
