"""An installed wheel finds its shaders and assets through importlib.resources."""

from __future__ import annotations

import json
import subprocess
import sys
import venv

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

CHECK = """
import json, sys
from importlib.resources import files
import delvol
from delvol.resources import asset, shader_source
names = sorted(p.name for p in files("delvol.shaders").iterdir() if p.name.endswith((".vert", ".frag", ".glsl")))
print(json.dumps({
    "module": delvol.__file__,
    "shaders": names,
    "volume": shader_source("volume.frag").splitlines()[0],
    "colormaps": len(asset("colormaps.npz").read_bytes()),
}))
"""


def test_installed_wheel_finds_shaders(tmp_path):
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path / "dist"), "-q"]
    subprocess.run(build, check=True, cwd=tmp_path, timeout=300)
    wheel = next((tmp_path / "dist").glob("delvol-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, timeout=300
    )
    # -I: isolated mode, so neither the checkout nor the user site can supply delvol.
    result = subprocess.run(
        [python, "-I", "-c", CHECK], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(result.stdout)
    assert str(env_dir) in found["module"]
    expected = sorted(p.name for p in (ROOT / "shaders").iterdir() if p.suffix in (".vert", ".frag", ".glsl"))
    assert found["shaders"] == expected
    assert found["volume"].startswith("#version 330")
    assert found["colormaps"] == (ROOT / "assets" / "colormaps.npz").stat().st_size
