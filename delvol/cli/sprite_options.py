"""``--sprites`` and its options, shared by ``delvol view``, ``render`` and ``fly``.

Sprite sizes are comoving lengths, in the same space as the galaxy positions: a length
in kpc or Mpc is converted to the store's units (``--units``, Mpc/h by default) with the
h of the cosmology the positions were computed in (the point set's
``metadata["cosmology"]``); a bare number is already in those units.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

from delvol.errors import DelvolError
from delvol.io import PointSet
from delvol.io.readers import detect_format
from delvol.io.sky import get_cosmology
from delvol.io.store import GalaxyStore
from delvol.render.renderer import Renderer
from delvol.render.sprite_layout import Galaxies
from delvol.render.thumbnails import SLOT, ThumbnailLoader

LENGTH_UNITS = {"pc": 1e-6, "kpc": 1e-3, "Mpc": 1.0}
"""Each unit in Mpc; any may be followed by ``/h``."""
AUTO_SIZE = 0.5
"""Default sprite side, in median nearest-neighbour distances of the galaxies with images:
large enough to see the nearest pictures in a fitted view of any store, without overlaps."""
_LENGTH = re.compile(r"\s*([-+0-9.eE]+)\s*(?:(pc|kpc|Mpc)(/h)?)?\s*")


def parse_length(text: str) -> tuple[float, str]:
    """``"50kpc"`` -> (50.0, "kpc"); ``"0.1Mpc/h"`` -> (0.1, "Mpc/h"); ``"2"`` -> (2.0, "")."""
    match = _LENGTH.fullmatch(text)
    try:
        value = float(match.group(1)) if match else np.nan
    except ValueError:
        value = np.nan
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"expected a positive length such as 50kpc, 0.05Mpc, 0.1Mpc/h or 2 (in --units), got {text!r}"
        )
    return value, (match.group(2) or "") + (match.group(3) or "")


def length_in(value: float, unit: str, units: str, h: float) -> float:
    """A length given in ``unit`` ("" meaning ``units`` already), expressed in ``units`` (Mpc/h or Mpc)."""
    if not unit:
        return value
    mpc = value * LENGTH_UNITS[unit.removesuffix("/h")]
    if unit.endswith("/h") == units.endswith("/h"):
        return mpc
    return mpc * h if units.endswith("/h") else mpc / h


def positive_int(text: str) -> int:
    """Parse a count or a size in MB that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_sprite_arguments(parser: argparse.ArgumentParser) -> None:
    """``--sprites`` and the options that size, count and cache them."""
    group = parser.add_argument_group("galaxy sprites (FILE a galaxy store)")
    group.add_argument(
        "--sprites", action="store_true", help="draw each galaxy's thumbnail at its position, facing the camera"
    )
    group.add_argument(
        "--sprite-size",
        type=parse_length,
        metavar="LENGTH",
        help="comoving side of a thumbnail, for example 50kpc, 0.05Mpc or 0.1Mpc/h; a bare number is in --units "
        f"(default: {AUTO_SIZE:g} of the median distance between neighbouring galaxies with images; "
        "with --sprite-size-column, what one unit of the column is: default 1, in --units)",
    )
    group.add_argument(
        "--sprite-placeholders",
        action="store_true",
        help="give galaxies without an image a sprite too, a faint disc (default: only galaxies with an image)",
    )
    group.add_argument(
        "--sprite-size-column", metavar="COL", help="catalogue column holding each galaxy's thumbnail side"
    )
    group.add_argument(
        "--sprite-count",
        type=positive_int,
        default=200,
        metavar="K",
        help="draw the K galaxies that are largest on screen (default 200)",
    )
    group.add_argument(
        "--sprite-memory",
        type=positive_int,
        default=256,
        metavar="MB",
        help=f"most memory for decoded {SLOT}x{SLOT} thumbnails (default 256)",
    )


def check_sprite_input(args: argparse.Namespace) -> None:
    """Refuse ``--sprites`` for a FILE that is not a galaxy store, before any reading.

    A FILE that does not exist is left for the point loader to report.
    """
    path = Path(args.file)
    if not args.sprites or not path.is_file():
        return
    found = args.format or detect_format(path)
    if found != "store":
        raise DelvolError(f"--sprites needs a galaxy store (see `delvol store ingest`), not a {found} file", path)


def galaxies_from_args(args: argparse.Namespace, points: PointSet, store: GalaxyStore) -> Galaxies:
    """The loaded galaxies with their sprite sizes in the units of their positions.

    Galaxies without an image get size 0 (no sprite) unless ``--sprite-placeholders``.
    """
    pictured = np.isin(points.ids, store.image_objids())
    if args.sprite_size is None and not args.sprite_size_column:
        length = AUTO_SIZE * _neighbour_distance(points.positions[pictured] if pictured.any() else points.positions)
    else:
        value, unit = args.sprite_size or parse_length("1")
        h = get_cosmology(points.metadata["cosmology"]).h
        length = length_in(value, unit, points.metadata["units"], h)
    sizes = np.full(len(points), length)
    if args.sprite_size_column:
        column = store.column(args.sprite_size_column)
        if column.dtype.kind not in "fi":
            raise DelvolError(f"column {args.sprite_size_column!r} is not numeric", store.path)
        row = {objid: i for i, objid in enumerate(store.objids().tolist())}
        sizes = column[[row[objid] for objid in points.ids.tolist()]] * length
    if not args.sprite_placeholders:
        sizes = np.where(pictured, sizes, 0.0)
    return Galaxies(points.positions, sizes, points.ids)


def _neighbour_distance(positions: np.ndarray) -> float:
    """The median distance from a point to its nearest neighbour (1 for a single point)."""
    from scipy.spatial import cKDTree

    if len(positions) < 2:
        return 1.0
    d, _ = cKDTree(positions).query(positions, k=2)
    distance = float(np.median(d[:, 1]))
    return distance if distance > 0 else 1.0


def add_sprites(renderer: Renderer, args: argparse.Namespace, points: PointSet, synchronous: bool) -> None:
    """Give the renderer the galaxy sprites that ``--sprites`` asks for (nothing without it)."""
    if not args.sprites:
        return
    with GalaxyStore(args.file) as store:
        galaxies = galaxies_from_args(args, points, store)
    loader = ThumbnailLoader(
        lambda: GalaxyStore(args.file), memory=args.sprite_memory * 2**20, workers=min(4, os.cpu_count() or 1)
    )
    try:
        renderer.set_sprites(galaxies, loader, args.sprite_count, synchronous)
    except ValueError as exc:
        loader.close()
        raise DelvolError(f"--sprite-count {args.sprite_count}: {exc}") from exc


def report_sprite_failures(renderer: Renderer) -> None:
    """Say on stderr which thumbnails could not be shown, if any (they are drawn as placeholders)."""
    if renderer.sprites is None or not renderer.sprites.loader.failures:
        return
    failures = renderer.sprites.loader.failures
    objid, reason = next(iter(failures.items()))
    count = "1 thumbnail" if len(failures) == 1 else f"{len(failures):,} thumbnails"
    print(f"sprites: {count} drawn as placeholders (galaxy {objid!r}: {reason})", file=sys.stderr)
