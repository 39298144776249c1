"""Readers for point sets, catalogues, the galaxy store and .obj overlays."""

from delvol.io.pointset import PointSet
from delvol.io.readers import LoadOptions, load_points

__all__ = ["LoadOptions", "PointSet", "load_points"]
