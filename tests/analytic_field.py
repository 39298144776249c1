"""An analytic density field with an exact projection, for the fidelity test.

A low uniform background in a unit cube, a few Gaussian halos and Gaussian filament
segments. Points are drawn from the mixture, and the projection along z is known in
closed form (halos) or by fine quadrature along the segment (filaments).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Field:
    halos: np.ndarray  # (H, 3) centres
    halo_sigma: np.ndarray  # (H,)
    segments: np.ndarray  # (S, 2, 3) end points
    segment_sigma: np.ndarray  # (S,)
    weights: np.ndarray  # background, halos..., segments... (sums to 1)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points drawn from the normalised field."""
        counts = rng.multinomial(n, self.weights)
        parts = [rng.random((counts[0], 3))]
        for k, (c, s) in enumerate(zip(self.halos, self.halo_sigma, strict=True)):
            parts.append(c + s * rng.standard_normal((counts[1 + k], 3)))
        base = 1 + len(self.halos)
        for k, (seg, s) in enumerate(zip(self.segments, self.segment_sigma, strict=True)):
            t = rng.random((counts[base + k], 1))
            parts.append(seg[0] + t * (seg[1] - seg[0]) + s * rng.standard_normal((counts[base + k], 3)))
        return np.concatenate(parts)

    def projected(self, x: np.ndarray, y: np.ndarray, n: int) -> np.ndarray:
        """Exact surface density (points per unit area) along z at positions (x, y)."""
        sigma = n * self.weights[0] * np.ones_like(x)  # background: unit depth
        for c, s, w in zip(self.halos, self.halo_sigma, self.weights[1:], strict=False):
            r2 = (x - c[0]) ** 2 + (y - c[1]) ** 2
            sigma += n * w * np.exp(-r2 / (2 * s * s)) / (2 * np.pi * s * s)
        base = 1 + len(self.halos)
        for seg, s, w in zip(self.segments, self.segment_sigma, self.weights[base:], strict=True):
            ts = (np.arange(400) + 0.5) / 400
            for t in ts:
                p = seg[0] + t * (seg[1] - seg[0])
                r2 = (x - p[0]) ** 2 + (y - p[1]) ** 2
                sigma += n * w / len(ts) * np.exp(-r2 / (2 * s * s)) / (2 * np.pi * s * s)
        return sigma


def make_field() -> Field:
    """Halos and filaments well inside the unit cube, so no component leaks out in z."""
    halos = np.array([[0.3, 0.35, 0.5], [0.68, 0.62, 0.45], [0.55, 0.28, 0.6], [0.35, 0.7, 0.4]])
    halo_sigma = np.array([0.025, 0.035, 0.02, 0.03])
    segments = np.array(
        [
            [[0.3, 0.35, 0.5], [0.68, 0.62, 0.45]],
            [[0.68, 0.62, 0.45], [0.55, 0.28, 0.6]],
            [[0.3, 0.35, 0.5], [0.35, 0.7, 0.4]],
            [[0.2, 0.8, 0.55], [0.8, 0.78, 0.5]],
        ]
    )
    segment_sigma = np.array([0.03, 0.025, 0.035, 0.03])
    weights = np.array([0.3, 0.09, 0.08, 0.05, 0.06, 0.12, 0.1, 0.1, 0.1])
    return Field(halos, halo_sigma, segments, segment_sigma, weights / weights.sum())
