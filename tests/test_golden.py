"""A small golden image of the bundled sample, compared with a tolerance.

The reference was rendered on Mesa's llvmpipe; other rasterisers round differently, so
the comparison only runs there. Regenerate after an intended change with
``DELVOL_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and look at it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE
from PIL import Image

from delvol.geometry.cache import cached_tessellate
from delvol.gl.offscreen import render_image, save_png
from delvol.gl.renderer import Renderer
from delvol.scene.camera import Camera

pytestmark = pytest.mark.gl
GOLDEN = Path(__file__).parent / "golden" / "sample_320x180.png"


def test_sample_matches_golden(ctx):
    if "llvmpipe" not in ctx.info["GL_RENDERER"]:
        pytest.skip(f"the golden image was rendered on llvmpipe, not {ctx.info['GL_RENDERER']}")
    tess = cached_tessellate(np.load(SAMPLE))
    renderer = Renderer(ctx)
    renderer.set_tessellation(tess)
    camera = Camera()
    camera.fit(tess.points.min(axis=0), tess.points.max(axis=0), aspect=320 / 180)
    image = render_image(renderer, camera, (320, 180))
    renderer.release()
    if os.environ.get("DELVOL_REGENERATE_GOLDEN"):
        save_png(image, GOLDEN)
        pytest.skip(f"regenerated {GOLDEN}")
    golden = np.asarray(Image.open(GOLDEN).convert("RGB")).astype(int)
    diff = np.abs(image.astype(int) - golden)
    assert diff.mean() < 0.5
    assert np.percentile(diff, 99.9) <= 8
