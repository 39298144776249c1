"""Surface-density maps (``delvol project``) and their files: FITS with a WCS-style header, or ``.npy``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from delvol.atomic import atomic_path

MAP_SUFFIXES = (".fits", ".npy")
"""The file types a map is written as."""
_AXIS_NAMES = "XYZ"


def field_map_path(path: str | os.PathLike, name: str) -> Path:
    """Where a ``.npy`` map's field map goes: beside it, ``MAP_NAME.npy`` (``:`` becomes ``-``)."""
    p = Path(path)
    return p.with_name(f"{p.stem}_{name.replace(':', '-')}.npy")


@dataclass
class SurfaceDensityMap:
    """The exact DTFE surface density along a coordinate axis, with what a reader of it needs.

    Attributes
    ----------
    image : ndarray, shape (rows, columns), float64
        ``Sigma``, mass per unit area; row 0 is the lowest row coordinate (as FITS stores
        images), column 0 the lowest column coordinate.
    axis : {"x", "y", "z"}
        The line of sight.
    axes : (int, int)
        The world axes of the columns and the rows (the two others, in their order).
    extent : (u0, u1, v0, v1)
        World range of the columns and the rows: pixel edges.
    supersample : int
        Rays per pixel side, averaged.
    units : str
        Length unit of the input coordinates ("" when the input states none).
    has_masses : bool
        Masses came from the input (else one unit per point).
    box_size : float, optional
        Side of the periodic box.
    points_mass : float
        The total mass of the points, to compare with :attr:`mass`.
    fields : dict
        Field name -> (map of its density-weighted mean along the line of sight, shaped
        like ``image``, NaN where ``image`` is 0; its units).
    """

    image: np.ndarray
    axis: str
    axes: tuple[int, int]
    extent: tuple[float, float, float, float]
    supersample: int
    units: str = ""
    has_masses: bool = False
    box_size: float | None = None
    points_mass: float = 0.0
    fields: dict[str, tuple[np.ndarray, str]] = field(default_factory=dict)

    @property
    def pixel(self) -> tuple[float, float]:
        """Pixel width and height in length units."""
        rows, columns = self.image.shape
        u0, u1, v0, v1 = self.extent
        return (u1 - u0) / columns, (v1 - v0) / rows

    @property
    def mass(self) -> float:
        """The mass in the map: its sum times the pixel area."""
        du, dv = self.pixel
        return float(self.image.sum() * du * dv)

    def save(self, path: str | os.PathLike, source: str = "") -> None:
        """Write the map atomically as ``.fits`` (with its header) or ``.npy`` (the image alone).

        ``source`` names the input file in the FITS header. Field maps go into further
        FITS extensions named after the field, or into ``.npy`` files beside the map
        (:func:`field_map_path`).

        Raises
        ------
        ValueError
            Another suffix.
        """
        suffix = Path(path).suffix.lower()
        if suffix == ".npy":
            for name, (mean, _) in self.fields.items():
                with atomic_path(field_map_path(path, name), suffix=".npy") as tmp:
                    np.save(tmp, mean)
            with atomic_path(path, suffix=".npy") as tmp:
                np.save(tmp, self.image)
        elif suffix == ".fits":
            from astropy.io import fits

            header = self.fits_header(source)
            hdus = [fits.PrimaryHDU(self.image.astype(np.float64), header)]
            for name, (mean, units) in self.fields.items():
                extension = fits.ImageHDU(mean.astype(np.float64), header.copy(), name=name.upper()[:68])
                extension.header["BUNIT"] = (units[:68], "units of the field")
                extension.header["FIELD"] = (name[:68], "density-weighted mean along the line of sight")
                hdus.append(extension)
            with atomic_path(path, suffix=".fits") as tmp:
                fits.HDUList(hdus).writeto(tmp, overwrite=True)
        else:
            raise ValueError(f"a map is written as {' or '.join(MAP_SUFFIXES)}, not {suffix or 'no suffix'}")

    def fits_header(self, source: str = ""):
        """The FITS header: linear world coordinates of the pixel centres, units and provenance."""
        from astropy.io import fits

        from delvol import __version__

        header = fits.Header()
        for n, (axis, lo, step) in enumerate(zip(self.axes, self.extent[::2], self.pixel, strict=True), start=1):
            name = _AXIS_NAMES[axis]
            header[f"CTYPE{n}"] = (name, f"{name.lower()} coordinate")
            if self.units:  # CUNIT must be a unit: left out when the input does not state one
                header[f"CUNIT{n}"] = (self.units, "length unit of the input coordinates")
            header[f"CRPIX{n}"] = (1.0, "reference pixel (the first)")
            header[f"CRVAL{n}"] = (lo + 0.5 * step, "coordinate of the first pixel's centre")
            header[f"CDELT{n}"] = (step, "pixel scale in length units")
        length = self.units or "length"
        header["LUNIT"] = (length, "length unit of the coordinates and the pixel scale")
        header["BUNIT"] = (f"mass/({length})^2", "surface density: integral of rho along the axis")
        header["LOSAXIS"] = (self.axis, "line-of-sight axis (projected along)")
        for key, value in zip(("XMIN", "XMAX", "YMIN", "YMAX"), self.extent, strict=True):
            header[key] = (value, "map extent, pixel edges, in length units")
        header["MASSCONV"] = (
            "masses from the input file" if self.has_masses else "unit mass per point",
            "mass convention",
        )
        header["MAPMASS"] = (self.mass, "sum of the map times the pixel area")
        header["PERIODIC"] = (self.box_size if self.box_size is not None else False, "periodic box side, or F")
        header["SUPERSMP"] = (self.supersample, "rays per pixel side, averaged")
        header["ESTIMATR"] = ("DTFE", "rho_i = 4 m_i / W_i, linear in each tetrahedron")
        header["ORIGIN"] = (f"delvol {__version__}", "software")
        if source:
            header["SOURCE"] = (source[:68], "input file")
        return header
