"""A blocked tessellation's faces with level of detail: far blocks draw every k-th face, times k."""

from __future__ import annotations

import moderngl
import numpy as np

from delvol.blocks.lod import BlockFaces, subsample
from delvol.gl.visuals.volume import VolumeVisual
from delvol.scene.settings import RenderSettings


class BlockVolumeVisual:
    """One :class:`VolumeVisual` per block, each holding every k-th of its faces.

    The strides come from :meth:`BlockFaces.strides` for the camera position given to
    :meth:`follow`; a block is uploaded again only when its stride changes. The faces stay
    on the host, so the GPU holds at most ``budget`` faces (and the vertices they use).

    Parameters
    ----------
    ctx : moderngl.Context
    blocks : BlockFaces
    centre : ndarray, shape (3,)
        The point positions are uploaded relative to (float32), as for a single tessellation.
    budget : int
        Most faces drawn.
    """

    def __init__(self, ctx: moderngl.Context, blocks: BlockFaces, centre: np.ndarray, budget: int) -> None:
        self.ctx = ctx
        self.blocks = blocks
        self.centre = np.asarray(centre, dtype=np.float64)
        self.budget = budget
        self._programs: dict[tuple[bool, bool, bool], moderngl.Program] = {}  # shared by the blocks' visuals
        self.visuals = [VolumeVisual(ctx, self._programs) for _ in blocks.blocks]
        self.strides = np.zeros(len(blocks.blocks), dtype=np.int64)  # 0: not uploaded yet

    @property
    def n_faces(self) -> int:
        """Faces uploaded and drawn, in all blocks."""
        return sum(visual.n_faces for visual in self.visuals)

    def follow(self, eye: np.ndarray) -> bool:
        """Choose the strides for a camera at ``eye``; upload the blocks whose stride changed.

        Returns whether any did.
        """
        strides = self.blocks.strides(eye, self.budget)
        changed = np.flatnonzero(strides != self.strides)
        for b in changed:
            self.visuals[b].set_data(subsample(self.blocks.blocks[b], int(strides[b])), self.centre)
        self.strides = strides
        return len(changed) > 0

    def draw(self, view_proj: np.ndarray, settings: RenderSettings, start: float = 0.0, stop: float = 1.0) -> None:
        """Add the fraction ``[start, stop)`` of every block's uploaded faces, each times its stride."""
        for visual, stride in zip(self.visuals, self.strides, strict=True):
            visual.draw(view_proj, settings, start, stop, scale=float(stride))

    def release(self) -> None:
        """Free every GL object of the blocks' visuals and the shared programs."""
        for visual in self.visuals:
            visual.release()
        for program in self._programs.values():
            program.release()
        self._programs.clear()
        self.strides[:] = 0
