"""Every hostile block folder (folder_cases.py) fails cleanly in every command that reads it.

Exit status 2, one line on stderr naming a file of the case, no traceback, nothing left in
the output folder and nothing changed around it. A command is held only to what it reads:
``info`` reads the index and ``points.npz`` and only checks that the block files exist;
``grid`` reads no block's core, volumes or faces. The CLI runs in-process. The variants
that are valid (a symlink followed, a compressed member) must give the valid folder's grid.
"""

from __future__ import annotations

import numpy as np
import pytest
from folder_cases import FOLLOWED, VARIANTS, make_case
from test_blocks_folder import _write
from test_hostile_inputs import _run, _tree

from benchmarks.pointsets import soneira_peebles

UNREAD = {
    "info": {
        name
        for name in VARIANTS
        if name.startswith("block-") and name not in ("block-missing", "block-a-directory")
        and not name.startswith("block-symlink")
    },
    "grid": {
        "block-no-core", "block-no-tet_volume", "block-no-faces", "block-faces-negative", "block-faces-past-end",
        "block-core-beyond", "block-core-negative", "block-faces-four-columns", "block-tet_volume-short",
        "block-faces-strings", "block-core-2d",
    },
}  # fmt: skip
"""Variants a command need not refuse: the damage is in arrays it does not read."""
COMMANDS = {
    "info": lambda src, out: ["info", src],
    "grid": lambda src, out: ["grid", src, "--shape", "6", "-o", f"{out}/g.npy"],
    "render": lambda src, out: ["render", src, "--size", "24x16", "-o", f"{out}/r.png"],
    "fly": lambda src, out: ["fly", src, "--size", "24x16", "--duration", ".1", "--fps", "9", "-o", f"{out}/m.mp4"],
    "project": lambda src, out: ["project", src, "--size", "8", "-o", f"{out}/p.npy"],
}  # fmt: skip
EVERY_COMMAND = ("index-entry-file-dotdot", "points-nan", "block-faces-past-end", "index-entry-duplicate")
"""Variants run through fly and project too (they read a folder as render does: the sweep ran them on all)."""


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """A valid folder of 600 clustered points in 4 blocks."""
    tmp = tmp_path_factory.mktemp("valid-folder")
    return _write(tmp / "blocks", soneira_peebles(600, seed=4), 4)


def _fails_cleanly(name, valid, commands, tmp_path, capsys, monkeypatch, by_block=()):
    work = tmp_path / "case"
    out = work / "out"
    out.mkdir(parents=True)
    source = make_case(valid, work, VARIANTS[name])
    before, around = _tree(work, skip=out), _tree(tmp_path, skip=work)
    runs = [(command, None) for command in commands] + [(command, 1) for command in by_block]
    for command, face_budget in runs:
        capsys.readouterr()
        with monkeypatch.context() as patch:
            if face_budget is not None:
                patch.setattr("delvol.gl.build.DEFAULT_FACE_BUDGET", face_budget)
            status = _run(COMMANDS[command](source, out))
        err = capsys.readouterr().err
        assert status == 2, (command, face_budget, err)
        assert len(err.splitlines()) == 1 and err.startswith("delvol: error: ") and "Traceback" not in err, err
        assert str(work) in err, err  # names the file
        assert list(out.iterdir()) == [], command
    assert _tree(work, skip=out) == before and _tree(tmp_path, skip=work) == around


@pytest.mark.parametrize("name", list(VARIANTS))
def test_hostile_folder_fails_cleanly(name, valid, tmp_path, capsys, monkeypatch):
    commands = [c for c in ("info", "grid") if name not in UNREAD.get(c, ())]
    _fails_cleanly(name, valid, commands, tmp_path, capsys, monkeypatch)


@pytest.mark.gl
@pytest.mark.parametrize("name", list(VARIANTS))
def test_hostile_folder_fails_cleanly_drawn(name, valid, tmp_path, capsys, monkeypatch):
    """Assembled, and block by block (as if too large to assemble)."""
    _fails_cleanly(name, valid, ["render"], tmp_path, capsys, monkeypatch, by_block=("render",))


@pytest.mark.gl
@pytest.mark.parametrize("name", EVERY_COMMAND)
def test_hostile_folder_fails_cleanly_in_fly_and_project(name, valid, tmp_path, capsys, monkeypatch):
    _fails_cleanly(name, valid, ["project", "fly"], tmp_path, capsys, monkeypatch, by_block=("fly",))


@pytest.mark.parametrize("name", list(FOLLOWED))
def test_valid_variants_give_the_valid_folders_grid(name, valid, tmp_path):
    assert _run(COMMANDS["grid"](str(valid), tmp_path)) == 0
    expected = np.load(tmp_path / "g.npy")
    work = tmp_path / "case"
    work.mkdir()
    source = make_case(valid, work, FOLLOWED[name])
    assert _run(COMMANDS["info"](source, work)) == 0
    assert _run(COMMANDS["grid"](source, work)) == 0
    np.testing.assert_array_equal(np.load(work / "g.npy"), expected)


MESSAGES = {
    "index-entry-file-dotdot": ("index.json", "block 0 names '../outside/block-00000.npz', not block-00000.npz"),
    "index-entry-duplicate": ("index.json", "block 0 is listed twice"),
    "index-n_points-plus-one": ("index.json", "the blocks' cores hold 600 points, 'n_points' is 601"),
    "points-nan": ("points.npz", "the points are not all finite"),
    "block-tetrahedra-past-end": ("block-00000.npz", "damaged block file: 'tetrahedra' holds 0.."),
    "block-missing": ("block-00000.npz", "block file missing (index.json lists 4 blocks)"),
    "dir-empty": ("empty", "a folder with no index.json"),
    "dir-a-file-with-slash": ("index.json", "not a folder, though the name given ends in '/'"),
}


@pytest.mark.parametrize("name", list(MESSAGES))
def test_the_line_names_the_file_and_the_problem(name, valid, tmp_path, capsys):
    named, problem = MESSAGES[name]
    source = make_case(valid, tmp_path, VARIANTS[name])
    capsys.readouterr()
    assert _run(["grid", source, "-o", str(tmp_path / "g.npy")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"delvol: error: {tmp_path}/") and f"{named}: " in err and problem in err, err
