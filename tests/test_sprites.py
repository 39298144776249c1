"""Galaxy sprites without OpenGL: choosing them, picking them, loading their thumbnails."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest
from galaxy_store import BLUE, RED, solid_jpeg
from PIL import Image

from delvol.errors import DelvolError
from delvol.io.units import length_in, parse_length
from delvol.scene.camera import Camera
from delvol.scene.settings import RenderSettings
from delvol.scene.sprite_layout import Galaxies, largest, pick, screen_layout
from delvol.scene.thumbnails import SLOT, LayerTable, ThumbnailLoader, decode_thumbnail, subtract_sky

SIZE = (200, 100)
THUMB_BYTES = SLOT * SLOT * 4


def camera_on_x() -> Camera:
    """At the origin looking along +x, with +z up on screen."""
    cam = Camera(up=np.array([0.0, 0.0, 1.0]))
    cam.fit(np.array([0.0, -5, -5]), np.array([100.0, 5, 5]), aspect=2.0)
    cam.look_at(np.zeros(3), np.array([1.0, 0, 0]))
    return cam


# --- which sprites, and which one a click hits ------------------------------------------


def test_largest_are_nearest_for_equal_sizes_and_drawn_back_to_front():
    depths = np.array([50.0, 10, 80, 30, 20, 60])
    galaxies = Galaxies(np.column_stack([depths, np.zeros(6), np.zeros(6)]), 1.0, np.arange(100, 106))
    layout = screen_layout(galaxies, camera_on_x(), SIZE)
    chosen = largest(layout, 3)
    assert chosen.tolist() == [3, 4, 1]  # depths 30, 20, 10: the farthest first
    assert set(largest(layout, 10).tolist()) == set(range(6))


def test_a_big_far_galaxy_outranks_a_small_near_one():
    positions = np.array([[10.0, 0, 0], [40.0, 0, 0]])
    layout = screen_layout(Galaxies(positions, [0.1, 2.0], np.array([1, 2])), camera_on_x(), SIZE)
    assert largest(layout, 1).tolist() == [1]
    radius = layout.radii[layout.indices == 1][0]
    assert radius == pytest.approx(1.0 * SIZE[1] / (2 * np.tan(np.radians(45 / 2)) * 40))


def test_layout_leaves_out_what_is_behind_off_screen_sizeless_or_cut():
    positions = np.array([[10.0, 0, 0], [-10.0, 0, 0], [10.0, 50, 0], [10.0, 0, 1], [20.0, 0, 0]])
    galaxies = Galaxies(positions, [1.0, 1.0, 1.0, np.nan, 1.0], np.arange(5))
    assert screen_layout(galaxies, camera_on_x(), SIZE).indices.tolist() == [0, 4]
    # A sprite whose centre is just off screen still reaches into it.
    edge = Galaxies(np.array([[10.0, 8.5, 0]]), 1.0, np.array([0]))
    centre = camera_on_x().project(edge.positions, *SIZE)[0]
    assert centre[0] < 0 and len(screen_layout(edge, camera_on_x(), SIZE).indices) == 1
    cut = RenderSettings(cut_mode="half", cut_normal=np.array([1.0, 0, 0]), cut_offset=15.0)
    assert screen_layout(galaxies, camera_on_x(), SIZE, cut).indices.tolist() == [0]


@pytest.mark.parametrize("projection", ["perspective", "orthographic"])
def test_layout_centres_are_the_camera_projection(projection):
    cam = camera_on_x()
    cam.projection, cam.ortho_height = projection, 30.0
    positions = np.random.default_rng(3).uniform([5, -10, -10], [90, 10, 10], (500, 3))
    layout = screen_layout(Galaxies(positions, 0.5, np.arange(500)), cam, SIZE)
    assert len(layout.indices) > 50
    np.testing.assert_allclose(layout.centres, cam.project(positions[layout.indices], *SIZE), atol=1e-9)


def test_orthographic_sprites_keep_their_size():
    cam = camera_on_x()
    cam.projection, cam.ortho_height = "orthographic", 10.0
    layout = screen_layout(Galaxies(np.array([[5.0, 0, 0], [90.0, 0, 0]]), 2.0, np.arange(2)), cam, SIZE)
    np.testing.assert_allclose(layout.radii, [10.0, 10.0])


def test_pick_the_galaxy_under_the_click():
    cam = camera_on_x()
    positions = np.array([[20.0, 0, 0], [40.0, 10, 5], [60.0, -15, -8], [30.0, 0.05, 0]])
    galaxies = Galaxies(positions, [0.01, 0.01, 0.01, 0.01], np.array([7, 8, 9, 10]))
    layout = screen_layout(galaxies, cam, SIZE)
    pixels = cam.project(positions, *SIZE)
    assert pick(layout, pixels[1] + [3, -2]) == 1
    assert pick(layout, pixels[2]) == 2
    assert pick(layout, (5.0, 5.0)) is None
    assert pick(layout, pixels[1] + [20, 0]) is None
    # Galaxies 0 and 3 are a fraction of a pixel apart on screen: the nearer is picked.
    assert np.abs(pixels[0] - pixels[3]).max() < 1 and pick(layout, pixels[0]) == 0


def test_a_click_on_a_big_sprite_picks_the_front_one():
    cam = camera_on_x()
    positions = np.array([[10.0, 0, 0], [50.0, 0.3, 0]])
    layout = screen_layout(Galaxies(positions, [4.0, 0.01], np.array([1, 2])), cam, SIZE)
    # Galaxy 1 is exactly under the click, but the sprite of galaxy 0 covers it in front.
    assert pick(layout, cam.project(positions[1], *SIZE)[0]) == 0
    assert pick(layout, (1.0, 1.0)) is None


# --- sizes on the command line ---------------------------------------------------------


def test_sprite_lengths_parse_and_convert():
    assert parse_length("50kpc") == (50.0, "kpc")
    assert parse_length(" 0.1 Mpc/h ") == (0.1, "Mpc/h")
    assert parse_length("2") == (2.0, "")
    for bad in ("", "kpc", "-3kpc", "0", "5 lightyears", "nan", "1e400Mpc"):
        with pytest.raises(ValueError, match="positive length"):
            parse_length(bad)
    h = 0.7
    assert length_in(50.0, "kpc", "Mpc/h", h) == pytest.approx(0.035)
    assert length_in(50.0, "kpc", "Mpc", h) == pytest.approx(0.05)
    assert length_in(0.1, "Mpc/h", "Mpc/h", h) == pytest.approx(0.1)
    assert length_in(0.07, "Mpc/h", "Mpc", h) == pytest.approx(0.1)
    assert length_in(3.0, "", "Mpc", h) == 3.0


# --- thumbnails ---------------------------------------------------------------------------


def test_decode_fits_a_wide_image_centred_and_transparent_round_it():
    wide = Image.new("RGB", (40, 20), RED)
    from io import BytesIO

    data = BytesIO()
    wide.save(data, format="PNG")
    rgba = decode_thumbnail(data.getvalue())
    assert rgba.shape == (SLOT, SLOT, 4) and rgba.dtype == np.uint8
    assert (rgba[: SLOT // 4 - 1, :, 3] == 0).all() and (rgba[-SLOT // 4 + 1 :, :, 3] == 0).all()
    np.testing.assert_array_equal(rgba[SLOT // 2, 2:-2], [[255, 0, 0, 255]] * (SLOT - 4))


def test_the_sky_is_subtracted_at_its_own_level_but_flat_pictures_stay():
    rng = np.random.default_rng(0)
    cutout = np.clip(rng.normal([0.10, 0.12, 0.2], 0.01, (SLOT, SLOT, 3)), 0, 1)  # a bright, blue, noisy sky
    cutout[48:80, 48:80] = 0.8  # the galaxy
    rgba = np.dstack([np.rint(cutout * 255), np.full((SLOT, SLOT), 255)]).astype(np.uint8)
    out = subtract_sky(rgba).astype(int)
    assert out[:40].max() <= 10 and out[:40].mean() < 0.05  # the sky is gone, but for a few noise peaks
    assert (out[50:78, 50:78, 3] == 255).all()
    np.testing.assert_allclose(out[64, 64, :3], (np.array([0.8, 0.8, 0.8]) - [0.10, 0.12, 0.2]) * 255, atol=3)
    red = np.zeros((SLOT, SLOT, 4), dtype=np.uint8)
    red[32:96, :] = (250, 2, 0, 255)  # a flat picture that does not fill the square
    np.testing.assert_array_equal(subtract_sky(red), red)


class FakeStore:
    """Encoded images by id, decoding only when ``gate`` is open, counting reads and threads."""

    def __init__(self, images: dict, gate: threading.Event | None = None) -> None:
        self.images = images
        self.gate = gate
        self.reads: list = []
        self.opened_in: list[str] = []

    @contextmanager
    def open(self):
        self.opened_in.append(threading.current_thread().name)
        yield self

    def image_bytes(self, objid) -> bytes:
        if self.gate is not None:
            assert self.gate.wait(10)
        self.reads.append(objid)
        return self.images[objid]


def test_decoding_happens_off_the_calling_thread_and_does_not_block_it():
    gate = threading.Event()
    store = FakeStore({1: solid_jpeg(RED), 2: solid_jpeg(BLUE)}, gate)
    loader = ThumbnailLoader(store.open, workers=2)
    try:
        start = time.perf_counter()
        loader.request([1, 2])
        assert loader.get(1) is None and not loader.done(1)  # a placeholder until it is ready
        assert time.perf_counter() - start < 0.5
        gate.set()
        loader.wait([1, 2])
        assert loader.get(1)[SLOT // 2, SLOT // 2, :3].tolist() == pytest.approx(RED, abs=3)
        assert loader.get(2)[SLOT // 2, SLOT // 2, 2] > 250
        assert threading.current_thread().name not in store.opened_in and len(store.opened_in) == 2
    finally:
        loader.close()


def test_memory_cap_evicts_the_least_recently_used():
    store = FakeStore({i: solid_jpeg((10 * i, 200, 0)) for i in range(6)})
    loader = ThumbnailLoader(store.open, memory=3 * THUMB_BYTES, workers=1)
    try:
        assert loader.capacity == 3
        for objid in (0, 1, 2):
            loader.request([objid])
            loader.wait([objid])
        assert loader.get(0) is not None  # 0 is now the most recently used; 1 the least
        loader.request([3])
        loader.wait([3])
        assert loader.nbytes == 3 * THUMB_BYTES
        assert loader.get(1) is None and all(loader.get(i) is not None for i in (0, 2, 3))
        # Wanting three at once makes them all recent: decoding 4 evicts 2, not 0 or 3.
        loader.request([4, 0, 3])
        loader.wait([4, 0, 3])
        assert loader.get(2) is None and store.reads.count(0) == 1
        with pytest.raises(ValueError, match="room for 3"):
            loader.wait([0, 1, 2, 3])
    finally:
        loader.close()


def test_only_what_is_still_wanted_gets_decoded():
    gate = threading.Event()
    store = FakeStore({i: solid_jpeg(RED) for i in range(10)}, gate)
    loader = ThumbnailLoader(store.open, workers=1)
    try:
        loader.request(list(range(5)))
        time.sleep(0.05)  # the worker takes 0 and blocks on the gate
        loader.request([9, 8])
        gate.set()
        loader.wait([9, 8])
        assert store.reads == [0, 9, 8]
    finally:
        loader.close()


def test_an_undecodable_image_fails_once_and_stays_a_placeholder():
    store = FakeStore({1: b"\xff\xd8 not a jpeg", 2: solid_jpeg(RED)})
    loader = ThumbnailLoader(store.open, workers=1)
    try:
        loader.request([1, 2])
        loader.wait([1, 2])
        assert loader.get(1) is None and loader.done(1) and "does not decode" in loader.failures[1]
        loader.request([1])
        loader.wait([1])
        assert store.reads.count(1) == 1
    finally:
        loader.close()


@pytest.mark.parametrize("error", [DelvolError("no such file", "gone.db"), RuntimeError("a bug")])
def test_a_crashed_worker_is_reported_not_waited_for(error):
    @contextmanager
    def broken():
        raise error
        yield

    loader = ThumbnailLoader(broken, workers=1)
    loader.request([1])
    with pytest.raises(type(error), match=str(error)):
        loader.wait([1])
    loader.close()


def test_layers_are_kept_while_wanted_and_reused_after():
    images = {objid: np.full((2, 2, 4), ord(objid), dtype=np.uint8) for objid in "abcde"}
    ready = {"a", "b"}
    table = LayerTable(3)
    layers, uploads = table.assign(["a", "b", "c"], lambda o: images[o] if o in ready else None)
    assert layers.tolist() == [0, 1, -1] and [layer for layer, _ in uploads] == [0, 1]
    ready |= {"c", "d"}
    layers, uploads = table.assign(["b", "c", "d"], lambda o: images[o] if o in ready else None)
    assert layers[0] == 1 and sorted(layers[1:].tolist()) == [0, 2]
    assert [image[0, 0, 0] for _, image in uploads] == [images["c"][0, 0, 0], images["d"][0, 0, 0]]
    with pytest.raises(ValueError):
        table.assign(list("abcd"), images.get)
