"""Gadget-2 binary snapshots (SnapFormat 1: Fortran records, either byte order).

The layout is a 256-byte header record, then one record each for positions, velocities,
ids and the masses of the types whose header mass is zero, then the gas blocks, internal
energy first; block sizes tell 4- from 8-byte numbers. Lengths are in the simulation's code units, usually kpc/h.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Literal, overload

import numpy as np

from delvol.errors import DelvolError
from delvol.io.fields import canonical, snapshot_units, temperature, velocity_factor
from delvol.io.options import LoadOptions
from delvol.io.pointset import PointSet
from delvol.io.snapshot import CODE_UNITS, cubic_box, gas_only, merge_types, select_types

HEADER_BYTES = 256
#: The leading fields of the 256-byte header; the rest is padding or unused flags.
HEADER = np.dtype(
    [
        ("npart", "i4", 6),
        ("massarr", "f8", 6),
        ("time", "f8"),
        ("redshift", "f8"),
        ("flag_sfr", "i4"),
        ("flag_feedback", "i4"),
        ("npartTotal", "u4", 6),
        ("flag_cooling", "i4"),
        ("num_files", "i4"),
        ("BoxSize", "f8"),
        ("Omega0", "f8"),
        ("OmegaLambda", "f8"),
        ("HubbleParam", "f8"),
    ]
)
Endian = Literal["<", ">"]
BYTE_ORDERS: dict[Endian, Literal["little", "big"]] = {"<": "little", ">": "big"}


def is_gadget(head: bytes, path: Path) -> bool:
    """Whether the file starts like a Gadget-2 snapshot whose size fits its header.

    Parameters
    ----------
    head : bytes
        The first bytes of the file (at least 268 for a positive answer).
    path : Path
        The file, for its size.
    """
    endian = _byte_order(head[:4])
    if endian is None or len(head) < HEADER_BYTES + 12 or head[HEADER_BYTES + 4 : HEADER_BYTES + 8] != head[:4]:
        return False
    npart = _header(head[4 : 4 + HEADER_BYTES], endian)["npart"].astype(np.int64)
    n = int(npart.sum())
    pos_bytes = int.from_bytes(head[HEADER_BYTES + 8 : HEADER_BYTES + 12], BYTE_ORDERS[endian])
    sizes_fit = pos_bytes in (12 * n, 24 * n) and path.stat().st_size >= HEADER_BYTES + 16 + pos_bytes
    return bool((npart >= 0).all()) and n > 0 and sizes_fit


#: The fields a SnapFormat 1 file holds for delvol, by canonical name (see delvol.io.fields).
GADGET_FIELDS = ("vel", "u", "temperature")


def read_gadget(path: Path, options: LoadOptions) -> PointSet:
    """Positions, ids and masses of the particle types in ``options.ptypes`` (default all).

    ``options.fields`` may ask for ``vel`` (peculiar velocities in km/s: the velocity
    block times sqrt(a), the Gadget convention described in :mod:`delvol.io.fields`),
    and, for the gas alone (``--type 0``), ``u`` (internal energy per unit mass, (km/s)^2)
    and ``temperature`` (K, for ``options.mean_molecular_weight``). ``metadata`` gets
    ``box_size``, ``redshift``, ``units``, ``counts_by_type`` and ``field_units``.

    Raises
    ------
    DelvolError
        Not a SnapFormat 1 file, a truncated or corrupt record, a missing type, or a field
        the file does not hold.
    """
    names = {name: canonical(name) for name in options.fields}
    unknown = [name for name, key in names.items() if key not in GADGET_FIELDS]
    if unknown:
        raise DelvolError(f"no field {unknown[0]!r}: Gadget-2 snapshots give {', '.join(GADGET_FIELDS)}", path)
    with open(path, "rb") as fh:
        endian = _byte_order(fh.read(4))
        if endian is None:
            raise DelvolError("not a Gadget-2 snapshot: the first record is not a 256-byte header", path)
        fh.seek(0)
        header = _header(_record(fh, endian, path, "header"), endian)
        npart = header["npart"].astype(np.int64)
        n = int(npart.sum())
        types = select_types(dict(enumerate(npart.tolist())), options.ptypes, path)
        gas_only([name for name, key in names.items() if key != "vel"], types, path)
        positions = _block(_record(fh, endian, path, "positions"), endian, "f", 3 * n, path).reshape(-1, 3)
        wants_vel = "vel" in names.values()
        velocities = _record(fh, endian, path, "velocities", skip=not wants_vel)
        id_bytes = _record(fh, endian, path, "ids", optional=True)
        ids = None if id_bytes is None else _block(id_bytes, endian, "u", n, path)
        # Only types with particles and no header mass have entries in the mass block.
        in_block = (header["massarr"] == 0) & (npart > 0)
        block_masses = np.empty(0)
        if in_block.any():
            block_masses = _block(_record(fh, endian, path, "masses"), endian, "f", int(npart[in_block].sum()), path)
        energy = None
        if set(names.values()) & {"u", "temperature"}:
            energy = _block(_record(fh, endian, path, "gas internal energy"), endian, "f", int(npart[0]), path)
    per_point = {}
    if wants_vel:
        factor = velocity_factor(float(header["time"]), float(header["redshift"]))
        per_point["vel"] = _block(velocities, endian, "f", 3 * n, path).reshape(-1, 3) * factor
    if energy is not None:
        # The gas comes first, so padding the gas block to n rows keeps the row slices below.
        per_point["u"] = np.concatenate([energy, np.full(n - len(energy), np.nan)])
        per_point["temperature"] = temperature(per_point["u"], options.mean_molecular_weight)
    starts = np.concatenate([[0], np.cumsum(npart)])
    block_starts = np.concatenate([[0], np.cumsum(np.where(in_block, npart, 0))])
    parts = {}
    for t in types:
        rows = slice(starts[t], starts[t + 1])
        masses = (
            block_masses[block_starts[t] : block_starts[t + 1]]
            if in_block[t]
            else np.full(npart[t], header["massarr"][t])
        )
        fields = {name: per_point[key][rows] for name, key in names.items()}
        parts[t] = (positions[rows], masses, None if ids is None else ids[rows], fields)
    metadata = {
        "box_size": cubic_box(header["BoxSize"]),
        "redshift": float(header["redshift"]),
        "units": CODE_UNITS,
        "field_units": {name: snapshot_units(name, options.mean_molecular_weight) for name in names},
    }
    metadata.update(
        Omega_m=float(header["Omega0"]), Omega_L=float(header["OmegaLambda"]), h=float(header["HubbleParam"])
    )
    return merge_types(parts, metadata)


def _byte_order(marker: bytes) -> Endian | None:
    """``"<"`` or ``">"``: whichever reads the first record marker as 256."""
    for endian, order in BYTE_ORDERS.items():
        if len(marker) == 4 and int.from_bytes(marker, order) == HEADER_BYTES:
            return endian
    return None


def _header(data: bytes, endian: Endian) -> np.void:
    return np.frombuffer(data, HEADER.newbyteorder(endian), count=1)[0]


@overload
def _record(
    fh: BinaryIO, endian: Endian, path: Path, what: str, skip: bool = False, optional: Literal[False] = False
) -> bytes: ...
@overload
def _record(
    fh: BinaryIO, endian: Endian, path: Path, what: str, skip: bool = False, *, optional: bool
) -> bytes | None: ...
def _record(
    fh: BinaryIO, endian: Endian, path: Path, what: str, skip: bool = False, optional: bool = False
) -> bytes | None:
    """The payload of the next Fortran record (None at the end of an optional one)."""
    marker = fh.read(4)
    if not marker and optional:
        return None
    if len(marker) < 4:
        raise DelvolError(f"truncated Gadget-2 snapshot: no {what} record", path)
    size = int.from_bytes(marker, BYTE_ORDERS[endian])
    if skip:
        fh.seek(size, 1)
        data = b""
    else:
        data = fh.read(size)
    if (not skip and len(data) < size) or fh.read(4) != marker:
        raise DelvolError(f"corrupt Gadget-2 snapshot: the {what} record's end marker is wrong or missing", path)
    return data


def _block(data: bytes, endian: Endian, kind: str, count: int, path: Path) -> np.ndarray:
    """``count`` numbers of 4 or 8 bytes each, as a native-endian array."""
    width = len(data) // count if count else 0
    if width not in (4, 8) or width * count != len(data):
        raise DelvolError(f"a block of {len(data):,} bytes cannot hold {count:,} 4- or 8-byte numbers", path)
    return np.frombuffer(data, f"{endian}{kind}{width}").astype(f"{kind}{width}")
