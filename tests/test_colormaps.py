"""The packaged colour tables: complete, identical to matplotlib's, and monotonic in lightness."""

from __future__ import annotations

import numpy as np
import pytest

from delvol.render.colormaps import COLORMAPS, DIVERGING, SIZE, colormap
from delvol.resources import asset


def cie_lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* (0 black to 100 white) of sRGB colours, with the D65 white point."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(luminance > (6 / 29) ** 3, 116 * np.cbrt(luminance) - 16, luminance * (29 / 3) ** 3)


def test_asset_holds_exactly_the_named_tables():
    with asset("colormaps.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        assert npz.files == list(COLORMAPS + DIVERGING)
    for name in COLORMAPS + DIVERGING:
        table = colormap(name)
        assert table.shape == (SIZE, 3) and table.dtype == np.float32
        assert table.min() >= 0 and table.max() <= 1


def test_tables_match_matplotlib():
    matplotlib = pytest.importorskip("matplotlib")
    for name in COLORMAPS + DIVERGING:
        expected = matplotlib.colormaps[name](np.linspace(0, 1, SIZE))[:, :3]
        # Every entry, the endpoints included: float32 storage keeps them within 1e-6.
        np.testing.assert_allclose(colormap(name), expected, atol=1e-6, rtol=0, err_msg=name)


@pytest.mark.parametrize("name", COLORMAPS)
def test_lightness_rises_monotonically(name):
    lightness = cie_lightness(colormap(name).astype(np.float64))
    assert (np.diff(lightness) > 0).all()
    assert lightness[0] < 20 and lightness[-1] > 85  # dark to light over most of the range


def test_grey_is_grey_and_known_endpoints():
    grey = colormap("gray")
    np.testing.assert_array_equal(grey[:, 0], grey[:, 1])
    np.testing.assert_array_equal(grey[:, 0], grey[:, 2])
    np.testing.assert_array_equal(grey[[0, -1]], [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_allclose(colormap("viridis")[0], [0.267004, 0.004874, 0.329415], atol=1e-6)


def test_tables_are_shared_and_read_only():
    table = colormap("magma")
    assert colormap("magma") is table
    with pytest.raises(ValueError, match="read-only"):
        table[0, 0] = 1.0


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown colormap 'jet'; choose from magma, inferno") as info:
        colormap("jet")
    assert all(name in str(info.value) for name in COLORMAPS)
