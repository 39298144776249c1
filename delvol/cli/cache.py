"""``delvol cache clear|dir``: manage the tessellation cache."""

from __future__ import annotations

import argparse

from delvol.geometry.cache import cache_dir, clear_cache


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache", help="show or clear the tessellation cache")
    p.add_argument("action", choices=("clear", "dir"), help="clear: delete all entries; dir: print the folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "dir":
        print(cache_dir())
        return 0
    count, size = clear_cache()
    print(f"removed {count} cached tessellation(s), {size / 1e6:.1f} MB, from {cache_dir()}")
    return 0
