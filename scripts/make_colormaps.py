"""Generate assets/colormaps.npz: the renderer's colour tables, sampled from matplotlib.

Each name in :data:`delvol.render.colormaps.COLORMAPS` and ``DIVERGING`` is matplotlib's colormap of that
name sampled at 256 evenly spaced points, stored as a ``(256, 3)`` float32 RGB array (alpha
dropped) under its name. These colormaps all have 256 entries, so the samples are exactly
matplotlib's own lookup tables.

``cubehelix`` is matplotlib's, that is D. A. Green's scheme (2011, Bull. Astr. Soc. India
39, 289) with his default parameters: start 0.5, rotations -1.5, hue 1, gamma 1. With these
the helix stays inside the sRGB gamut (no channel needs clipping) and CIE L* rises
monotonically from black to white (tests/test_colormaps.py checks the lightness). Larger
hue values push the helix out of the gamut, and the clipping distorts the colours and,
from hue 3 or so, the lightness ramp; the defaults avoid that, so no variant is needed.

Run ``python -m scripts.make_colormaps`` from the project root (or, with delvol installed,
``python scripts/make_colormaps.py``). Only this script and the tests need matplotlib.
The archive's entries carry a fixed timestamp, so regenerating gives identical bytes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import matplotlib
import numpy as np

from delvol.render.colormaps import COLORMAPS, DIVERGING, SIZE

OUT = Path(__file__).resolve().parent.parent / "assets" / "colormaps.npz"


def sample(name: str) -> np.ndarray:
    """matplotlib's colormap ``name`` at ``SIZE`` evenly spaced points, float32 RGB."""
    return matplotlib.colormaps[name](np.linspace(0.0, 1.0, SIZE))[:, :3].astype(np.float32)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write what :func:`numpy.savez_compressed` would, with reproducible entry timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w") as fh:
                np.lib.format.write_array(fh, array, allow_pickle=False)


def main() -> None:
    names = COLORMAPS + DIVERGING
    write_npz(OUT, {name: sample(name) for name in names})
    print(f"wrote {OUT}: {', '.join(names)} ({SIZE} entries each)")


if __name__ == "__main__":
    main()
