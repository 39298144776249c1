"""delvol: Delaunay-volume rendering of sparse 3-D point sets.

The layers import one way only: ``io`` -> ``geometry`` -> ``render`` -> ``app`` -> ``cli``.
Importing the top-level package stays cheap (no NumPy, no GL), so that the version and
the packaged shaders can be reached without loading the heavy layers.
"""

__version__ = "0.1.0"
