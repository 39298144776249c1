"""The ``scipy`` engine: Qhull through :class:`scipy.spatial.Delaunay` (BSD, always installed)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import Delaunay, QhullError

from delvol.geometry.engines.base import NO_DROPPED, Triangulation
from delvol.geometry.engines.failure import explain_failure

NAME = "scipy"
LICENCE = "BSD-3-Clause (SciPy, Qhull)"

QHULL_OPTIONS = "Qbb Qc Qz Q12 Qt"
"""SciPy's default for 3-D Delaunay, kept because no alternative was reliably faster.

``Qc`` is required: it reports the duplicate points that Qhull leaves out, so that their
masses can be merged. ``python -m benchmarks.bench_qhull_options`` measured CPU time
relative to this string, interleaved, median over rounds (1e5: 5 rounds; 1e6: 3):

===================  ===============  =============  ===============
options              1e5 clustered    1e5 Poisson    1e6 clustered
===================  ===============  =============  ===============
Qbb Qc Q12 Qt        1.03             0.99           1.01
Qc Qz Q12 Qt         1.00             0.97           1.54
Qbb Qc Qz Qt         1.00             0.97           1.01
Qbb Qc Qz Q12 Qt Qx  1.01             1.05           1.03
Qt Qc                1.00             0.98           0.99
===================  ===============  =============  ===============

Rounds scattered by up to ±10%, and every candidate passed the exact-lattice, duplicate and
real-snapshot checks. Adding Q3, Q5, Q8, Q10 or Q14 changed nothing (0.998–1.036, 1e5
Poisson). Single large outliers like the 1.54 say little about the options: Qhull's time on
one input swings that much with a mere shift of the coordinates (the 1e6 clustered set took
55 s as generated, 35 s shifted by 1e-3 or centred), so only gains on every data set count.
"""


def available() -> bool:
    """SciPy is a hard dependency."""
    return True


def triangulate(framed: np.ndarray, qhull_options: str = QHULL_OPTIONS) -> Triangulation:
    """Triangulate with Qhull; its result doubles as the point locator.

    Raises
    ------
    DegenerateInputError
        Fewer than 4 distinct points, or no 3-D extent.
    """
    try:
        tri = Delaunay(framed, qhull_options=qhull_options)
    except QhullError as exc:
        raise explain_failure(framed, "Qhull", exc) from exc
    if len(tri.simplices) == 0:
        raise explain_failure(framed, "Qhull", None)
    dropped = tri.coplanar[:, [0, 2]].astype(np.int64) if len(tri.coplanar) else NO_DROPPED
    return Triangulation(
        tetrahedra=tri.simplices.astype(np.int32, copy=False),
        neighbors=tri.neighbors.astype(np.int32, copy=False),
        dropped=dropped,
        locator=tri,
    )
