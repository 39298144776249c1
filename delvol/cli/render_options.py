"""Options shared by ``delvol render``, ``view`` and ``fly``: a :class:`~delvol.scene.description.Scene`.

Every option comes from the scene's dataclasses, with their defaults and help
(:mod:`delvol.cli.dataclass_args`); these commands parse, build the scene and hand it to
the library.
"""

from __future__ import annotations

import argparse
from typing import Any

from delvol.cli.common import add_input_arguments, load_options
from delvol.cli.dataclass_args import add_options, from_args, with_flags
from delvol.errors import DelvolError
from delvol.scene.description import DEFAULT_SIZE, SCENE_PARTS, CameraOptions, OverlayOptions, Scene, SpriteOptions
from delvol.scene.settings import RenderSettings


def parse_size(text: str) -> tuple[int, int]:
    """``"1920x1080"`` -> (1920, 1080)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 1920x1080, got {text!r}") from None
    if w < 1 or h < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return w, h


def add_scene_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE and everything about what is drawn and from where: reading, look, camera, overlays, sprites."""
    add_input_arguments(parser)
    add_options(parser, RenderSettings, "look")
    add_options(parser, OverlayOptions, "overlays")
    add_options(parser, SpriteOptions, "galaxy sprites (FILE a galaxy store)")
    add_options(parser, CameraOptions, "camera")


def add_frame_arguments(parser: argparse.ArgumentParser) -> None:
    """Output size and supersampling, for offscreen frames."""
    width, height = DEFAULT_SIZE
    parser.add_argument(
        "--size", type=parse_size, default=DEFAULT_SIZE, metavar="WxH", help=f"default {width}x{height}"
    )
    parser.add_argument(
        "--supersample",
        type=int,
        default=1,
        choices=range(1, 9),
        metavar="N",
        help="render N times larger and average down (default 1)",
    )


def scene_from_args(args: argparse.Namespace) -> Scene:
    """The scene the arguments describe, every option checked (before any reading).

    Raises
    ------
    DelvolError
        A value that the scene refuses, named by its flag.
    """
    try:
        parts: dict[str, Any] = {name: from_args(part, args) for name, part in SCENE_PARTS.items() if name != "load"}
        scene = Scene(args.file, load=load_options(args), **parts)
    except ValueError as exc:
        if isinstance(exc, DelvolError):
            raise
        raise DelvolError(with_flags(str(exc), SCENE_PARTS.values())) from exc
    scene.check()
    return scene
