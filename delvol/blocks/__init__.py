"""Blocked builds: a point set split into blocks with certified ghost shells, on Dask.

The method of Peterka et al. (2014, tess/DIY): blocks of equal count from a k-d split,
ghost shells grown until every core point's tetrahedra are certified, one owner per
tetrahedron and face, so that the blocks together give exactly the single run's result.
:func:`density_grid_array` samples the density on a grid the same way, as a dask array.
"""

from delvol.blocks.grid import density_grid_array
from delvol.blocks.run import tessellate_blocks

__all__ = ["density_grid_array", "tessellate_blocks"]
