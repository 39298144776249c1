"""Galaxy thumbnails as camera-facing billboards, from a texture array filled on demand."""

from __future__ import annotations

import time

import moderngl
import numpy as np

from delvol.gl.context import gl_bytes, load_program
from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings
from delvol.scene.sprite_layout import Galaxies, largest, screen_layout
from delvol.scene.thumbnails import LayerTable, ThumbnailLoader

_INSTANCE_FLOATS = 5  # centre (3), half size, layer
MIPMAP_INTERVAL = 0.25
"""Seconds between mipmap rebuilds while thumbnails keep arriving. GL rebuilds every layer
at once: about 50 ms for 200 layers on llvmpipe, too much to do in every frame."""


class SpriteVisual:
    """The ``count`` largest galaxies on screen, each drawn as its thumbnail.

    :meth:`update` chooses the galaxies for a view, asks the loader for their thumbnails
    and uploads those that are ready; the others show a placeholder until a later update.
    The visual owns the loader and closes it on :meth:`release`.

    Parameters
    ----------
    ctx : moderngl.Context
    loader : ThumbnailLoader
    count : int
        Most sprites drawn at once: one texture-array layer each.
    synchronous : bool
        Make :meth:`update` wait for every thumbnail it needs, so that an offscreen frame
        never depends on how fast the decoding threads ran.

    Raises
    ------
    ValueError
        ``count`` exceeds the layers the GL driver or the loader's cache can hold.
    """

    def __init__(self, ctx: moderngl.Context, loader: ThumbnailLoader, count: int, synchronous: bool = False) -> None:
        limit = ctx.info["GL_MAX_ARRAY_TEXTURE_LAYERS"]
        if not 1 <= count <= min(limit, loader.capacity):
            raise ValueError(
                f"the sprite count must be between 1 and {min(limit, loader.capacity)} "
                f"(the texture-array limit is {limit} and the memory cap holds {loader.capacity}), got {count}"
            )
        self.ctx = ctx
        self.loader = loader
        self.count = count
        self.synchronous = synchronous
        self.program = load_program(ctx, "sprites.vert", "sprites.frag")
        side = loader.side
        self.texture = ctx.texture_array((side, side, count), 4)
        self.texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        self.texture.repeat_x = self.texture.repeat_y = False
        self._instances = ctx.buffer(reserve=count * _INSTANCE_FLOATS * 4)
        self._vao = ctx.vertex_array(
            self.program, [(self._instances, "3f 1f 1f /i", "in_centre", "in_half_size", "in_layer")]
        )
        self._table = LayerTable(count)
        self.galaxies: Galaxies | None = None
        self._centre = np.zeros(3)
        self._axes = (np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        self._chosen = np.zeros(0, dtype=np.int64)
        self._objids: list = []
        self._view: tuple = ()
        self._unbuilt: set[int] = set()  # layers written since the mipmaps were last built
        self._built_at = -np.inf
        self.n_drawn = 0
        self.n_pending = 0

    def set_data(self, galaxies: Galaxies, centre: np.ndarray) -> None:
        """Keep the galaxies; positions are uploaded relative to ``centre`` on update."""
        self.galaxies = galaxies
        self._centre = np.asarray(centre, dtype=np.float64)
        self._chosen = np.zeros(0, dtype=np.int64)
        self._objids = []
        self._view = ()

    def update(self, camera: Camera, size: tuple[int, int], settings: RenderSettings) -> None:
        """Choose the sprites for this view and upload the thumbnails that are ready."""
        if self.galaxies is None:
            return
        view = (camera.view_projection(size[0] / size[1]).tobytes(), tuple(size), _cut_state(settings))
        if view != self._view:
            # Choosing costs about 10 ms per 1e5 galaxies: only when the view has changed.
            self._view = view
            self._choose(largest(screen_layout(self.galaxies, camera, size, settings), self.count))
        if self.synchronous:
            self.loader.wait(self._objids)
        self._axes = (camera.right, camera.camera_up)
        self._write_instances(self._upload_ready())

    def _upload_ready(self) -> np.ndarray:
        """Give the chosen galaxies whose thumbnails are ready a layer; return every one's layer.

        A layer counts as ready once its mipmaps are built: until then its smaller levels
        still hold the galaxy that had the layer before, so it shows the placeholder.
        """
        layers, uploads = self._table.assign(self._objids, self.loader.get)
        side = self.loader.side
        for layer, image in uploads:
            self.texture.write(image.tobytes(), viewport=(0, 0, layer, side, side, 1))
            self._unbuilt.add(layer)
        waiting = [objid for objid, layer in zip(self._objids, layers, strict=True) if layer < 0]
        loading = sum(not self.loader.done(objid) for objid in waiting)
        now = time.perf_counter()
        if self._unbuilt and (self.synchronous or loading == 0 or now - self._built_at >= MIPMAP_INTERVAL):
            self.texture.build_mipmaps()
            self._unbuilt.clear()
            self._built_at = now
        unbuilt = np.isin(layers, list(self._unbuilt))
        self.n_pending = loading + int(unbuilt.sum())
        return np.where(unbuilt, -1, layers)

    def _write_instances(self, layers: np.ndarray) -> None:
        chosen, galaxies = self._chosen, self.galaxies
        assert galaxies is not None, "instances are written after set_data"
        data = np.empty((len(chosen), _INSTANCE_FLOATS), dtype=np.float32)
        data[:, :3] = galaxies.positions[chosen] - self._centre
        data[:, 3] = 0.5 * galaxies.sizes[chosen]
        data[:, 4] = layers
        if len(data):
            self._instances.write(data.tobytes())
        self.n_drawn = len(data)

    def _choose(self, chosen: np.ndarray) -> None:
        if not np.array_equal(chosen, self._chosen):
            assert self.galaxies is not None, "sprites are chosen after set_data"
            self._chosen = chosen
            self._objids = self.galaxies.objids[chosen].tolist()
            self.loader.request(self._objids[::-1])  # nearest first: they are drawn last, on top

    def draw(self, view_proj: np.ndarray, texture_unit: int) -> None:
        """Blend the sprites over the bound framebuffer with premultiplied alpha (ONE, ONE_MINUS_SRC_ALPHA).

        ``view_proj`` includes the translation to the data centre.
        """
        if self.n_drawn == 0:
            return
        self.texture.use(location=texture_unit)
        prog = self.program
        prog["u_thumbnails"] = texture_unit
        prog["u_view_proj"].write(gl_bytes(view_proj))
        prog["u_right"] = tuple(float(v) for v in self._axes[0])
        prog["u_up"] = tuple(float(v) for v in self._axes[1])
        self._vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=self.n_drawn)

    def release(self) -> None:
        """Free the GL objects and stop the loader's threads."""
        for obj in (self._vao, self._instances, self.texture, self.program):
            obj.release()
        self.loader.close()


def _cut_state(settings: RenderSettings) -> tuple:
    """What of the settings changes which galaxies have sprites."""
    return (settings.cut_mode, tuple(np.asarray(settings.cut_normal).tolist()), settings.cut_offset, settings.cut_width)
