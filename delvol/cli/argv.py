"""Command lines as written, where argparse alone would misread them.

Two argparse pitfalls, fixed here for every option rather than option by option:

* An option with an optional value (``nargs="?"``, such as ``--periodic [L]``) takes the
  next word as its value, so ``delvol info --periodic FILE`` reads FILE as L. When the next
  word is not a valid value for the option (its ``type`` rejects it) and is a file name
  rather than a mistyped number, the option is moved after that word, where it takes no value.
* A value that starts with ``-`` is taken for an option, so ``--view -z`` fails. When the
  word after an option is one of that option's ``choices``, the two become ``--view=-z``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any


def normalise_argv(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``argv`` rewritten so that ``parser`` reads it as the user meant."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return out + argv[i:]
        following = argv[i + 1] if i + 1 < len(argv) else None
        sub = _subparser(parser, word)
        if sub is not None:
            return [*out, word, *normalise_argv(sub, argv[i + 1 :])]
        action = parser._option_string_actions.get(word)
        if action is not None and following is not None:
            if action.nargs == "?" and _not_a_value(action, following):
                out += [following, word]
                i += 2
                continue
            if action.nargs is None and action.choices and following.startswith("-") and following in action.choices:
                out.append(f"{word}={following}")
                i += 2
                continue
        out.append(word)
        i += 1
    return out


def _subparser(parser: argparse.ArgumentParser, word: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and word in action.choices:
            return action.choices[word]
    return None


def _not_a_value(action: argparse.Action, word: str) -> bool:
    """Whether ``word`` after an optional-value option is the next argument, not the value.

    It is when the option rejects it and it names a file or is no number at all; a bad
    number (``--periodic nan``) stays the option's value, so its error names the option.
    """
    if word.startswith("-") or _accepts(action, word):
        return False
    if os.path.lexists(word):
        return True
    try:
        float(word)
    except ValueError:
        return True
    return False


def _accepts(action: argparse.Action, word: str) -> bool:
    """Whether ``word`` is a valid value of ``action`` (any word is, without a ``type``)."""
    if action.type is None:
        return action.choices is None or word in action.choices
    parse: Callable[[str], Any] = action.type  # type: ignore[assignment]  # argparse's types are callables
    try:
        parse(word)
    except (argparse.ArgumentTypeError, ValueError, TypeError):
        return False
    return True
