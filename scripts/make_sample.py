"""Generate data/sample.npy: a small, strongly clustered point set (fixed seed).

A Zel'dovich-approximation snapshot: a 30³ lattice in a periodic box of side 100 Mpc/h is
displaced along the gradient of a Gaussian random potential with a power-law spectrum
P(k) ∝ k^-1.5 and a Gaussian cut-off. The growth factor is set past shell crossing, so
particles pile up in walls, filaments and knots (clusters) with empty voids between them,
the cosmic-web morphology delvol is made to show. A jitter breaks the lattice in the
voids, and Plummer-sphere halos add the virialised clusters that the Zel'dovich
approximation cannot form (see :func:`add_halos`).

Run ``python scripts/make_sample.py`` to regenerate; the output is identical on every
machine with the same NumPy random generator (PCG64).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20261125
N_SIDE = 30
BOX = 100.0  # Mpc/h
SPECTRAL_INDEX = -1.5
SMOOTHING = 3.0  # Mpc/h, Gaussian cut-off of the spectrum
RMS_DISPLACEMENT = 3.5  # in lattice spacings: past shell crossing, so walls and filaments form
JITTER = 0.15  # in lattice spacings
N_HALOS = 60
N_HALO_POINTS = 6000
HALO_SCALE = 0.6  # Mpc/h, Plummer scale radius of the largest halo


def zeldovich(n_side: int, box: float, seed: int) -> np.ndarray:
    """Positions of an ``n_side``³ Zel'dovich realisation in ``[0, box)``³, float64."""
    rng = np.random.default_rng(seed)
    spacing = box / n_side
    k1 = 2 * np.pi * np.fft.fftfreq(n_side, d=spacing)
    kz1 = 2 * np.pi * np.fft.rfftfreq(n_side, d=spacing)
    kx, ky, kz = np.meshgrid(k1, k1, kz1, indexing="ij")
    k2 = kx**2 + ky**2 + kz**2
    k2[0, 0, 0] = 1.0
    amplitude = np.sqrt(k2 ** (SPECTRAL_INDEX / 2) * np.exp(-k2 * SMOOTHING**2))
    amplitude[0, 0, 0] = 0.0
    delta_k = np.fft.rfftn(rng.standard_normal((n_side,) * 3)) * amplitude
    # Displacement psi = -grad(phi), with laplacian(phi) = delta, so psi_k = i k delta_k / k^2.
    shape, axes = (n_side,) * 3, (0, 1, 2)
    psi = np.stack([np.fft.irfftn(1j * k * delta_k / k2, s=shape, axes=axes) for k in (kx, ky, kz)], axis=-1)
    psi *= RMS_DISPLACEMENT * spacing / psi.std() / np.sqrt(3)
    q = (np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), axis=-1) + 0.5) * spacing
    x = q + psi + rng.normal(scale=JITTER * spacing, size=q.shape)
    return np.mod(x, box).reshape(-1, 3)


def add_halos(web: np.ndarray, box: float, seed: int) -> np.ndarray:
    """Add Plummer-profile clusters centred on web particles in the densest places.

    The Zel'dovich approximation smears collapsed knots out again after shell crossing;
    real snapshots have virialised halos there. Halo centres are drawn with probability
    proportional to the local density of the web (count of neighbours within 3 Mpc/h) and
    their point counts follow a steep power law, so a few rich clusters and many small
    groups sit on the filaments and at their intersections.
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed + 1)
    counts = np.array([len(n) for n in cKDTree(web, boxsize=box).query_ball_point(web, 3.0)], dtype=float)
    weight = counts**2
    centres = web[rng.choice(len(web), N_HALOS, replace=False, p=weight / weight.sum())]
    richness = rng.pareto(1.2, N_HALOS) + 1.0
    sizes = np.maximum(5, (N_HALO_POINTS * richness / richness.sum()).astype(int))
    parts = []
    for centre, size in zip(centres, sizes, strict=True):
        scale = HALO_SCALE * (size / sizes.max()) ** (1 / 3)
        # Plummer radii by inverting the enclosed-mass profile, truncated at 10 scale radii.
        u = rng.uniform(0, 0.99, size) ** (2 / 3)
        r = scale * np.sqrt(u / (1 - u))
        direction = rng.normal(size=(size, 3))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        parts.append(centre + r[:, None] * direction)
    return np.mod(np.concatenate([web, *parts]), box)


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "data" / "sample.npy"
    positions = add_halos(zeldovich(N_SIDE, BOX, SEED), BOX, SEED).astype(np.float32)
    np.save(out, positions)
    print(f"wrote {out}: {len(positions)} points in a periodic box of {BOX:g} Mpc/h")


if __name__ == "__main__":
    main()
