"""Readers for point sets, catalogues, the galaxy store and .obj overlays."""

from delvol.io.obj import ObjMesh, load_obj
from delvol.io.pointset import PointSet
from delvol.io.readers import LoadOptions, load_points

__all__ = ["LoadOptions", "ObjMesh", "PointSet", "load_obj", "load_points"]
