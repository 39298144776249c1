"""The ``delvol`` command line.

Each subcommand lives in its own module with a ``register(subparsers)`` function. Errors
that the user can fix (:class:`~delvol.errors.DelvolError`, missing files) print one line
and exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from delvol import __version__

SUBCOMMANDS = ("info", "tessellate", "grid", "cache", "render", "view", "fly", "project", "iso", "store")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
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
    args = parser.parse_args(argv)
    from delvol.errors import DelvolError

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("delvol: interrupted", file=sys.stderr)
        return 130
    except (DelvolError, OSError) as exc:
        if args.debug:
            raise
        print(f"delvol: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split())
