"""Galaxy sprites rendered through EGL: offscreen renders, the viewer's picking, bad input."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest
from conftest import SAMPLE, shared_file
from galaxy_store import BLACK, BLUE, GREEN, RED, ROW, build_store, observer_camera, patch_store, solid_jpeg, split_jpeg
from PIL import Image

from delvol.app.picking import GalaxyPicker
from delvol.app.viewer import Viewer
from delvol.cli import main
from delvol.geometry import tessellate
from delvol.gl.passes import FloatTarget
from delvol.gl.renderer import Renderer
from delvol.io import load_points
from delvol.io.galaxy_store.database import GalaxyStore
from delvol.io.sky import get_cosmology
from delvol.scene.sprite_layout import Galaxies, screen_layout
from delvol.scene.thumbnails import ThumbnailLoader

pytestmark = pytest.mark.gl
SIZE = (320, 200)
YELLOW, CYAN = (255, 255, 0), (0, 255, 255)
COLOURED = {1: RED, 2: GREEN, 3: BLUE}  # and galaxy 4 yellow over cyan; all four in the front row
H = get_cosmology("Planck18").h


@pytest.fixture
def store(tmp_path):
    """60 galaxies: three in solid colours, one yellow over cyan, the rest black (sky only)."""
    images = {objid: solid_jpeg(colour) for objid, colour in COLOURED.items()}
    images[4] = split_jpeg(YELLOW, CYAN)
    images.update({objid: solid_jpeg(BLACK) for objid in range(10, 66)})
    return patch_store(tmp_path / "store", images)


def render(capsys, tmp_path, db, *options, size=SIZE) -> tuple[np.ndarray, str]:
    out = tmp_path / "sprites.png"
    code = main(["render", str(db), "-o", str(out), "--size", f"{size[0]}x{size[1]}", *map(str, options)])
    err = capsys.readouterr().err
    assert code == 0, err
    with Image.open(out) as im:
        return np.asarray(im).astype(int), err


@pytest.mark.parametrize("projection", ["perspective", "orthographic"])
def test_render_puts_each_thumbnail_at_its_galaxy(store, tmp_path, capsys, projection):
    cam, state = observer_camera(tmp_path, store, SIZE, projection)
    image, err = render(capsys, tmp_path, store, "--sprites", "--sprite-size", "2Mpc", "--camera", state)
    assert "placeholders" not in err
    with GalaxyStore(store) as s:
        positions, objids = s.positions(), s.objids()
    pixels = cam.project(positions, *SIZE)
    for objid, colour in COLOURED.items():
        x, y = pixels[objids == objid][0]
        np.testing.assert_allclose(image[int(y), int(x)], colour, atol=12, err_msg=f"galaxy {objid}")
    # The split thumbnail is drawn upright: yellow above its centre, cyan below.
    centre = positions[objids == 4][0]
    quarter = cam.camera_up * 0.5 * H  # a quarter of the 2 Mpc side, in Mpc/h
    (xa, ya), (xb, yb) = cam.project(np.array([centre + quarter, centre - quarter]), *SIZE)
    assert yb - ya > 8
    np.testing.assert_allclose(image[int(ya), int(xa)], YELLOW, atol=12)
    np.testing.assert_allclose(image[int(yb), int(xb)], CYAN, atol=12)
    # The black thumbnails fade out: off the coloured sprites, the frame is as without sprites.
    plain, _ = render(capsys, tmp_path, store, "--camera", state)
    layout = screen_layout(Galaxies(positions, 2 * H, objids), cam, SIZE)
    off = np.ones(SIZE[::-1], dtype=bool)
    front = np.isin(objids[layout.indices], ROW)
    for (x, y), r in zip(layout.centres[front], layout.radii[front], strict=True):
        off[max(0, int(y - r) - 2) : int(y + r) + 3, max(0, int(x - r) - 2) : int(x + r) + 3] = False
    assert off.mean() > 0.8 and np.abs(image - plain)[off].max() <= 8


def test_fly_towards_the_galaxies_grows_their_thumbnails_the_same_every_run(store, tmp_path, capsys):
    with GalaxyStore(store) as s:
        positions = s.positions()
    centre = (positions.min(axis=0) + positions.max(axis=0)) / 2
    dolly = [*(0.4 * centre), *(0.75 * centre)]  # towards the coloured row, stopping short of it
    for run in ("a", "b"):
        args = ["fly", store, "-o", tmp_path / run / "%02d.png", "--fps", "4", "--duration", "1", "--size", "160x100"]
        args += ["--dolly", *dolly, "--sprites", "--sprite-size", "2Mpc", "--sprite-count", "3"]
        assert main([str(a) for a in args]) == 0, capsys.readouterr().err
    frames = sorted((tmp_path / "a").glob("*.png"))
    assert len(frames) == 4
    assert all(f.read_bytes() == (tmp_path / "b" / f.name).read_bytes() for f in frames)
    coloured = []
    for f in frames:
        rgb = np.asarray(Image.open(f)).astype(int)
        coloured.append(int(((rgb.max(axis=-1) > 200) & (rgb.min(axis=-1) < 60)).sum()))
    assert coloured[0] > 0 and np.all(np.diff(coloured) > 0), coloured


@pytest.mark.real_data
def test_real_cutouts_render_as_sprites(tmp_path, capsys):
    files = sorted(shared_file("galaxy_jpg/102474.jpg").parent.glob("*.jpg"))
    db = build_store(tmp_path / "real", {int(f.stem): f.read_bytes() for f in files})
    _, state = observer_camera(tmp_path, db, SIZE)
    options = ("--camera", state, "--supersample", 2)
    image, err = render(capsys, tmp_path, db, "--sprites", "--sprite-size", "2.5Mpc", *options, size=(640, 400))
    Image.fromarray(image.astype(np.uint8)).save(tmp_path.parent / "real_cutouts_sprites.png")
    assert "placeholders" not in err
    plain, _ = render(capsys, tmp_path, db, *options, size=(640, 400))
    changed = np.abs(image - plain).max(axis=-1) > 16
    assert 0.02 < changed.mean() < 0.5  # the cutouts show, and their sky lets the volume through


def test_sprites_need_a_galaxy_store(tmp_path, capsys):
    for command in (["render", SAMPLE, "-o", tmp_path / "x.png"], ["fly", SAMPLE, "-o", tmp_path / "f.mp4"]):
        code = main([str(a) for a in [*command, "--sprites"]])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert err[0].startswith("delvol: error: ") and "--sprites needs a galaxy store" in err[0] and "npy" in err[0]
    assert not (tmp_path / "x.png").exists()


def test_bad_sprite_options_are_one_line_errors(store, tmp_path, capsys):
    base = ["render", str(store), "-o", str(tmp_path / "x.png"), "--size", "64x40", "--sprites"]
    for extra, fragment in (
        (["--sprite-size-column", "nope"], "no column 'nope'"),
        (["--sprite-count", "100", "--sprite-memory", "1"], "--sprite-count 100"),
    ):
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and fragment in err[0], err


def test_size_column_and_a_corrupt_thumbnail(tmp_path, capsys):
    images = {objid: solid_jpeg(RED) for objid in range(1, 41)}
    sizes = [2.0 if objid == 7 else 0.001 for objid in images]
    db = build_store(tmp_path / "s", images, extra={"side_mpc": sizes})
    with sqlite3.connect(db) as conn:  # as a damaged file would hold it: ingest refuses bad images
        conn.execute("UPDATE images SET img = ? WHERE objid = 7", (b"\xff\xd8\xff\xe0 truncated",))
    conn.close()
    with GalaxyStore(db) as s:
        positions, objids = s.positions(), s.objids()
    cam, state = observer_camera(tmp_path, db, SIZE)
    options = ("--sprites", "--sprite-size-column", "side_mpc", "--sprite-size", "1Mpc/h", "--camera", state)
    image, err = render(capsys, tmp_path, db, *options, "--no-faces")
    assert "sprites: 1 thumbnail drawn as placeholders (galaxy 7: image does not decode" in err
    x, y = cam.project(positions[objids == 7], *SIZE)[0]
    radius = 1.0 * cam.pixels_per_unit(cam.view_coordinates(positions[objids == 7])[2], SIZE[1])[0]
    # The placeholder: a faint grey disc with a brighter rim, where a red square would have been.
    centre = image[int(y), int(x)]
    rim = image[int(y), int(x + 0.85 * radius)]
    assert np.ptp(centre) <= 4 and np.ptp(rim) <= 4 and 3 <= centre[0] < rim[0] < 100


@pytest.fixture
def picking_viewer(ctx, store, tmp_path):
    points = load_points(store)
    renderer = Renderer(ctx)
    renderer.set_tessellation(tessellate(points.positions))
    renderer.set_sprites(Galaxies(points.positions, H, points.ids), ThumbnailLoader(lambda: GalaxyStore(store)), 64)
    cam, _ = observer_camera(tmp_path, store, SIZE)
    lines = []
    with GalaxyStore(store) as s:
        viewer = Viewer(renderer, cam, len(points), echo=lines.append, picker=GalaxyPicker(s, "Mpc/h"))
        viewer.lines = lines
        viewer.target = FloatTarget(ctx, SIZE)
        yield viewer
    viewer.target.release()
    renderer.release()


def test_viewer_loads_thumbnails_in_the_background_then_picks_with_a_click(picking_viewer, ctx):
    v = picking_viewer
    v.frame(v.target.fbo, 0.0)
    deadline = time.time() + 30
    while v.renderer.sprites.n_pending and time.time() < deadline:
        time.sleep(0.02)
        v.frame(v.target.fbo, 0.0)
    assert v.renderer.sprites.n_pending == 0 and v.renderer.sprites.n_drawn == 60
    positions, objids = v.renderer.sprites.galaxies.positions, v.renderer.sprites.galaxies.objids
    x, y = v.camera.project(positions[objids == 2], *SIZE)[0]
    np.testing.assert_allclose(v.target.read(3)[int(y), int(x)], np.array(GREEN) / 255, atol=0.05)
    v.mouse_press()
    v.drag(1, 1)  # a twitch of the hand: still a click
    x, y = v.camera.project(positions[objids == 2], *SIZE)[0]
    v.mouse_release(x + 2, y)
    assert v.lines[-1].startswith("galaxy 2 at (")
    row = dict(line.split() for line in v.lines[-1].splitlines()[1:])
    assert row.keys() == {"objid", "ra", "dec", "redshift"} and row["objid"] == "2"
    v.frame(v.target.fbo, 0.0)
    inset = v.renderer.inset.rect(SIZE)
    shown = v.target.read(3)[(inset[1] + inset[3]) // 2, (inset[0] + inset[2]) // 2]
    np.testing.assert_allclose(shown, np.array(GREEN) / 255, atol=0.05)
    # A drag is not a click; a click on empty sky hides the picture.
    n_lines = len(v.lines)
    v.mouse_press()
    v.drag(30, 0)
    v.mouse_release(2, 2)
    assert len(v.lines) == n_lines and v.renderer.inset.texture is not None
    v.mouse_press()
    v.mouse_release(2, 2)
    assert v.lines[-1] == "no galaxy there" and v.renderer.inset.texture is None


def test_viewer_keys_toggle_sprites_and_pick_at_the_centre(picking_viewer):
    v = picking_viewer
    v.frame(v.target.fbo, 0.0)
    v.key("6", True)
    assert not v.settings.show_sprites and v.lines[-1] == "galaxy sprites: off"
    v.key("i", True)
    assert v.lines[-1] == "no galaxy there" or v.lines[-1].startswith("galaxy ")
    v.key("h", True)
    assert "galaxy thumbnails" in v.lines[-1] and "click" in v.lines[-1]


def test_only_galaxies_with_images_get_sprites_by_default(tmp_path):
    from delvol.io import load_points
    from delvol.scene.description import SpriteOptions

    images = {objid: solid_jpeg(RED) for objid in range(1, 11)}
    db = build_store(tmp_path / "s", images)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM images WHERE objid > 5")
    conn.close()
    points = load_points(db)
    with GalaxyStore(db) as s:
        galaxies = SpriteOptions().galaxies(points, s)
        pictured = np.isin(points.ids, [1, 2, 3, 4, 5])
        assert (galaxies.sizes[pictured] > 0).all() and (galaxies.sizes[~pictured] == 0).all()
        # The automatic size is half the median distance between neighbouring pictured galaxies.
        from scipy.spatial import cKDTree

        d = cKDTree(points.positions[pictured]).query(points.positions[pictured], k=2)[0][:, 1]
        assert galaxies.sizes[pictured][0] == pytest.approx(0.5 * np.median(d))
        assert (SpriteOptions(sprite_placeholders=True).galaxies(points, s).sizes > 0).all()
