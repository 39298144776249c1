"""Camera paths for fly-through movies: keyframed, orbit and dolly, and path files.

Every path maps a time ``u`` from 0 to 1 to a full camera state (see
:meth:`PathBase.state_at`) and samples itself into movie frames (:meth:`PathBase.states`).
"""

from delvol.scene.paths.base import DEFAULT_EASE, PathBase
from delvol.scene.paths.keyframes import CameraPath
from delvol.scene.paths.pathfile import load_path, save_path
from delvol.scene.paths.presets import DollyPath, OrbitPath, dolly_path, orbit_path

__all__ = [
    "DEFAULT_EASE",
    "CameraPath",
    "DollyPath",
    "OrbitPath",
    "PathBase",
    "dolly_path",
    "load_path",
    "orbit_path",
    "save_path",
]
