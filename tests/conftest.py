"""Shared fixtures: an isolated cache, the real-data folder, and a headless GL context."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "data" / "sample.npy"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's tessellation cache out of the user's cache folder."""
    monkeypatch.setenv("DELVOL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder of real files; skips the test when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"real data folder {SHARED} is absent")
    return SHARED


def shared_file(relative: str) -> Path:
    """A file under ../shared/data, skipping the test when it is absent."""
    path = SHARED / relative
    if not path.is_file():
        pytest.skip(f"real data file {path} is absent")
    return path


@pytest.fixture(scope="session")
def sample_points() -> np.ndarray:
    return np.load(SAMPLE).astype(np.float64)


@pytest.fixture(scope="session")
def _egl_context():
    moderngl = pytest.importorskip("moderngl")
    try:
        ctx = moderngl.create_standalone_context(require=330, backend="egl")
    except Exception as exc:  # no EGL driver on this machine
        pytest.skip(f"no headless OpenGL 3.3 context through EGL: {exc}")
    yield ctx
    ctx.release()


@pytest.fixture
def ctx(_egl_context):
    """A headless OpenGL context, current during the test; the test fails if it leaves a GL error behind.

    Made current for every test: another context (a notebook widget's, one that
    ``delvol.render`` made) may have been current since, and leaving a ``with`` block of
    a glcontext EGL context leaves none current.
    """
    with _egl_context:
        _ = _egl_context.error  # reading the error flag clears what an earlier test left
        yield _egl_context
        assert _egl_context.error == "GL_NO_ERROR"
