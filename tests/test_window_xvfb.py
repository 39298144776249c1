"""A real window under Xvfb: start ``delvol view``, fly with xdotool, take screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE
from galaxy_store import BLACK, GREEN, ROW, observer_camera, patch_store, solid_jpeg
from PIL import Image

from delvol.io.galaxy_store.database import GalaxyStore

pytestmark = [pytest.mark.window, pytest.mark.slow]


@pytest.fixture(scope="module")
def display():
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install xvfb xauth xdotool)")
    for number in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    name = f":{number}"
    server = subprocess.Popen(
        ["Xvfb", name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.time() > deadline or server.poll() is not None:
            server.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.1)
    yield name
    server.terminate()
    server.wait(timeout=10)


def xdotool(display, *args, timeout=30) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=timeout).stdout


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def viewer_window(display, tmp_path, *args):
    """Run ``delvol view ARGS`` at 480x320, yield its window id, and expect it to quit with Esc."""
    env = {**os.environ, "DISPLAY": display, "DELVOL_CACHE_DIR": str(tmp_path / "cache")}
    log = open(tmp_path / "view.log", "w")  # closed in the finally, after the process
    command = [sys.executable, "-m", "delvol", "view", *map(str, args), "--size", "480x320"]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # The title switches to "delvol - N=..." once the first frames are drawn.
        found = wait_for(lambda: xdotool(display, "search", "--name", "delvol - N="), 120, "the viewer window")
        wid = found.split()[0]
        yield wid
        xdotool(display, "key", "--window", wid, "Escape")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def test_fly_and_screenshot_in_a_real_window(display, tmp_path):
    shots = tmp_path / "shots"
    with viewer_window(display, tmp_path, SAMPLE, "--screenshot-dir", shots) as wid:
        xdotool(display, "keydown", "--window", wid, "w")
        time.sleep(1.0)
        xdotool(display, "keyup", "--window", wid, "w")
        time.sleep(0.5)
        xdotool(display, "key", "--window", wid, "p")
        first = wait_for(lambda: sorted(shots.glob("delvol-*.png")), 30, "the first screenshot")[0]
        xdotool(display, "keydown", "--window", wid, "d")
        time.sleep(1.0)
        xdotool(display, "keyup", "--window", wid, "d")
        xdotool(display, "key", "--window", wid, "t")
        time.sleep(0.5)
        xdotool(display, "key", "--window", wid, "F12")
        second = wait_for(lambda: sorted(set(shots.glob("delvol-*.png")) - {first}), 30, "the second screenshot")[0]
    output = (tmp_path / "view.log").read_text()
    assert f"screenshot: {first}" in output and "stretch: asinh" in output
    a, b = (np.asarray(Image.open(p)) for p in (first, second))
    assert a.shape == b.shape == (320, 480, 3)
    assert a.std() > 5 and b.std() > 5
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 2  # moved and restretched: a different view


def test_click_a_galaxy_in_a_real_window(display, tmp_path):
    images = {objid: solid_jpeg(GREEN if objid in ROW else BLACK) for objid in [*ROW, *range(10, 30)]}
    db = patch_store(tmp_path / "store", images)
    cam, state = observer_camera(tmp_path, db, (480, 320))
    with GalaxyStore(db) as store:
        positions, objids = store.positions(), store.objids()
    x, y = cam.project(positions[objids == 3], 480, 320)[0]
    shots = tmp_path / "shots"
    args = (db, "--camera", state, "--sprites", "--sprite-size", "1Mpc", "--screenshot-dir", shots)
    with viewer_window(display, tmp_path, *args) as wid:
        xdotool(display, "mousemove", "--window", wid, str(round(x)), str(round(y)))
        xdotool(display, "click", "1")  # through XTEST: windows ignore sent (synthetic) clicks
        wait_for(lambda: "galaxy 3 at (" in (tmp_path / "view.log").read_text(), 30, "the picked galaxy's row")
        xdotool(display, "key", "--window", wid, "p")
        shot = wait_for(lambda: sorted(shots.glob("delvol-*.png")), 30, "the screenshot")[0]
    assert "  redshift  0.03" in (tmp_path / "view.log").read_text()
    pixels = np.asarray(Image.open(shot)).astype(int)
    # The picture, enlarged in the top-right corner (480x320: a 144-pixel square 12 pixels in).
    np.testing.assert_allclose(pixels[12 + 72, 480 - 12 - 72], GREEN, atol=12)
    np.testing.assert_allclose(pixels[round(y), round(x)], GREEN, atol=12)


def test_no_display_points_to_render(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run(
        [sys.executable, "-m", "delvol", "view", str(SAMPLE)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "delvol render" in lines[0] and "Traceback" not in result.stderr


def test_view_a_block_folder_in_a_real_window(display, tmp_path):
    from delvol.blocks.run import SerialRunner, job_folder, prepare_job
    from delvol.blocks.store import write_blocks

    pts = np.load(SAMPLE).astype(np.float64)
    with job_folder(tmp_path / "work") as work:
        job, wrapped, masses, _ = prepare_job(pts, None, 4, work)
        index = write_blocks(
            tmp_path / "blocks", SerialRunner(), job, wrapped, masses, box_size=None, box_lower=None, info={}
        )
    budget = sum(entry["n_faces"] for entry in index["blocks"]) // 4
    shots = tmp_path / "shots"
    with viewer_window(
        display, tmp_path, tmp_path / "blocks", "--face-budget", budget, "--screenshot-dir", shots
    ) as wid:
        title = wait_for(lambda: xdotool(display, "getwindowname", wid), 30, "the title")
        xdotool(display, "key", "--window", wid, "p")
        shot = wait_for(lambda: sorted(shots.glob("delvol-*.png")), 30, "the screenshot")[0]
    assert f"N={len(pts):,}" in title and "far blocks coarser" in title
    pixels = np.asarray(Image.open(shot))
    assert pixels.shape == (320, 480, 3) and pixels.std() > 5
