"""A scene description: what to read, how to tessellate it, how it looks and from where.

:class:`Scene` gathers :class:`~delvol.io.LoadOptions`,
:class:`~delvol.geometry.options.TessellationOptions`, the look
(:class:`~delvol.scene.settings.RenderSettings`), :class:`CameraOptions`,
:class:`OverlayOptions` and :class:`SpriteOptions`. Each option is declared once, in
these dataclasses, with its default and help; the command line builds its arguments from
them (:mod:`delvol.cli.dataclass_args`) and the Python API takes them as keywords
(:meth:`Scene.from_options`). Nothing here touches OpenGL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from delvol.errors import DegenerateInputError, DelvolError
from delvol.geometry import Tessellation
from delvol.geometry.cache import cached_tessellate
from delvol.geometry.options import TessellationOptions
from delvol.io import LoadOptions, ObjMesh, PointSet, load_obj, load_points
from delvol.io.galaxy_store import GalaxyStore
from delvol.io.readers import detect_format
from delvol.io.sky import get_cosmology
from delvol.io.units import length_in, parse_length
from delvol.memory import available_memory, tessellation_warning
from delvol.options import option, split_options
from delvol.progress import QUIET, StageLog
from delvol.scene.camera import AXIS_VIEWS, Camera
from delvol.scene.settings import RenderSettings
from delvol.scene.sprite_layout import Galaxies
from delvol.scene.thumbnails import SLOT, ThumbnailLoader

if TYPE_CHECKING:
    from delvol.blocks.cluster import DaskRunner
    from delvol.blocks.render import BlockedScene
    from delvol.blocks.run import PreparedJob

Source = str | os.PathLike | np.ndarray | PointSet | Tessellation
"""What a scene shows: a point file, an (N, 3) array, a point set or a tessellation."""

DEFAULT_SIZE = (1920, 1080)
"""Width and height in pixels of an offscreen picture when none is asked for."""
DEFAULT_ELEVATION = 20.0
"""Degrees above the horizontal of a fitted camera when none is given."""


def _vector(values: Any) -> tuple[float, float, float]:
    x, y, z = (float(v) for v in values)
    return x, y, z


@dataclass
class CameraOptions:
    """Where the camera starts: fitted to the data bounds, or a saved state.

    Attributes
    ----------
    camera : path, dict or Camera, optional
        A camera state (a JSON file saved by the viewer, a :meth:`Camera.get_state` dict
        or a camera); it overrides the fitted view key by key.
    azimuth, elevation : float
        Viewing direction in degrees about the up axis and above the horizontal
        (elevation None: :data:`DEFAULT_ELEVATION`, or the camera's for an orbit movie).
    distance : float, optional
        From the data centre; default: just enough to see the data.
    view : {"+x", "-x", "+y", "-y", "+z", "-z"}, optional
        Look along an axis from this side.
    zoom : float
        Magnify the fitted view by this factor.
    ortho : bool
        Orthographic projection.
    fov : float
        Vertical field of view in degrees.
    up : (float, float, float)
        World up direction.
    """

    camera: str | os.PathLike | dict | Camera | None = option(
        "camera state saved by the viewer", None, metavar="STATE.json"
    )
    azimuth: float = option("degrees about the up axis", 30.0)
    elevation: float | None = option(
        f"degrees above the horizontal (default {DEFAULT_ELEVATION:g}; fly --orbit: the camera's)", None
    )
    distance: float | None = option("from the data centre (default: fit the data)", None)
    view: str | None = option("look along an axis from this side, fitting the bounds", None, choices=AXIS_VIEWS)
    zoom: float = option("magnify the fitted view by this factor", 1.0)
    ortho: bool = option("orthographic projection", False, action="store_true")
    fov: float = option("vertical field of view in degrees", 45.0)
    up: tuple[float, float, float] = option(
        "world up direction", (0.0, 0.0, 1.0), parse=float, nargs=3, metavar=("X", "Y", "Z"), convert=_vector
    )

    def __post_init__(self) -> None:
        if not (np.isfinite(self.zoom) and self.zoom > 0):
            raise ValueError(f"zoom must be a positive number, got {self.zoom:g}")
        if self.distance is not None and not (np.isfinite(self.distance) and self.distance > 0):
            raise ValueError(f"distance must be a positive number, got {self.distance:g}")
        if self.view is not None and self.view not in AXIS_VIEWS:
            raise ValueError(f"view must be one of {', '.join(AXIS_VIEWS)}, got {self.view!r}")
        try:
            Camera().set_state({"fov_y": self.fov, "up": self.up})
        except ValueError as exc:
            raise ValueError(str(exc).replace("camera fov_y", "fov").replace("camera up", "up")) from None
        if self.camera is not None:
            self.state()  # a bad state fails now, before any reading

    def state(self) -> dict[str, Any] | None:
        """The saved camera state, read and checked; None when there is none.

        Raises
        ------
        DelvolError
            An unreadable file or one that is not a camera state.
        """
        if self.camera is None:
            return None
        if isinstance(self.camera, Camera):
            return self.camera.get_state()
        if isinstance(self.camera, dict):
            state, where = self.camera, None
        else:
            where = self.camera
            try:
                state = json.loads(Path(self.camera).read_text(encoding="utf-8"))
            except OSError as exc:
                raise DelvolError(exc.strerror or str(exc), where) from exc
            except ValueError as exc:
                raise DelvolError(f"not a camera state ({exc})", where) from exc
        try:
            if not isinstance(state, dict):
                raise TypeError(f"expected a JSON object, got a {type(state).__name__}")
            Camera().set_state(state)
        except (ValueError, TypeError, AttributeError) as exc:
            raise DelvolError(f"not a camera state ({exc})", where) from exc
        return state

    def fit(self, lower: np.ndarray, upper: np.ndarray, aspect: float) -> Camera:
        """A camera framing the box ``[lower, upper]`` in a view of width/height ``aspect``."""
        cam = Camera(projection="orthographic" if self.ortho else "perspective")
        cam.set_state({"fov_y": self.fov, "up": self.up})
        elevation = DEFAULT_ELEVATION if self.elevation is None else self.elevation
        cam.fit(lower, upper, aspect, self.azimuth, elevation, self.distance, self.view)
        focus = cam.focus
        cam.ortho_height /= self.zoom
        cam.focus_distance /= self.zoom
        cam.position = focus - cam.focus_distance * cam.forward
        state = self.state()
        if state is not None:
            cam.set_state(state)
        return cam


@dataclass
class OverlayOptions:
    """Wavefront .obj meshes drawn over the volume (survey masks, simulation boxes).

    Attributes
    ----------
    obj : list of path
        The files (one path is taken as a list of one).
    obj_scale : float
        Multiply the overlay coordinates (a unit change) ...
    obj_offset : (float, float, float)
        ... then add this offset.
    obj_style : {"wire", "surface"}
    """

    obj: list[str | os.PathLike] = option(
        "draw a Wavefront .obj (repeatable)", default_factory=list, action="append", metavar="FILE"
    )
    obj_scale: float = option("multiply overlay coordinates (unit change)", 1.0)
    obj_offset: tuple[float, float, float] = option(
        "then add this offset", (0.0, 0.0, 0.0), parse=float, nargs=3, metavar=("X", "Y", "Z"), convert=_vector
    )
    obj_style: str = option("overlay style", "wire", choices=("wire", "surface"))

    def __post_init__(self) -> None:
        if isinstance(self.obj, (str, os.PathLike)):
            self.obj = [self.obj]
        if self.obj_style not in ("wire", "surface"):
            raise ValueError(f"obj_style must be wire or surface, got {self.obj_style!r}")

    def meshes(self) -> list[ObjMesh]:
        """Every overlay, read and placed."""
        return [load_obj(path, self.obj_scale, self.obj_offset) for path in self.obj]


DEFAULT_SPRITE_SIZE = "100kpc"  # a cutout frames its galaxy with a margin: about twice a large disc


def sprite_length(text: str) -> str:
    """Check a sprite size such as ``50kpc`` (``--sprite-size``); it is kept as written."""
    parse_length(text)
    return text


def positive_int(text: str) -> int:
    """Parse a count or a size in MB that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"expected a positive integer, got {text!r}")
    return value


