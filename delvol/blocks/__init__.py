"""Blocked builds: a point set split into blocks with certified ghost shells, on Dask.

The method of Peterka et al. (2014, tess/DIY): blocks of equal count from a k-d split,
ghost shells grown until every core point's tetrahedra are certified, one owner per
tetrahedron and face, so that the blocks together give exactly the single run's result.
"""

from delvol.blocks.run import tessellate_blocks

__all__ = ["tessellate_blocks"]
