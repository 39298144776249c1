"""Choose delvol's Qhull options by measurement: speed against the default, and correctness.

Every candidate option string triangulates the same points, in delvol's sheared frame,
interleaved round by round with the others, so each round's ratio to the default sees
the same machine load; times are CPU seconds (see ``timing.py``). Data: ``poisson`` and
``clustered`` (Soneira–Peebles), as in ``pointsets.py``. Each candidate must also pass,
through :func:`delvol.geometry.tessellate`:

lattice
    An exact 8³ cubic lattice: no flat tetrahedra, total volume 7³, interior density 1.
duplicates
    2,000 Poisson points plus 3 exact copies: ``coplanar`` reports exactly those 3
    (``Qc``), their mass is merged, and mass is conserved.
snapshot
    ``../shared/data/nbody/mini_n64_l32_z0_pos_float32.npy`` (262,144 particles, 9 exact
    duplicates): 9 duplicates found, every density finite, mass conserved.

Mass conservation means the integral of the DTFE field equals the total mass to 1e-10.
A candidate is *reliably faster* when, on every data set, its median ratio to the
default is at most 0.95 and it was faster in every round.

Run from the repository root: ``python -m benchmarks.bench_qhull_options --sizes 1e5 1e6``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.spatial import Delaunay, QhullError

from benchmarks.pointsets import GENERATORS, cubic_lattice, poisson, with_duplicates
from benchmarks.timing import interleaved, median, paired_ratios, print_table, verdict
from delvol.errors import DegenerateInputError
from delvol.geometry import Tessellation, tessellate
from delvol.geometry.dtfe import integrated_mass
from delvol.geometry.engines import engine_frame
from delvol.geometry.tessellation import QHULL_OPTIONS

CANDIDATES = (
    QHULL_OPTIONS,
    "Qbb Qc Q12 Qt",
    "Qc Qz Q12 Qt",
    "Qbb Qc Qz Qt",
    "Qbb Qc Qz Q12 Qt Qx",
    "Qt Qc",
)
SNAPSHOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nbody" / "mini_n64_l32_z0_pos_float32.npy"
SNAPSHOT_DUPLICATES = 9
MASS_TOLERANCE = 1e-10
FASTER = 0.95


def mass_conserved(tess: Tessellation, total: float) -> bool:
    """Whether the DTFE field integrates to ``total`` within :data:`MASS_TOLERANCE`."""
    error = abs(integrated_mass(tess.tetrahedra, tess.tet_volume, tess.density) - total) / total
    return error < MASS_TOLERANCE


def check_lattice(options: str) -> bool:
    """An exact cubic lattice: positive volumes, exact total, uniform interior density."""
    side = 8
    tess = tessellate(cubic_lattice(side), engine="scipy", qhull_options=options)
    return bool(
        tess.tet_volume.min() > 0
        and np.isclose(tess.tet_volume.sum(), (side - 1) ** 3, rtol=1e-12, atol=0)
        and np.allclose(tess.density[~tess.hull], 1.0, rtol=1e-9, atol=0)
        and mass_conserved(tess, len(tess.points))
    )


def check_duplicates(options: str) -> bool:
    """Exact copies are reported in ``coplanar`` (all and only them) and their mass merged."""
    base = poisson(2000)
    points = with_duplicates(base, [7, 7, 42])
    tri = Delaunay(engine_frame(points, points.mean(axis=0)), qhull_options=options)
    dropped, kept = tri.coplanar[:, 0], tri.coplanar[:, 2]
    masses = np.arange(1.0, len(points) + 1)
    tess = tessellate(points, masses, engine="scipy", qhull_options=options)
    return bool(
        len(dropped) == 3
        and np.array_equal(points[dropped], points[kept])
        and tess.info["n_duplicates"] == 3
        and np.isfinite(tess.density).all()
        and mass_conserved(tess, masses.sum())
    )


def check_snapshot(options: str) -> bool | None:
    """The real snapshot's duplicates and mass; None when the file is absent."""
    if not SNAPSHOT.is_file():
        return None
    points = np.load(SNAPSHOT)
    tess = tessellate(points, engine="scipy", qhull_options=options)
    return bool(
        tess.info["n_duplicates"] == SNAPSHOT_DUPLICATES
        and np.isfinite(tess.density).all()
        and mass_conserved(tess, len(points))
    )


CHECKS: dict[str, Callable[[str], bool | None]] = {
    "lattice": check_lattice,
    "duplicates": check_duplicates,
    "snapshot": check_snapshot,
}


def run_check(check: Callable[[str], bool | None], options: str) -> str:
    """PASS, FAIL (also when Qhull or delvol refuse the input), or ``skipped``."""
    try:
        ok = check(options)
    except (QhullError, DegenerateInputError):
        return "FAIL"
    return "skipped" if ok is None else verdict(ok)


def time_options(points: np.ndarray, candidates: list[str], repeat: int) -> dict[str, list[float]]:
    """Interleaved CPU times of Qhull with each option string, on delvol's frame."""
    framed = engine_frame(points, points.mean(axis=0))

    def build(options: str) -> Callable[[], Delaunay]:
        return lambda: Delaunay(framed, qhull_options=options)

    return interleaved({options: build(options) for options in candidates}, repeat).cpu


def accepted(options: str) -> bool:
    """Whether Qhull accepts the option string at all."""
    try:
        Delaunay(poisson(100), qhull_options=options)
    except QhullError:
        return False
    return True


def reliably_faster(ratios: list[list[float]]) -> bool:
    """Faster than the default by :data:`FASTER` in the median, and in every round, everywhere."""
    return all(median(r) <= FASTER and max(r) < 1.0 for r in ratios)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e5], help="point counts (default 1e5)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--data", nargs="+", choices=sorted(GENERATORS), default=sorted(GENERATORS))
    parser.add_argument(
        "--options", nargs="+", default=list(CANDIDATES), help="candidate option strings; the first is the reference"
    )
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> None:
    candidates = [options for options in args.options if accepted(options)]
    for options in set(args.options) - set(candidates):
        print(f"Qhull rejects {options!r}; left out")
    reference = candidates[0]
    ratios: dict[str, list[list[float]]] = {options: [] for options in candidates}
    cells: dict[str, list[str]] = {options: [] for options in candidates}
    columns = []
    for n in (int(size) for size in args.sizes):
        for kind in args.data:
            print(f"timing {kind} N={n:.0e}, {args.repeat} rounds", flush=True)
            times = time_options(GENERATORS[kind](n), candidates, args.repeat)
            columns.append(f"{kind} {n:.0e}")
            for options in candidates:
                r = paired_ratios(times[options], times[reference])
                ratios[options].append(r)
                cells[options].append(f"{median(times[options]):.2f} s x{median(r):.3f} [{min(r):.2f}-{max(r):.2f}]")
    print("correctness checks", flush=True)
    rows = []
    for options in candidates:
        checks = [run_check(check, options) for check in CHECKS.values()]
        correct = all(c != "FAIL" for c in checks)
        faster = options != reference and reliably_faster(ratios[options])
        rows.append([options, *cells[options], *checks, "faster" if correct and faster else "-"])
    print("\nmedian CPU seconds; x = median ratio to the reference, [range over rounds]")
    print_table(["options", *columns, *CHECKS, "reliably faster"], rows)
    winners = [row[0] for row in rows if row[-1] == "faster"]
    best = min(winners, key=lambda o: np.mean([median(r) for r in ratios[o]]), default=reference)
    print(f"\nreference: {reference!r}; best robust choice: {best!r}")


if __name__ == "__main__":
    main(parse_args())
