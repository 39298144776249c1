"""The notebook widget in a real browser: JupyterLab in headless Chromium, a pointer drag turns the view.

Needs Debian's chromium and chromium-driver, and the jupyterlab and selenium packages;
skipped cleanly when any is missing. The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

pytest.importorskip("jupyter_rfb")
pytest.importorskip("jupyterlab")
nbformat = pytest.importorskip("nbformat")
webdriver = pytest.importorskip("selenium.webdriver")
Image = pytest.importorskip("PIL.Image")

pytestmark = [pytest.mark.gl, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("no chromium and chromedriver (apt-get install chromium chromium-driver)", allow_module_level=True)

CELL = """\
import numpy as np
from delvol.notebook import Viewer

points = np.random.default_rng(0).normal(size=(3000, 3)) * [1.0, 0.3, 0.3]
viewer = Viewer(points, size=(320, 200))
viewer"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a notebook that opens a viewer; yields its URL."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "view.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start")
                time.sleep(0.5)
        yield f"{base}/lab/tree/view.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # the page is still building: elements come and go
            value = None
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def picture(element) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(element.screenshot_as_png)).convert("RGB"), dtype=np.int16)


def settled(element, seconds: float = 60) -> np.ndarray:
    """The widget's picture once progressive detail has stopped changing it."""
    last = picture(element)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = picture(element)
        if np.array_equal(now, last) and now.max() > 40:
            return now
        last = now
    pytest.fail("the widget's picture never settled")


def test_a_drag_in_jupyterlab_turns_the_view(lab, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(lab)
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"), 120, "the notebook")
    # The status bar reads "Python 3 (ipykernel) | Idle" once the kernel has started.
    status = (By.CSS_SELECTOR, ".jp-StatusBar-Widget")
    wait_for(lambda: any("| Idle" in item.text for item in browser.find_elements(*status)), 180, "the kernel")
    browser.find_element(By.XPATH, "//div[contains(@class, 'lm-MenuBar-itemLabel') and text()='Run']").click()
    browser.find_element(By.XPATH, "//div[contains(@class, 'lm-Menu-itemLabel') and text()='Run All Cells']").click()
    view = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "img.renderview-view"), 300, "the widget")
    before = settled(view)
    ActionChains(browser).move_to_element(view).click_and_hold().move_by_offset(80, 0).pause(0.3).release().perform()
    after = settled(view)
    assert before.shape == after.shape
    changed = np.abs(after - before).max(axis=2) > 30
    assert changed.mean() > 0.02, f"only {changed.mean():.1%} of the pixels changed"
