"""The wheel holds every package, shader and asset, and a fresh install of it works end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SAMPLE
from PIL import Image

from delvol import __version__
from delvol.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(out), "-q"]
    subprocess.run(build, check=True, cwd=out, timeout=300)
    return next(out.glob("delvol-*.whl"))


def _tree_files(folder: Path, suffixes: tuple[str, ...]) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts
    }


def test_wheel_holds_every_module_shader_and_asset(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    # Every module of every (sub)package in the checkout, whether or not it has an __init__.py.
    modules = {f"delvol/{name}" for name in _tree_files(ROOT / "delvol", (".py",))}
    assert modules - names == set()
    shaders = {f"delvol/shaders/{name}" for name in _tree_files(ROOT / "shaders", (".vert", ".frag", ".geom", ".glsl"))}
    assert len(shaders) >= 10 and shaders - names == set()
    assert "delvol/assets/colormaps.npz" in names
    assert not any("__pycache__" in n or n.endswith(".jpg") for n in names)


def test_installed_wheel_renders_end_to_end(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    # With its dependencies, from the registry pip is configured for (or its cache).
    subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
        timeout=600,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONNOUSERSITE"] = "1"
    work = tmp_path / "work"  # neither the checkout nor its parent: nothing but the venv supplies delvol
    work.mkdir()

    def delvol(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [bin_dir / "delvol", *args], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )

    version = delvol("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"delvol {__version__}"

    where = subprocess.run(
        [bin_dir / "python", "-c", "import delvol.gl.visuals as m; print(m.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(env_dir)

    out = work / "x.png"
    # Qhull on both sides: the fresh venv has no optional engine, the checkout's may have one,
    # and another triangulation sums the same faces in another order (a few pixels off by 1).
    args = ("--size", "160x90", "--engine", "scipy")
    rendered = delvol("render", str(SAMPLE), "-o", str(out), *args)
    if rendered.returncode != 0 and "OpenGL" in rendered.stderr:
        pytest.skip(f"no headless OpenGL here: {rendered.stderr.strip()}")
    assert rendered.returncode == 0, rendered.stderr
    # The installed copy draws exactly what the checkout draws.
    reference = tmp_path / "reference.png"
    assert main(["render", str(SAMPLE), "-o", str(reference), *args]) == 0
    image = np.asarray(Image.open(out))
    assert image.shape[:2] == (90, 160)
    assert image.std() > 1.0
    np.testing.assert_array_equal(image, np.asarray(Image.open(reference)))
