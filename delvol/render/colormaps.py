"""Colour tables for the renderer's transfer functions, without OpenGL or matplotlib.

The tables are sampled from matplotlib once, by ``scripts/make_colormaps.py``, and ship as
the ``colormaps.npz`` asset, so matplotlib is needed only to regenerate them and to test
them. They are read on first use and cached.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from delvol.resources import asset

#: The colormap names, the renderer's default first. Each rises monotonically in lightness,
#: so brighter always means denser, in print and to colour-blind eyes alike.
COLORMAPS = ("magma", "inferno", "viridis", "cividis", "cubehelix", "gray")

#: Diverging colormaps for the hue of ``--color-by`` (a second quantity over the density),
#: the default first: two hues meeting at a light neutral, so that the sign of a field such
#: as the velocity divergence (infall or expansion) reads at a glance.
DIVERGING = ("coolwarm", "RdBu_r", "PuOr_r", "BrBG", "Spectral_r")

#: Entries per table: one texel each in a 1-D lookup texture.
SIZE = 256


def colormap(name: str) -> np.ndarray:
    """The colour table ``name`` as a read-only ``(SIZE, 3)`` float32 array of RGB in [0, 1].

    Parameters
    ----------
    name : str
        One of :data:`COLORMAPS` or :data:`DIVERGING`.

    Raises
    ------
    ValueError
        ``name`` is not a known colormap; the message lists the choices.
    """
    if name not in COLORMAPS + DIVERGING:
        raise ValueError(f"unknown colormap {name!r}; choose from {', '.join(COLORMAPS + DIVERGING)}")
    return _tables()[name]


@cache
def _tables() -> dict[str, np.ndarray]:
    """Every table in the asset, made read-only because the same arrays are handed to every caller."""
    with asset("colormaps.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        tables = {name: npz[name] for name in COLORMAPS + DIVERGING}
    for table in tables.values():
        table.setflags(write=False)
    return tables
