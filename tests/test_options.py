"""Options declared once on dataclasses: the command line built from them, the API's keywords."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

import pytest

from delvol.cli import build_parser
from delvol.cli.dataclass_args import add_options, from_args, with_flags
from delvol.options import option, option_fields, split_options
from delvol.scene.description import SCENE_PARTS, Scene


def double(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(f"expected a non-negative number, got {text!r}")
    return 2 * value


@dataclass
class Toy:
    speed: float = option("how fast", 1.5)
    name: str = option("what", "a", choices=("a", "b"))
    loud: bool = option("shout", False, action="store_true")
    quiet_off: bool = option("be loud", True, flag="--no-quiet", action="store_false")
    files: list[str] = option("inputs (repeatable)", default_factory=list, action="append", metavar="F")
    pair: tuple[float, float] = option("two numbers", (0.0, 1.0), parse=float, nargs=2, convert=tuple)
    doubled: float = option("twice this", 0.0, parse=double, group="other")
    hidden: int = 3  # not an option


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_options(parser, Toy, "toy")
    return parser.parse_args(list(argv))


def test_defaults_come_from_the_dataclass():
    assert from_args(Toy, parse()) == Toy()
    parser = argparse.ArgumentParser()
    add_options(parser, Toy, "toy")
    text = parser.format_help()
    assert "how fast (default 1.5)" in text and "two numbers (default 0 1)" in text and "--hidden" not in text
    assert "other:" in text  # a field may name its own help section


def test_given_values_are_parsed_and_converted():
    toy = from_args(Toy, parse("--speed", "3", "--name", "b", "--loud", "--no-quiet", "--files", "x", "--files", "y",
                               "--pair", "2", "5", "--doubled", "4"))  # fmt: skip
    assert toy == Toy(3.0, "b", True, False, ["x", "y"], (2.0, 5.0), 8.0)


def test_a_parse_error_is_the_parsers_own_message(capsys):
    with pytest.raises(SystemExit):
        parse("--doubled", "-1")
    assert "expected a non-negative number" in capsys.readouterr().err


def test_library_messages_name_the_flag():
    assert with_flags("quiet_off must be ...", [Toy]) == "--no-quiet must be ..."
    assert with_flags("speed too high", [Toy]) == "--speed too high"
    assert with_flags("something else", [Toy]) == "something else"


def test_split_options_refuses_unknown_names():
    assert split_options([Toy], {"speed": 2.0}) == [{"speed": 2.0}]
    with pytest.raises(TypeError, match="unknown option"):
        split_options([Toy], {"sped": 2.0})


def test_every_scene_option_is_on_render_with_the_same_default():
    args = build_parser().parse_args(["render", "x.npy", "-o", "x.png"])
    for name, part in SCENE_PARTS.items():
        if name != "look":  # the look holds an array: compared field by field below
            assert from_args(part, args) == part()
        for f, spec in option_fields(part):
            assert spec.help, f"{part.__name__}.{f.name} has no help"
    look = from_args(SCENE_PARTS["look"], args)
    assert [getattr(look, f.name) for f in fields(look) if f.name != "cut_normal"] == [
        getattr(SCENE_PARTS["look"](), f.name) for f in fields(look) if f.name != "cut_normal"
    ]


def test_scene_keywords_go_to_their_part():
    scene = Scene.from_options("x.npy", periodic=50.0, colormap="viridis", view="+z", obj="a.obj", sprite_count=9)
    assert scene.tessellation.periodic == 50.0 and scene.look.colormap == "viridis"
    assert scene.camera.view == "+z" and scene.overlays.obj == ["a.obj"] and scene.sprites.sprite_count == 9