@dataclass
class SpriteOptions:
    """Galaxy sprites: each galaxy's thumbnail from a galaxy store, drawn at its position.

    Sizes are comoving lengths, in the space of the galaxy positions: a length in kpc or
    Mpc is converted to the positions' units (``metadata["units"]``) with the h of the
    cosmology they were computed in (``metadata["cosmology"]``); a bare number is already
    in those units.

    Attributes
    ----------
    sprites : bool
        Draw the thumbnails (the source must be a galaxy store).
    sprite_size : str, optional
        Side of a thumbnail such as ``"50kpc"``, ``"0.05Mpc"`` or ``"0.1Mpc/h"``; with
        :attr:`sprite_size_column`, what one unit of the column is (default 1, in the units
        of the positions); else default :data:`DEFAULT_SPRITE_SIZE`.
    sprite_size_column : str, optional
        Catalogue column holding each galaxy's thumbnail side.
    sprite_count : int
        Draw the galaxies that are largest on screen, this many.
    sprite_memory : int
        Megabytes for decoded thumbnails.
    """

    sprites: bool = option(
        "draw each galaxy's thumbnail at its position, facing the camera", False, action="store_true"
    )
    sprite_size: str | None = option(
        "comoving side of a thumbnail, for example 50kpc, 0.05Mpc or 0.1Mpc/h; a bare number is in --units "
        f"(default {DEFAULT_SPRITE_SIZE}; with --sprite-size-column, what one unit of the column is: default 1, "
        "in --units)",
        None,
        parse=sprite_length,
        metavar="LENGTH",
    )
    sprite_size_column: str | None = option(
        "catalogue column holding each galaxy's thumbnail side", None, metavar="COL"
    )
    sprite_count: int = option("draw the K galaxies that are largest on screen", 200, parse=positive_int, metavar="K")
    sprite_memory: int = option(
        f"most memory for decoded {SLOT}x{SLOT} thumbnails, in MB", 256, parse=positive_int, metavar="MB"
    )

    def __post_init__(self) -> None:
        if self.sprite_size is not None:
            self.sprite_size = sprite_length(str(self.sprite_size))
        for name in ("sprite_count", "sprite_memory"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def check_source(self, source: Source, format: str | None) -> None:
        """Refuse sprites for a source that is not a galaxy store, before any reading.

        A path that does not exist is left for the point loader to report.
        """
        if not self.sprites:
            return
        if not isinstance(source, (str, os.PathLike)):
            raise DelvolError("--sprites needs a galaxy store file (see `delvol store ingest`)")
        path = Path(source)
        if not path.is_file():
            return
        found = format or detect_format(path)
        if found != "store":
            raise DelvolError(f"--sprites needs a galaxy store (see `delvol store ingest`), not a {found} file", path)

    def galaxies(self, points: PointSet, store: GalaxyStore) -> Galaxies:
        """The loaded galaxies with their sprite sizes in the units of their positions."""
        default = "1" if self.sprite_size_column else DEFAULT_SPRITE_SIZE
        value, unit = parse_length(self.sprite_size or default)
        h = get_cosmology(points.metadata["cosmology"]).h
        length = length_in(value, unit, points.metadata["units"], h)
        if points.ids is None:
            raise DelvolError("galaxy sprites need the galaxies' ids", store.path)
        if not self.sprite_size_column:
            return Galaxies(points.positions, np.full(len(points), length), points.ids)
        column = store.column(self.sprite_size_column)
        if column.dtype.kind not in "fi":
            raise DelvolError(f"column {self.sprite_size_column!r} is not numeric", store.path)
        row = {objid: i for i, objid in enumerate(store.objids().tolist())}
        values = column[[row[objid] for objid in points.ids.tolist()]]
        return Galaxies(points.positions, values * length, points.ids)

    def loader(self, path: str | os.PathLike) -> ThumbnailLoader:
        """A thumbnail loader whose worker threads each read the store at ``path``."""
        return ThumbnailLoader(
            lambda: GalaxyStore(path), memory=self.sprite_memory * 2**20, workers=min(4, os.cpu_count() or 1)
        )


@dataclass
class Scene:
    """Everything that makes a picture of a point set, except its size.

    Attributes
    ----------
    source : path, ndarray (N, 3), PointSet or Tessellation
    load : LoadOptions
        How a file is read (ignored for other sources).
    tessellation : TessellationOptions
        Periodicity and the cache (ignored for a Tessellation).
    look : RenderSettings
    camera : CameraOptions
    overlays : OverlayOptions
    sprites : SpriteOptions
    """

    source: Source
    load: LoadOptions = field(default_factory=LoadOptions)
    tessellation: TessellationOptions = field(default_factory=TessellationOptions)
    look: RenderSettings = field(default_factory=RenderSettings)
    camera: CameraOptions = field(default_factory=CameraOptions)
    overlays: OverlayOptions = field(default_factory=OverlayOptions)
    sprites: SpriteOptions = field(default_factory=SpriteOptions)

    @classmethod
    def from_options(cls, source: Source, **options: Any) -> Scene:
        """A scene from keyword options, each the name of a field of one of the parts.

        For example ``Scene.from_options("sim.npy", periodic=100.0, colormap="viridis",
        view="+z", ortho=True)``.

        Raises
        ------
        TypeError
            An option that no part has.
        ValueError
            A value that a part refuses.
        """
        shares = split_options(list(SCENE_PARTS.values()), options)
        parts = {name: make(**share) for (name, make), share in zip(SCENE_PARTS.items(), shares, strict=True)}
        return cls(source, **parts)

    @property
    def path(self) -> Path | None:
        """The source file, when the source is one."""
        return Path(self.source) if isinstance(self.source, (str, os.PathLike)) else None

    def check(self) -> None:
        """Refuse what can be refused before reading (sprites for a file that is no store)."""
        self.sprites.check_source(self.source, self.load.format)

    def load_options(self) -> LoadOptions:
        """How to read a file: :attr:`load`, also reading the field the look is coloured by."""
        spec = self.look.color_by
        if spec is None or spec.name in self.load.fields:
            return self.load
        return replace(self.load, fields=(*self.load.fields, spec.name))

    def read_points(self, log: StageLog = QUIET) -> PointSet:
        """The points of the source (with the fields asked for), read when it is a file."""
        source = self.source
        if isinstance(source, Tessellation):
            n = source.n_primary
            return PointSet(source.points[:n], source.masses[:n])
        if isinstance(source, PointSet):
            return source
        if isinstance(source, (str, os.PathLike)):
            with log.stage("read"):
                return load_points(source, self.load_options())
        return PointSet(np.asarray(source))

    def read(self, log: StageLog = QUIET) -> tuple[PointSet, Tessellation]:
        """The points (with the fields asked for) and their tessellation (through the cache unless switched off).

        With ``tessellation.blocks`` the tessellation is built in blocks on Dask
        (:mod:`delvol.blocks`) and assembled: the same arrays as a single run.

        Raises
        ------
        DelvolError
            Unreadable input, or points that cannot be tessellated.
        """
        if isinstance(self.source, Tessellation):
            return self.read_points(log), self.source
        points = self.read_points(log)
        options = self.tessellation
        periodic = options.box_size(points.metadata, self.path)
        if options.blocks is not None:
            from delvol.blocks import tessellate_blocks

            with self.dask_blocks(points, log) as (runner, n_blocks):
                tess = tessellate_blocks(
                    points.positions,
                    points.masses,
                    blocks=n_blocks,
                    periodic=periodic,
                    padding=options.padding,
                    engine=options.engine,
                    runner=runner,
                    log=log,
                )
            return points, tess
        warning = tessellation_warning(len(points), periodic is not None, available_memory())
        if warning:
            log.warn(warning)
        with self.input_errors():
            tess = cached_tessellate(
                points.positions,
                points.masses,
                use_cache=options.cache,
                log=log,
                periodic=periodic,
                padding=options.padding,
                engine=options.engine,
            )
        return points, tess

    @contextmanager
    def input_errors(self) -> Iterator[None]:
        """Re-raise the geometry layer's DegenerateInputError as a DelvolError naming the source file."""
        try:
            yield
        except DegenerateInputError as exc:
            raise DelvolError(str(exc), self.path) from exc

    @contextmanager
    def dask_blocks(self, points: PointSet, log: StageLog = QUIET) -> Iterator[tuple[DaskRunner, int]]:
        """The Dask runner that ``tessellation.workers`` or ``.scheduler`` ask for, and the block count.

        The cluster (a LocalCluster unless a scheduler address is given) is closed afterwards.
        """
        from delvol.blocks.cluster import block_count, dask_runner

        options = self.tessellation
        if options.blocks is None:
            raise ValueError("dask_blocks needs tessellation.blocks")
        with dask_runner(options.workers, options.scheduler, verbose=log.verbose) as runner, self.input_errors():
            yield runner, block_count(options.blocks, len(points), runner)

    @contextmanager
    def block_job(self, log: StageLog = QUIET) -> Iterator[tuple[PointSet, DaskRunner, PreparedJob]]:
        """The points, a Dask runner and a job folder with the points partitioned into blocks.

        For callers that run the blocks their own way (a block folder, a summary). The
        cluster and the folder go away afterwards.
        """
        from delvol.blocks.run import prepared_job

        points = self.read_points(log)
        options = self.tessellation
        build: dict[str, Any] = {
            "periodic": options.box_size(points.metadata, self.path),
            "padding": options.padding,
            "engine": options.engine,
        }
        with self.dask_blocks(points, log) as (runner, n_blocks):
            with prepared_job(points.positions, points.masses, n_blocks, log=log, **build) as prepared:
                yield points, runner, prepared

    @contextmanager
    def built_blocks(self, log: StageLog = QUIET) -> Iterator[tuple[PointSet, BlockedScene]]:
        """The points, built in blocks on Dask and kept on the workers to render or sample.

        Nothing is assembled: see :class:`~delvol.blocks.render.BlockedScene`.
        """
        from delvol.blocks.render import blocked_scene

        with self.block_job(log) as (points, runner, prepared), blocked_scene(runner, prepared, log) as blocked:
            yield points, blocked


SCENE_PARTS: dict[str, type] = {
    "load": LoadOptions,
    "tessellation": TessellationOptions,
    "look": RenderSettings,
    "camera": CameraOptions,
    "overlays": OverlayOptions,
    "sprites": SpriteOptions,
}
"""The option dataclasses of a :class:`Scene` by attribute: every scene keyword is a field of one."""
