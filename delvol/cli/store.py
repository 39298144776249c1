"""``delvol store ingest|info|get|export``: build and read SQLite galaxy stores."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from delvol.atomic import atomic_path
from delvol.cli.common import check_output
from delvol.io.galaxy_store.database import GalaxyStore
from delvol.io.galaxy_store.export import CATALOG_NAME, export_store
from delvol.io.galaxy_store.images import image_file_name
from delvol.io.galaxy_store.ingest import IngestOptions, ingest
from delvol.io.sky import DEFAULT_COSMOLOGY
from delvol.progress import StageLog


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="build and read galaxy stores (a catalogue plus one image per galaxy, in SQLite)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    ing = actions.add_parser("ingest", help="add a CSV or FITS catalogue, and its images, to a store")
    ing.add_argument("catalog", metavar="CATALOG", help="CSV or FITS catalogue with ra, dec and redshift (or z)")
    ing.add_argument("-o", "--output", required=True, metavar="DB", help="store to create or add to")
    ing.add_argument("--images", type=Path, metavar="DIR", help="folder with one image file per galaxy")
    ing.add_argument(
        "--pattern",
        default="{objid}.*",
        help="image file name, {objid} standing for the id; .* matches any image extension (default {objid}.*)",
    )
    ing.add_argument(
        "--id",
        metavar="COL[,COL...]",
        help="id column(s), unique per row; several make a text id like 3306-54922-491 "
        "(default: objid or id, else the row number)",
    )
    ing.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="COL<OP>VALUE",
        help="keep only rows where the column compares so with the value: = != < <= > >= (repeatable)",
    )
    ing.add_argument("--batch", type=int, default=500, metavar="N", help="galaxies per transaction (default 500)")
    ing.add_argument("--strict", action="store_true", help="exit with status 2 when any image is unreadable")
    ing.add_argument("--replace", action="store_true", help="read again images the store already holds")
    ing.add_argument("--verify", action="store_true", help="decode every image fully instead of its header only")
    ing.add_argument(
        "--cosmology", default=DEFAULT_COSMOLOGY, help=f"default cosmology for positions (default {DEFAULT_COSMOLOGY})"
    )
    ing.set_defaults(func=run_ingest)

    info = actions.add_parser("info", help="summarise a store")
    info.add_argument("db", metavar="DB")
    info.add_argument("--check", action="store_true", help="also run SQLite's full integrity check")
    info.set_defaults(func=run_info)

    get = actions.add_parser("get", help="write one galaxy's image, byte for byte")
    get.add_argument("db", metavar="DB")
    get.add_argument("objid", metavar="OBJID")
    get.add_argument("-o", "--output", metavar="FILE", help="output file (default OBJID.jpg, or the stored format)")
    get.set_defaults(func=run_get)

    export = actions.add_parser("export", help=f"write every image as OBJID.jpg and the catalogue as {CATALOG_NAME}")
    export.add_argument("db", metavar="DB")
    export.add_argument("folder", metavar="DIR")
    export.set_defaults(func=run_export)


def run_ingest(args: argparse.Namespace) -> int:
    options = IngestOptions(
        images=args.images,
        pattern=args.pattern,
        id_columns=[name.strip() for name in args.id.split(",")] if args.id else None,
        where=args.where,
        batch=args.batch,
        replace=args.replace,
        verify=args.verify,
        cosmology=args.cosmology,
    )
    report = ingest(args.catalog, args.output, options, StageLog())
    print("\n".join(report.lines()))
    if args.strict and report.bad_images:
        print(
            f"delvol: error: {args.catalog}: {len(report.bad_images):,} unreadable images (--strict); "
            f"the first is {report.bad_images[0][0]}: {report.bad_images[0][1]}",
            file=sys.stderr,
        )
        return 2
    return 0


def run_info(args: argparse.Namespace) -> int:
    with GalaxyStore(args.db) as store, store.snapshot():
        print("\n".join(_info_lines(store, args.check)))
    return 0


def _info_lines(store: GalaxyStore, check: bool) -> list[str]:
    meta = store.meta
    id_columns = json.loads(meta.get("id_columns", "[]"))
    finished = meta.get("ingest_finished") or "NOT FINISHED (interrupted? run the same ingest again to resume)"
    lines = [
        f"store         {store.path}  ({os.path.getsize(store.path) / 1e6:.1f} MB, schema {meta['schema_version']})",
        f"galaxies      {len(store):,}  (ids: {','.join(id_columns) or 'row numbers'}, {store.objid_type.lower()})",
    ]
    for fmt, count, size, w0, w1, h0, h1 in store.image_summary():
        lines.append(f"images        {count:,} {fmt}, {size / 1e6:.1f} MB, width {w0}-{w1}, height {h0}-{h1}")
    lines += [
        f"no image      {store.count_without_image():,} galaxies",
        "columns       " + ", ".join(f"{name} {decl}" for name, decl in store.columns().items()),
        f"cosmology     {store.cosmology}",
        f"source        {meta.get('source', '?')}",
        f"images from   {meta.get('images_dir') or '-'}",
        f"ingest        started {meta.get('ingest_started', '?')}, finished {finished}",
        f"written by    delvol {meta.get('delvol_version', '?')}",
    ]
    if check:
        lines.append("integrity     " + "; ".join(store.integrity_check()))
    return lines


def run_get(args: argparse.Namespace) -> int:
    with GalaxyStore(args.db) as store:
        record = store.image_record(args.objid)
    out = Path(args.output) if args.output else Path(image_file_name(record.objid, record.format, store.path))
    check_output(out)
    with atomic_path(out) as tmp:
        tmp.write_bytes(record.data)
    print(f"wrote {out} ({len(record.data):,} bytes, {record.format} {record.width}x{record.height})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    n_images, n_galaxies = export_store(args.db, args.folder, StageLog())
    print(f"wrote {n_images:,} images and {CATALOG_NAME} ({n_galaxies:,} galaxies) to {args.folder}")
    return 0
