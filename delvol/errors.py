"""Exception types shared by every layer."""

from __future__ import annotations

import os


class DelvolError(ValueError):
    """Bad input that the user can fix.

    The message is a single line naming the offending file (when there is one) and the
    problem. The CLI prints it without a traceback and exits with status 2.

    Parameters
    ----------
    problem : str
        What is wrong, in one line.
    path : str or os.PathLike, optional
        The file the problem is in.
    """

    def __init__(self, problem: str, path: str | os.PathLike | None = None) -> None:
        self.problem = " ".join(str(problem).split())
        self.path = None if path is None else os.fspath(path)
        super().__init__(self.problem if self.path is None else f"{self.path}: {self.problem}")


class DegenerateInputError(ValueError):
    """Points that cannot be tessellated in 3-D (too few, flat, NaN, a bad periodic box).

    Raised by the GL-free geometry layer, which knows no file names; the CLI re-raises it
    as a :class:`DelvolError` naming the input file.
    """
