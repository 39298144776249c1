"""The ``delvol`` command line.

Each subcommand lives in its own module with a ``register(subparsers)`` function. Errors
that the user can fix (:class:`~delvol.errors.DelvolError`, missing files) print one line
and exit with status 2; ``--debug`` shows the traceback instead. Library warnings are
silenced here, at the boundary: the readers turn the ones that matter into errors or notes
themselves, and ``--debug`` shows them all. SIGTERM stops a run as Ctrl-C does, so that
temporary files are removed and child processes (ffmpeg) are stopped.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

from delvol import __version__
from delvol.cli.argv import normalise_argv

SUBCOMMANDS = ("info", "tessellate", "grid", "cache", "render", "view", "fly", "project", "iso", "store")


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other delvol error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered (subparsers share its class)."""
    parser = Parser(
        prog="delvol",
        description="Delaunay-volume rendering and DTFE densities for sparse 3-D point sets.",
    )
    parser.add_argument("--version", action="version", version=f"delvol {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks, and check OpenGL errors at every step"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"delvol.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(normalise_argv(parser, sys.argv[1:] if argv is None else list(argv)))
    from delvol.errors import DelvolError

    try:
        with warnings.catch_warnings(), _sigterm_raises():
            if not args.debug:
                warnings.simplefilter("ignore")
            return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("delvol: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output (``| head``) has gone: stop quietly, as other tools do.
        sys.stdout = None
        return 128 + signal.SIGPIPE
    except Terminated:
        print("delvol: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except (DelvolError, OSError, MemoryError) as exc:
        if args.debug:
            raise
        print(f"delvol: error: {_one_line(exc)}", file=sys.stderr)
        return 2


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (signals reach the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return f"out of memory ({exc or 'the input is too large for this machine'})"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split())
