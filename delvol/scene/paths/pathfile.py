"""Camera paths as JSON files: ``{"version": 1, "keyframes": [state, ...], "ease": 0.15}``.

A bare list of camera states is read as the keyframes with the default easing. ``ease``
is true, false or the fraction of the time spent speeding up and slowing down (0 to 0.5).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from delvol.atomic import atomic_path
from delvol.errors import DelvolError
from delvol.scene.paths.base import DEFAULT_EASE
from delvol.scene.paths.keyframes import CameraPath

VERSION = 1
_KEYS = ("version", "keyframes", "ease")


def _no_constants(name: str) -> None:
    raise ValueError(f"non-finite number {name} (camera values must be finite)")


def _contents(data: Any) -> tuple[Any, Any]:
    """The keyframes and easing of a parsed path file."""
    if isinstance(data, list):
        return data, DEFAULT_EASE
    if not isinstance(data, dict):
        raise ValueError('expected a JSON object with "keyframes", or a list of camera states')
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown key {', '.join(map(repr, unknown))} (expected {', '.join(_KEYS)})")
    version = data.get("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise ValueError(f"unsupported path version {version!r} (this delvol reads version {VERSION})")
    if "keyframes" not in data:
        raise ValueError('missing "keyframes"')
    if not isinstance(data["keyframes"], list):
        raise ValueError(f'"keyframes" must be a list of camera states, got {type(data["keyframes"]).__name__}')
    return data["keyframes"], data.get("ease", DEFAULT_EASE)


def load_path(file: str | os.PathLike, base: Mapping[str, Any] | None = None) -> CameraPath:
    """Read a keyframed camera path.

    Parameters
    ----------
    file : str or os.PathLike
        The JSON path file.
    base : dict, optional
        State the first keyframe's missing keys come from (see :class:`CameraPath`).

    Raises
    ------
    DelvolError
        Naming the file, when it cannot be read, is not JSON, holds a non-finite number,
        has the wrong structure or no keyframes, or a keyframe is not a valid camera state.
    """
    path = Path(file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DelvolError("no such file", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DelvolError(f"cannot read the path file ({exc})", path) from None
    try:
        data = json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise DelvolError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", path) from None
    except ValueError as exc:  # NaN or Infinity, from _no_constants
        raise DelvolError(str(exc), path) from None
    try:
        keyframes, ease = _contents(data)
        return CameraPath(keyframes, ease=ease, base=base)
    except (TypeError, ValueError) as exc:
        raise DelvolError(str(exc), path) from None


def save_path(file: str | os.PathLike, path: CameraPath) -> None:
    """Write ``path``'s keyframes and easing as a path file, atomically."""
    data = {"version": VERSION, "keyframes": path.keyframes, "ease": path.ease}
    with atomic_path(file) as tmp:
        tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
