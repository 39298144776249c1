"""What every camera path offers: states along it, sampling into frames, and easing."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

DEFAULT_EASE = 0.15
"""Fraction of a path's time spent speeding up at its start, and again slowing down at its end."""


def ease_fraction(ease: bool | float) -> float:
    """The easing fraction of ``ease``: True is :data:`DEFAULT_EASE`, False is 0.

    Raises
    ------
    ValueError
        When ``ease`` is not a boolean or a number from 0 to 0.5.
    """
    if isinstance(ease, bool):
        return DEFAULT_EASE if ease else 0.0
    if not isinstance(ease, int | float) or not 0.0 <= ease <= 0.5:
        raise ValueError(f"ease must be true, false or a number from 0 to 0.5, got {ease!r}")
    return float(ease)


def eased(u: float, ease: float) -> float:
    """How far along the path the camera is at time ``u`` (both 0 to 1) with easing ``ease``.

    The speed rises from zero over the first ``ease`` of the time along a smoothstep, so
    the acceleration is continuous too, holds steady, and falls back to zero over the last
    ``ease``. With ``ease == 0`` the camera moves at constant speed from start to end.
    """
    if ease == 0.0:
        return u
    cruise = 1.0 / (1.0 - ease)  # the steady speed: the ramps cover half their time's worth

    def ramp(x: float) -> float:  # distance covered x (0 to 1) of the way up the smoothstep ramp
        return ease * cruise * (x**3 - x**4 / 2)

    if u < ease:
        return ramp(u / ease)
    if u > 1.0 - ease:
        return 1.0 - ramp((1.0 - u) / ease)
    return cruise * (u - ease / 2)


class PathBase(ABC):
    """A camera path: a full camera state (as :meth:`Camera.get_state` gives) for every time.

    Attributes
    ----------
    ease : float
        Fraction of the time spent speeding up from rest, and again slowing down to rest
        (0 to 0.5; 0 moves at constant speed throughout).
    closed : bool
        Whether the path ends where it starts, so a movie of it loops.
    """

    ease: float = 0.0
    closed: bool = False

    def state_at(self, u: float) -> dict[str, Any]:
        """The camera state at time ``u`` from 0 (the start) to 1 (the end)."""
        if not 0.0 <= u <= 1.0:
            raise ValueError(f"path time must be from 0 to 1, got {u!r}")
        return self._state(eased(float(u), self.ease))

    def frame_times(self, n_frames: int) -> np.ndarray:
        """The times of ``n_frames`` evenly spaced frames.

        An open path shows both its start and its end; a closed path leaves out the end,
        which repeats the start, so the movie loops without a stutter.
        """
        if n_frames < 1:
            raise ValueError(f"a movie needs at least one frame, got {n_frames}")
        if self.closed:
            return np.arange(n_frames) / n_frames
        return np.linspace(0.0, 1.0, n_frames) if n_frames > 1 else np.zeros(1)

    def states(self, n_frames: int) -> list[dict[str, Any]]:
        """Camera states of ``n_frames`` evenly spaced frames (see :meth:`frame_times`)."""
        return [self.state_at(u) for u in self.frame_times(n_frames)]

    @abstractmethod
    def _state(self, t: float) -> dict[str, Any]:
        """The state a fraction ``t`` of the way along the path (after easing)."""
