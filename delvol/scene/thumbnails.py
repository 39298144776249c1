"""Galaxy thumbnails: decoded on background threads, cached under a memory cap, placed in layers.

The render thread says which galaxies it wants, most wanted first, every time the view
changes; worker threads decode whatever is wanted and not yet cached, so nothing queued
for a view that has gone by is ever decoded. Decoded thumbnails are square RGBA arrays
of one size, ready for one layer of a GL texture array each, and stay in a least recently
used cache bounded in bytes. Nothing here touches OpenGL: uploading is the render
thread's job (:mod:`delvol.gl.visuals.sprites`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from io import BytesIO
from typing import Protocol

import numpy as np

from delvol.errors import DelvolError
from delvol.io.galaxy_store.database import GalaxyId

SLOT = 128
"""Side in pixels of a decoded thumbnail (one texture-array layer)."""
SKY_CAP = 0.5
"""Brightest sky (0 to 1) that :func:`subtract_sky` takes for sky; a brighter border is the
picture itself (a flat colour, a galaxy filling its frame), which stays opaque."""


class ImageReader(Protocol):
    """What a worker thread reads encoded images from (a :class:`~delvol.io.galaxy_store.database.GalaxyStore`)."""

    def image_bytes(self, objid: GalaxyId) -> bytes: ...


def decode_thumbnail(data: bytes, side: int = SLOT) -> np.ndarray:
    """An encoded image as a (side, side, 4) uint8 RGBA array, first row at the top.

    The image is scaled to fit and centred; what it does not cover is transparent.

    Raises
    ------
    DelvolError
        The bytes do not decode.
    """
    from PIL import Image

    try:
        with Image.open(BytesIO(data)) as img:
            # JPEG decodes straight to 1/2, 1/4 or 1/8 scale: a 424-pixel cutout for a
            # 128-pixel slot costs a quarter of a full decode.
            img.draft("RGB", (side, side))
            # Resizing RGBA premultiplies and costs half as much again: only when there is alpha.
            has_alpha = "A" in img.getbands() or "transparency" in img.info
            picture = img.convert("RGBA" if has_alpha else "RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DelvolError(f"image does not decode ({exc})") from exc
    scale = side / max(picture.size)
    fitted = picture.resize(
        (max(1, round(picture.width * scale)), max(1, round(picture.height * scale))), Image.Resampling.LANCZOS
    )
    canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    canvas.paste(fitted, ((side - fitted.width) // 2, (side - fitted.height) // 2))
    return np.asarray(canvas)


def subtract_sky(rgba: np.ndarray) -> np.ndarray:
    """A cutout with its sky subtracted and made transparent, as premultiplied RGBA.

    The sky level of each colour is the median of the picture's border, and its noise
    the border's robust spread. What stands above the noise is the galaxy's own light,
    drawn over whatever lies behind; it becomes opaque only well above the noise, so faint
    outskirts brighten what lies behind them rather than hide it. A picture whose border
    is brighter than :data:`SKY_CAP` is not a galaxy on sky, and stays as it is.
    """
    covered = rgba[..., 3] > 0
    rows, cols = np.flatnonzero(covered.any(axis=1)), np.flatnonzero(covered.any(axis=0))
    if rows.size == 0:
        return np.zeros_like(rgba)
    coverage = rgba[..., 3:] * np.float32(1 / 255)
    rgb = rgba[..., :3] * np.float32(1 / 255)
    # The picture may not fill the square: its border is the edge of what it covers.
    box = rgb[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    border = np.concatenate([box[0], box[-1], box[:, 0], box[:, -1]])
    sky = np.median(border, axis=0)
    if sky.max() <= SKY_CAP:
        spread = (border - sky).max(axis=-1)
        noise = 1.4826 * float(np.median(np.abs(spread - np.median(spread))))
        rgb = np.clip(rgb - sky, 0.0, 1.0)
        # np.maximum of the channels: a max over a last axis of 3 is ten times slower.
        above = np.maximum(np.maximum(rgb[..., 0:1], rgb[..., 1:2]), rgb[..., 2:3])
        rgb *= _smoothstep(2 * noise + 0.01, 4 * noise + 0.03, above)
        coverage *= _smoothstep(3 * noise + 0.05, 3 * noise + 0.3, above)
    rgb *= rgba[..., 3:] * np.float32(1 / 255)
    out = np.empty_like(rgba)
    np.rint(rgb * 255, out=out[..., :3], casting="unsafe")
    np.rint(coverage * 255, out=out[..., 3:], casting="unsafe")
    return out


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - np.float32(lo)) * np.float32(1 / (hi - lo)), 0.0, 1.0)
    return t * t * (3 - 2 * t)


class ThumbnailLoader:
    """Decodes wanted thumbnails on worker threads and keeps the recently used ones.

    Thumbnails come back sky-subtracted, with premultiplied alpha (:func:`subtract_sky`).

    Parameters
    ----------
    open_reader : callable
        Returns a context manager yielding an :class:`ImageReader`. Each worker thread opens
        its own, because SQLite connections belong to the thread that made them.
    memory : int
        Most bytes of decoded thumbnails to keep.
    side : int
        Thumbnail side in pixels.
    workers : int
        Decoding threads, started on the first request.

    Notes
    -----
    A galaxy whose image is missing or does not decode is remembered as failed (see
    :attr:`failures`) and never tried again; the caller draws a placeholder for it.
    """

    def __init__(
        self,
        open_reader: Callable[[], AbstractContextManager[ImageReader]],
        memory: int = 256 * 2**20,
        side: int = SLOT,
        workers: int = 2,
    ) -> None:
        self.side = side
        self.capacity = memory // (side * side * 4)
        if self.capacity < 1:
            raise ValueError(f"{memory} bytes hold no {side}x{side} thumbnail")
        self.failures: dict[GalaxyId, str] = {}
        self._open_reader = open_reader
        self._n_workers = workers
        self._threads: list[threading.Thread] = []
        self._cache: OrderedDict[GalaxyId, np.ndarray] = OrderedDict()
        self._wanted: set[GalaxyId] = set()
        self._queue: deque[GalaxyId] = deque()  # wanted and not yet decoded, most wanted first
        self._in_flight: set[GalaxyId] = set()
        self._cond = threading.Condition()
        self._closed = False
        self._crash: BaseException | None = None

    # -- render thread -----------------------------------------------------------------

    def request(self, objids: Sequence[GalaxyId]) -> None:
        """Replace what the workers decode with ``objids``, most wanted first.

        Cached ones become the most recently used. While no more are wanted than the cache
        holds, a wanted thumbnail, once decoded, stays cached until it is no longer wanted.
        """
        with self._cond:
            self._raise_crash()
            self._wanted = set(objids)
            self._queue = deque(o for o in objids if o not in self._cache and o not in self.failures)
            for objid in reversed(objids):
                if objid in self._cache:
                    self._cache.move_to_end(objid)
            self._start_workers()
            self._cond.notify_all()

    def get(self, objid: GalaxyId) -> np.ndarray | None:
        """The decoded thumbnail, or None while it is not ready (or failed)."""
        with self._cond:
            self._raise_crash()
            image = self._cache.get(objid)
            if image is not None:
                self._cache.move_to_end(objid)
            return image

    def done(self, objid: GalaxyId) -> bool:
        """Whether ``objid`` is decoded or has failed: nothing more will change for it."""
        with self._cond:
            return objid in self._cache or objid in self.failures

    def wait(self, objids: Sequence[GalaxyId]) -> None:
        """Block until every one of ``objids`` is decoded or has failed.

        Raises
        ------
        ValueError
            More are asked for than the cache holds, or some were not requested, so the
            wait could never end.
        DelvolError
            A worker could not open the store (it has gone, say).
        RuntimeError
            A worker stopped on anything else.
        """
        if len(set(objids)) > self.capacity:
            raise ValueError(f"cannot wait for {len(set(objids))} thumbnails with room for {self.capacity}")
        with self._cond:
            for objid in objids:
                while objid not in self._cache and objid not in self.failures:
                    self._raise_crash()
                    if objid not in self._wanted:
                        raise ValueError(f"wait for thumbnail {objid!r}, which was not requested")
                    self._cond.wait()
            self._raise_crash()

    @property
    def nbytes(self) -> int:
        """Bytes of decoded thumbnails held."""
        with self._cond:
            return sum(image.nbytes for image in self._cache.values())

    def close(self) -> None:
        """Stop the workers and drop the cache."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._cache.clear()

    # -- worker threads ----------------------------------------------------------------

    def _start_workers(self) -> None:
        while len(self._threads) < self._n_workers:
            thread = threading.Thread(target=self._work, name=f"delvol-thumbnails-{len(self._threads)}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _next_job(self) -> GalaxyId | None:
        while self._queue:
            objid = self._queue.popleft()
            if objid not in self._cache and objid not in self.failures and objid not in self._in_flight:
                return objid
        return None

    def _work(self) -> None:
        try:
            with self._open_reader() as reader:
                while (objid := self._take_job()) is not None:
                    try:
                        image, error = subtract_sky(decode_thumbnail(reader.image_bytes(objid), self.side)), None
                    except DelvolError as exc:
                        image, error = None, exc.problem
                    self._finish_job(objid, image, error)
        except BaseException as exc:
            # Waiters on the render thread would otherwise block for ever; they re-raise it.
            with self._cond:
                self._crash = exc
                self._cond.notify_all()

    def _take_job(self) -> GalaxyId | None:
        with self._cond:
            while not self._closed:
                objid = self._next_job()
                if objid is not None:
                    self._in_flight.add(objid)
                    return objid
                self._cond.wait()
            return None

    def _finish_job(self, objid: GalaxyId, image: np.ndarray | None, error: str | None) -> None:
        with self._cond:
            self._in_flight.discard(objid)
            if image is None:
                self.failures[objid] = error or "no image"
            else:
                self._cache[objid] = image
                while len(self._cache) > self.capacity:
                    # The least recently used that is not wanted, if any is not.
                    victim = next((o for o in self._cache if o not in self._wanted), next(iter(self._cache)))
                    del self._cache[victim]
            self._cond.notify_all()

    def _raise_crash(self) -> None:
        if isinstance(self._crash, DelvolError):
            raise self._crash
        if self._crash is not None:
            raise RuntimeError(f"thumbnail decoding stopped: {self._crash}") from self._crash


class LayerTable:
    """Which texture-array layer holds which galaxy's thumbnail.

    A galaxy keeps its layer while it stays wanted; layers of galaxies no longer wanted
    are reused, so with as many layers as sprites every wanted thumbnail gets one.

    Parameters
    ----------
    n_layers : int
    """

    def __init__(self, n_layers: int) -> None:
        self.n_layers = n_layers
        self._layers: dict[GalaxyId, int] = {}

    def assign(
        self, wanted: Sequence[GalaxyId], ready: Callable[[GalaxyId], np.ndarray | None]
    ) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
        """Give layers to the wanted galaxies whose thumbnails are ready.

        Parameters
        ----------
        wanted : sequence
            Galaxy ids, at most :attr:`n_layers` distinct ones.
        ready : callable
            The decoded thumbnail of an id, or None.

        Returns
        -------
        layers : ndarray of int32
            Each wanted galaxy's layer, -1 where its thumbnail is not ready.
        uploads : list of (layer, image)
            Thumbnails to write into their new layers.
        """
        keep = set(wanted)
        if len(keep) > self.n_layers:
            raise ValueError(f"{len(keep)} galaxies for {self.n_layers} layers")
        self._layers = {objid: layer for objid, layer in self._layers.items() if objid in keep}
        free = sorted(set(range(self.n_layers)) - set(self._layers.values()), reverse=True)
        uploads = []
        for objid in wanted:
            if objid in self._layers:
                continue
            image = ready(objid)
            if image is not None:
                self._layers[objid] = free.pop()
                uploads.append((self._layers[objid], image))
        return np.array([self._layers.get(objid, -1) for objid in wanted], dtype=np.int32), uploads
