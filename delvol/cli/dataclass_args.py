"""Command-line arguments built from the option metadata of the library's dataclasses.

:func:`add_options` adds one argument per :func:`delvol.options.option` field, with the
field's default and help; :func:`from_args` builds the dataclass back from the parsed
namespace. An option added to a dataclass appears on every command that uses it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from delvol.options import OptionSpec, default_of, option_fields

T = TypeVar("T")


def argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` for argparse: its ValueError becomes the error message argparse prints."""

    def parsed(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parsed.__name__ = getattr(parse, "__name__", "value")
    return parsed


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(_show(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _help(spec: OptionSpec, default: Any) -> str:
    if not spec.show_default or spec.action != "store" or default is None or "default" in spec.help:
        return spec.help
    if isinstance(default, (dict, list)) and not default:
        return spec.help
    return f"{spec.help} (default {_show(default)})"


def add_options(parser: argparse.ArgumentParser, cls: type, title: str, skip: Collection[str] = ()) -> None:
    """Add an argument for every option field of dataclass ``cls`` except those in ``skip``.

    They go in a help section named ``title``, or the one their spec names.
    """
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f, spec in option_fields(cls):
        if f.name in skip:
            continue
        group_title = spec.group or title
        if group_title not in groups:
            groups[group_title] = parser.add_argument_group(group_title)
        group = groups[group_title]
        flag = spec.flag or "--" + f.name.replace("_", "-")
        dest = spec.dest or f.name
        default = default_of(f)
        if spec.action in ("store_true", "store_false"):
            group.add_argument(flag, dest=dest, action=spec.action, help=spec.help)
            continue
        kwargs: dict[str, Any] = {"dest": dest, "help": _help(spec, default), "metavar": spec.metavar}
        if spec.action == "append":
            kwargs.update(action="append", default=[])
        else:
            # The namespace holds argparse's own value; from_args converts it.
            kwargs["default"] = None
        if spec.parse is not None:
            kwargs["type"] = argument_type(spec.parse)
        elif f.type in ("float", "float | None") or isinstance(default, float):
            kwargs["type"] = float
        elif f.type in ("int", "int | None"):
            kwargs["type"] = int
        if spec.nargs is not None:
            kwargs["nargs"] = spec.nargs
        if spec.const is not None:
            kwargs["const"] = spec.const
        if spec.choices is not None:
            kwargs["choices"] = list(spec.choices() if callable(spec.choices) else spec.choices)
        group.add_argument(flag, **kwargs)


def flag_of(cls: type, name: str) -> str | None:
    """The command-line flag of option field ``name`` of ``cls``, if it is one."""
    for f, spec in option_fields(cls):
        if f.name == name:
            return spec.flag or "--" + name.replace("_", "-")
    return None


def with_flags(message: str, classes: Collection[type]) -> str:
    """A library message that starts with a field name, starting with its flag instead."""
    name = message.split(" ", 1)[0]
    for cls in classes:
        flag = flag_of(cls, name)
        if flag is not None:
            return flag + message[len(name) :]
    return message


def from_args(cls: type[T], args: argparse.Namespace, skip: Collection[str] = (), **overrides: Any) -> T:
    """The ``cls`` that the parsed ``args`` describe: given options converted, the rest defaults.

    Fields in ``skip`` and fields that are not options keep their defaults, unless
    ``overrides`` sets them.
    """
    values: dict[str, Any] = {}
    for f, spec in option_fields(cls):
        if f.name in skip or f.name in overrides:
            continue
        value = getattr(args, spec.dest or f.name)
        if spec.action == "store" and value is None:
            continue  # not given: the dataclass default
        if spec.action == "store_true" and not value:
            continue
        if spec.action == "store_false" and value:
            continue
        if spec.action == "append" and not value:
            continue
        values[f.name] = spec.convert(value) if spec.convert is not None else value
    values.update(overrides)
    return cls(**values)
