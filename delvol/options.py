"""Dataclass fields that describe themselves as command-line options.

Each option of the library's dataclasses (:class:`~delvol.io.LoadOptions`,
:class:`~delvol.scene.settings.RenderSettings`, the scene description) is declared once,
with its default and its help, through :func:`option`. The command line
(:mod:`delvol.cli.dataclass_args`) builds its arguments from that metadata, so a default
or a help text is never written twice. Plain fields without the metadata are not options.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

OPTION = "delvol.option"
"""The key of :class:`OptionSpec` in a field's metadata."""

_MISSING: Any = dataclasses.MISSING


@dataclass(frozen=True)
class OptionSpec:
    """How a dataclass field appears on the command line.

    Attributes
    ----------
    help : str
        Help text; `` (default X)`` is appended unless ``show_default`` is False or the
        text already states the default.
    flag : str, optional
        The option's name (default ``--`` and the field name with dashes).
    action : {"store", "store_true", "store_false", "append"}
        ``store_true``/``store_false`` make a flag without a value; ``store_false`` sets
        the field to False (for a field that is True by default).
    parse : callable, optional
        Turns one command-line word into a value; ValueError means a bad value.
    nargs : int or str, optional
    const : any
        The value of an option given without its optional value (``nargs="?"``).
    metavar : str or tuple of str, optional
    choices : sequence or callable, optional
        The allowed values, or a callable returning them (for tables defined later).
    convert : callable, optional
        Turns the parsed value (a list, for ``nargs``) into the field's value.
    dest : str, optional
        The argparse destination when it differs from the field name.
    group : str, optional
        The title of the help section it goes in, when not its dataclass's.
    show_default : bool
    """

    help: str
    flag: str | None = None
    action: str = "store"
    parse: Callable[[str], Any] | None = None
    nargs: int | str | None = None
    const: Any = None
    metavar: str | tuple[str, ...] | None = None
    choices: Sequence[Any] | Callable[[], Sequence[Any]] | None = None
    convert: Callable[[Any], Any] | None = None
    dest: str | None = None
    group: str | None = None
    show_default: bool = True


def option(
    help: str,
    default: Any = _MISSING,
    *,
    default_factory: Callable[[], Any] = _MISSING,
    **spec: Any,
) -> Any:
    """A dataclass field with a default and the :class:`OptionSpec` built from ``help`` and ``spec``."""
    metadata = {OPTION: OptionSpec(help=help, **spec)}
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def range_option(help: str, default: Any, *, convert: Callable[[Any], Any] = tuple, **spec: Any) -> Any:
    """An :func:`option` of two floats given as ``LO HI`` (a window, a pair of percentiles)."""
    return option(help, default, parse=float, nargs=2, metavar=("LO", "HI"), convert=convert, **spec)


def option_fields(cls: type) -> list[tuple[dataclasses.Field, OptionSpec]]:
    """The fields of dataclass ``cls`` that are options, in declaration order."""
    return [(f, f.metadata[OPTION]) for f in dataclasses.fields(cls) if OPTION in f.metadata]


def default_of(f: dataclasses.Field) -> Any:
    """A field's default value (calling its factory)."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None if f.default is dataclasses.MISSING else f.default


def split_options(classes: Sequence[type], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Share keyword ``options`` out among dataclasses by field name.

    Raises
    ------
    TypeError
        For a name no class has, listing the names that are accepted.
    """
    names = [{f.name for f in dataclasses.fields(cls)} for cls in classes]
    unknown = set(options) - set().union(*names)
    if unknown:
        accepted = ", ".join(sorted(set().union(*names)))
        raise TypeError(f"unknown option(s) {', '.join(sorted(unknown))}; accepted: {accepted}")
    return [{k: v for k, v in options.items() if k in n} for n in names]
