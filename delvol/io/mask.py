"""Angular survey masks: which directions on the sky a survey observed.

Two kinds of file are read:

- HEALPix maps in FITS (any nside, RING or NESTED, full-sky or partial ``PIXEL`` lists):
  a direction is in the footprint when its pixel's value is above ``threshold`` (and not
  ``UNSEEN``). Pixels are located with astropy-healpix.
- RA/Dec cell lists: text with one ``ra dec`` pair of integer degrees per line (as ships
  beside the SDSS DR7 catalogue in VAST), each naming the cell
  ``[ra, ra + 1) × [dec, dec + 1)`` degrees.

Mangle polygon files are not read: no maintained Python reader installs from PyPI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.io.tables import is_fits

UNSEEN = -1.6375e30
"""HEALPix's value for pixels without data."""


@dataclass(frozen=True)
class Footprint:
    """A survey footprint: a lookup from direction to observed or not.

    Attributes
    ----------
    kind : {"healpix", "cells"}
    nside : int
        HEALPix resolution (``kind == "healpix"``); 0 for cells.
    order : {"ring", "nested"}
    inside : ndarray of bool
        Per HEALPix pixel, or per one-degree cell as ``inside[ra, dec + 90]`` (360 × 181).
    source : str
        The file, for reports.
    """

    kind: str
    nside: int
    order: str
    inside: np.ndarray
    source: str = ""

    @property
    def resolution_deg(self) -> float:
        """The size of one mask element, in degrees."""
        if self.kind == "cells":
            return 1.0
        return float(np.degrees(np.sqrt(4 * np.pi / (12 * self.nside**2))))

    @property
    def area_sr(self) -> float:
        """The footprint's solid angle, in steradians."""
        if self.kind == "healpix":
            return 4 * np.pi * np.count_nonzero(self.inside) / self.inside.size
        dec = np.radians(np.arange(-90, 91))
        band = np.sin(np.minimum(dec + np.radians(1), np.pi / 2)) - np.sin(dec)  # per one-degree cell
        return float(np.radians(1) * np.sum(self.inside * band[None, :]))

    def contains(self, ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
        """Whether each direction lies in the footprint."""
        ra = np.mod(np.asarray(ra_deg, dtype=np.float64), 360.0)
        dec = np.asarray(dec_deg, dtype=np.float64)
        if self.kind == "cells":
            i = np.minimum(np.floor(ra).astype(np.int64), 359)
            j = np.clip(np.floor(dec).astype(np.int64) + 90, 0, 180)
            return self.inside[i, j]
        from astropy import units as u
        from astropy_healpix import HEALPix

        pix = HEALPix(self.nside, self.order).lonlat_to_healpix(ra * u.deg, dec * u.deg)
        return self.inside[pix]

    def describe(self) -> str:
        """One line for ``delvol info``."""
        what = "RA/Dec one-degree cells" if self.kind == "cells" else f"HEALPix nside {self.nside} {self.order.upper()}"
        return f"{what}, {self.area_sr * (180 / np.pi) ** 2:,.0f} deg² ({Path(self.source).name})"


def read_mask(path: str | os.PathLike, threshold: float = 0.0) -> Footprint:
    """Read a HEALPix FITS map or an RA/Dec cell list (see the module docstring).

    Raises
    ------
    DelvolError
        Unreadable file, a FITS file that is not a HEALPix map, or a cell list with
        malformed lines; also a footprint with no observed direction.
    """
    p = Path(path)
    if not p.is_file():
        raise DelvolError("no such mask file" if not p.exists() else "not a regular file", p)
    footprint = _read_healpix(p, threshold) if is_fits(p) else _read_cells(p)
    if not footprint.inside.any():
        raise DelvolError("the mask holds no observed direction", p)
    return footprint


def _read_healpix(path: Path, threshold: float) -> Footprint:
    from astropy.io import fits

    try:
        with fits.open(path, memmap=False) as hdus:
            hdu = next((h for h in hdus if isinstance(h, fits.BinTableHDU)), None)
            if hdu is None:
                raise DelvolError("a FITS mask must hold a HEALPix binary table", path)
            header = hdu.header
            nside = int(header.get("NSIDE", 0))
            order = str(header.get("ORDERING", "RING")).strip().lower()
            names = hdu.columns.names
            explicit = "PIXEL" in [n.upper() for n in names]
            value_name = next(n for n in names if n.upper() != "PIXEL")
            values = np.asarray(hdu.data[value_name], dtype=np.float64).reshape(-1)
            pixels = (
                np.asarray(hdu.data[names[[n.upper() for n in names].index("PIXEL")]]).reshape(-1) if explicit else None
            )
    except DelvolError:
        raise
    except (OSError, ValueError, KeyError, StopIteration, TypeError) as exc:
        raise DelvolError(f"cannot read as a HEALPix map ({exc})", path) from exc
    if nside < 1 or nside & (nside - 1):
        raise DelvolError(f"NSIDE must be a power of 2, got {nside}", path)
    if order not in ("ring", "nested"):
        raise DelvolError(f"ORDERING must be RING or NESTED, got {order.upper()!r}", path)
    npix = 12 * nside**2
    observed = np.isfinite(values) & (values != UNSEEN) & (values > threshold)
    inside = np.zeros(npix, dtype=bool)
    if pixels is None:
        if len(values) != npix:
            raise DelvolError(f"{len(values):,} values for the {npix:,} pixels of NSIDE {nside}", path)
        inside[:] = observed
    else:
        if len(pixels) != len(values) or pixels.min(initial=0) < 0 or pixels.max(initial=0) >= npix:
            raise DelvolError("PIXEL indices do not fit the map", path)
        inside[pixels[observed]] = True
    return Footprint("healpix", nside, order, inside, os.fspath(path))


def _read_cells(path: Path) -> Footprint:
    try:
        cells = np.loadtxt(path, comments="#", ndmin=2)
    except (OSError, ValueError) as exc:
        raise DelvolError(f"cannot read as an RA/Dec cell list ({exc})", path) from exc
    if cells.size == 0:
        raise DelvolError("the mask holds no observed direction", path)
    if cells.shape[1] != 2 or not np.all(cells == np.round(cells)):
        raise DelvolError("a cell list needs two integer columns, ra and dec in degrees", path)
    ra, dec = cells[:, 0].astype(np.int64), cells[:, 1].astype(np.int64)
    if ra.min() < 0 or ra.max() > 359 or dec.min() < -90 or dec.max() > 90:
        raise DelvolError("cells must have 0 <= ra <= 359 and -90 <= dec <= 90", path)
    inside = np.zeros((360, 181), dtype=bool)
    inside[ra, dec + 90] = True
    return Footprint("cells", 0, "ring", inside, os.fspath(path))
