"""A scene description: what to read, how to tessellate it, how it looks and from where.

:class:`Scene` gathers :class:`~delvol.io.LoadOptions`,
:class:`~delvol.geometry.options.TessellationOptions`,
:class:`~delvol.geometry.options.SurveyOptions`, the look
(:class:`~delvol.scene.settings.RenderSettings`), :class:`CameraOptions`,
:class:`OverlayOptions` and :class:`SpriteOptions`. Each option is declared once, in
these dataclasses, with its default and help; the command line builds its arguments from
them (:mod:`delvol.cli.dataclass_args`) and the Python API takes them as keywords
(:meth:`Scene.from_options`). Nothing here touches OpenGL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.spatial import cKDTree

from delvol.errors import DegenerateInputError, DelvolError
from delvol.geometry import Tessellation
from delvol.geometry.cache import cached_tessellate
from delvol.geometry.options import SurveyOptions, TessellationOptions
from delvol.io import LoadOptions, ObjMesh, PointSet, load_obj, load_points
from delvol.io.galaxy_store import GalaxyStore
from delvol.io.placement import LENGTHS, parse_rotation, size_note, unit_factor
from delvol.io.readers import detect_format
from delvol.io.sky import DEFAULT_COSMOLOGY, get_cosmology
from delvol.io.units import length_in, parse_length
from delvol.memory import available_memory, tessellation_warning
from delvol.options import option, split_options
from delvol.progress import QUIET, StageLog
from delvol.scene.camera import AXIS_VIEWS, Camera
from delvol.scene.settings import RenderSettings
from delvol.scene.sky_views import (
    DEFAULT_WEDGE_WIDTH,
    SKY_VIEWS,
    declinations,
    is_sky,
    observer_camera,
    wedge_camera,
    wedge_selection,
)
from delvol.scene.sprite_layout import Galaxies
from delvol.scene.thumbnails import SLOT, ThumbnailLoader

if TYPE_CHECKING:
    from delvol.blocks.cluster import DaskRunner
    from delvol.blocks.lod import BlockFaces
    from delvol.blocks.render import BlockedScene
    from delvol.blocks.run import PreparedJob

Source = str | os.PathLike | np.ndarray | PointSet | Tessellation
"""What a scene shows: a point file, an (N, 3) array, a point set or a tessellation."""

DEFAULT_SIZE = (1920, 1080)
"""Width and height in pixels of an offscreen picture when none is asked for."""
DEFAULT_ELEVATION = 20.0
"""Degrees above the horizontal of a fitted camera when none is given."""
VIEWS = (*AXIS_VIEWS, *SKY_VIEWS)
"""Every ``view``: the axis views and the sky views."""


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
    view : {"+x", "-x", "+y", "-y", "+z", "-z", "wedge", "observer"}, optional
        Look along an axis from this side; or, for a sky catalogue
        (:mod:`delvol.scene.sky_views`), a declination slice face-on with the observer at
        the apex (``wedge``, the default for sky catalogues unless ``camera``,
        ``distance`` or ``elevation`` is given), or from the observer towards the
        footprint (``observer``).
    wedge_dec : float, optional
        Centre of the wedge's declination slice in degrees (default: the median Dec).
    wedge_width : float
        Declination range of the wedge in degrees.
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
    view: str | None = option(
        "look along an axis from this side; wedge: a declination slice face-on, observer at the apex; "
        "observer: from the origin towards the footprint (default for sky catalogues: wedge)",
        None,
        choices=VIEWS,
    )
    wedge_dec: float | None = option(
        "centre of the wedge's declination slice in degrees (default: median Dec)", None, metavar="DEG"
    )
    wedge_width: float = option("declination range of the wedge in degrees", DEFAULT_WEDGE_WIDTH, metavar="DEG")
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
        if self.view is not None and self.view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {self.view!r}")
        if not (np.isfinite(self.wedge_width) and self.wedge_width > 0):
            raise ValueError(f"wedge_width must be a positive number of degrees, got {self.wedge_width:g}")
        if self.wedge_dec is not None and not -90 <= self.wedge_dec <= 90:
            raise ValueError(f"wedge_dec must be a declination in degrees, got {self.wedge_dec:g}")
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

    def view_for(self, points: PointSet | None) -> str | None:
        """The view of ``points``: as given, else the wedge for a sky catalogue with no camera option.

        Raises
        ------
        DelvolError
            A sky view of points that are not a sky catalogue.
        """
        sky = points is not None and is_sky(points)
        if self.view in SKY_VIEWS and not sky:
            raise DelvolError(f"--view {self.view} needs a sky catalogue (RA, Dec, redshift)")
        chosen = self.view is not None or self.camera is not None or self.distance is not None
        if sky and not chosen and self.elevation is None:
            return "wedge"
        return self.view

    def fit(self, tess: Tessellation, aspect: float, points: PointSet | None = None) -> Camera:
        """A camera framing the tessellation's points in a view of width/height ``aspect``.

        ``points`` (the point set read) tells whether the data is a sky catalogue, whose
        default view is the wedge (:meth:`view_for`).
        """
        return self.fit_box(*tess.bounds, aspect, tess.points[: tess.n_primary], self.view_for(points))

    def fit_box(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        aspect: float,
        data: np.ndarray | None = None,
        view: str | None = None,
    ) -> Camera:
        """A camera framing ``data`` (else the box ``[lower, upper]``) in ``view`` (default :attr:`view`).

        The sky views need the points, and are refused without ``data``.
        """
        view = self.view if view is None else view
        cam = Camera(projection="orthographic" if self.ortho else "perspective")
        cam.set_state({"fov_y": self.fov, "up": self.up})
        if view in SKY_VIEWS and data is None:
            raise DelvolError(f"--view {view} needs the points")
        if view == "wedge" and data is not None:
            try:
                inside = wedge_selection(data, self.wedge_dec, self.wedge_width)
            except ValueError as exc:
                raise DelvolError(f"--view wedge: {exc}") from None
            wedge_camera(cam, data[inside], lower, upper, aspect)
        elif view == "observer" and data is not None:
            observer_camera(cam, data, lower, upper, aspect)
        else:
            elevation = DEFAULT_ELEVATION if self.elevation is None else self.elevation
            cam.fit(lower, upper, aspect, self.azimuth, elevation, self.distance, view, data)
        focus = cam.focus
        cam.ortho_height /= self.zoom
        if view == "observer":
            # The observer stays at the origin: zoom narrows the field of view.
            cam.fov_y = float(np.degrees(2 * np.arctan(np.tan(np.radians(cam.fov_y) / 2) / self.zoom)))
        else:
            cam.focus_distance /= self.zoom
            cam.position = focus - cam.focus_distance * cam.forward
        state = self.state()
        if state is not None:
            cam.set_state(state)
        return cam

    def hidden(self, tess: Tessellation, points: PointSet | None = None) -> np.ndarray | None:
        """Vertices whose faces the view leaves out: those outside the wedge's slice (else None)."""
        if self.view_for(points) != "wedge":
            return None
        primary = tess.points[: tess.n_primary]
        centre = float(np.median(declinations(primary))) if self.wedge_dec is None else self.wedge_dec
        return ~wedge_selection(tess.points, centre, self.wedge_width)


def rotation_text(text: str) -> str:
    """Check an overlay rotation such as ``90,0,0`` (``--obj-rotate``); it is kept as written."""
    parse_rotation(text)
    return text


@dataclass
class OverlayOptions:
    """Wavefront .obj meshes drawn over the volume (survey masks, simulation boxes).

    Attributes
    ----------
    obj : list of path
        The files (one path is taken as a list of one).
    obj_rotate : str, optional
        Rotate the overlays first: Euler angles ``"RX,RY,RZ"`` in degrees about the fixed
        x, then y, then z axes, or an axis and an angle ``"AX,AY,AZ@DEG"``
        (:func:`delvol.io.placement.parse_rotation`) ...
    obj_units : {"kpc", "kpc/h", "Mpc", "Mpc/h"}, optional
        ... then convert from this length unit to the data's, with the cosmology's h ...
    obj_scale : float
        ... then multiply the overlay coordinates (a unit change) ...
    obj_offset : (float, float, float)
        ... then add this offset.
    obj_style : {"wire", "surface"}
    """

    obj: list[str | os.PathLike] = option(
        "draw a Wavefront .obj (repeatable)", default_factory=list, action="append", metavar="FILE"
    )
    obj_rotate: str | None = option(
        "rotate overlays first: Euler angles in degrees about the fixed x, then y, then z axes "
        "(90,0,0 stands a y-up model upright), or an axis and an angle",
        None,
        parse=rotation_text,
        metavar="RX,RY,RZ|AX,AY,AZ@DEG",
    )
    obj_units: str | None = option(
        "the overlays' length unit, converted to the data's with the cosmology's h (then --obj-scale)",
        None,
        choices=tuple(LENGTHS),
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
        if self.obj_rotate is not None:
            parse_rotation(self.obj_rotate)
        if self.obj_units is not None and self.obj_units not in LENGTHS:
            raise ValueError(f"obj_units must be one of {', '.join(LENGTHS)}, got {self.obj_units!r}")

    def meshes(self, metadata: Mapping[str, Any] | None = None) -> list[ObjMesh]:
        """Every overlay, read and placed in the space of points with this ``metadata``.

        Raises
        ------
        DelvolError
            An unreadable overlay, or ``obj_units`` for data of unknown length units.
        """
        scale = self.obj_scale
        if self.obj_units is not None:
            meta = metadata or {}
            h = float(meta.get("h", get_cosmology(meta.get("cosmology") or DEFAULT_COSMOLOGY).h))
            scale *= unit_factor(self.obj_units, meta.get("units"), h)
        rotation = None if self.obj_rotate is None else parse_rotation(self.obj_rotate)
        return [load_obj(path, scale, self.obj_offset, rotation) for path in self.obj]

    @staticmethod
    def size_notes(meshes: list[ObjMesh], tess: Tessellation) -> list[str]:
        """A note for each overlay far smaller or larger than the data (most likely in other units)."""
        lower, upper = tess.bounds
        size = float(np.linalg.norm(upper - lower))
        notes = (
            size_note(mesh.path.name, float(np.linalg.norm(np.ptp(mesh.vertices, axis=0))), size) for mesh in meshes
        )
        return [note for note in notes if note]


AUTO_SPRITE_SIZE = 0.5
"""Default sprite side, in median nearest-neighbour distances of the galaxies with images:
large enough to see the nearest pictures in a fitted view of any store, without overlaps."""


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
        of the positions); else default :data:`AUTO_SPRITE_SIZE` of the median distance
        between neighbouring galaxies with images.
    sprite_placeholders : bool
        Give galaxies without an image a sprite too, a faint ring (default: only galaxies
        with an image).
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
        f"(default: {AUTO_SPRITE_SIZE:g} of the median distance between neighbouring galaxies with images; "
        "with --sprite-size-column, what one unit of the column is: default 1, in --units)",
        None,
        parse=sprite_length,
        metavar="LENGTH",
    )
    sprite_placeholders: bool = option(
        "give galaxies without an image a sprite too, a faint ring (default: only galaxies with an image)",
        False,
        action="store_true",
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
        """The loaded galaxies with their sprite sizes in the units of their positions.

        Galaxies without an image get size 0 (no sprite) unless :attr:`sprite_placeholders`.
        """
        if points.ids is None:
            raise DelvolError("galaxy sprites need the galaxies' ids", store.path)
        pictured = np.isin(points.ids, store.image_objids())
        if self.sprite_size is None and not self.sprite_size_column:
            shown = points.positions[pictured] if pictured.any() else points.positions
            length = AUTO_SPRITE_SIZE * _neighbour_distance(shown)
        else:
            value, unit = parse_length(self.sprite_size or "1")
            h = get_cosmology(points.metadata["cosmology"]).h
            length = length_in(value, unit, points.metadata["units"], h)
        sizes = np.full(len(points), length)
        if self.sprite_size_column:
            column = store.column(self.sprite_size_column)
            if column.dtype.kind not in "fi":
                raise DelvolError(f"column {self.sprite_size_column!r} is not numeric", store.path)
            row = {objid: i for i, objid in enumerate(store.objids().tolist())}
            sizes = column[[row[objid] for objid in points.ids.tolist()]] * length
        if not self.sprite_placeholders:
            sizes = np.where(pictured, sizes, 0.0)
        return Galaxies(points.positions, sizes, points.ids)

    def loader(self, path: str | os.PathLike) -> ThumbnailLoader:
        """A thumbnail loader whose worker threads each read the store at ``path``."""
        return ThumbnailLoader(
            lambda: GalaxyStore(path), memory=self.sprite_memory * 2**20, workers=min(4, os.cpu_count() or 1)
        )


def _neighbour_distance(positions: np.ndarray) -> float:
    """The median distance from a point to its nearest neighbour (1 for a single point)."""
    if len(positions) < 2:
        return 1.0
    d, _ = cKDTree(positions).query(positions, k=2)
    distance = float(np.median(d[:, 1]))
    return distance if distance > 0 else 1.0


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
    survey : SurveyOptions
        A sky catalogue's survey volume and its buffer points (ignored for a Tessellation).
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
    survey: SurveyOptions = field(default_factory=SurveyOptions)

    def __post_init__(self) -> None:
        options = self.tessellation
        if options.blocks is None and self.block_folder is None:
            for name in ("workers", "scheduler"):
                if getattr(options, name) is not None:
                    raise ValueError(f"{name} needs blocks (or a block folder, whose blocks it draws)")

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

    @property
    def block_folder(self) -> Path | None:
        """The source when it is a block folder (``delvol tessellate FILE --blocks N -o DIR/``)."""
        from delvol.blocks.store import is_block_folder

        path = self.path
        return path if path is not None and is_block_folder(path) else None

    def check(self) -> None:
        """Refuse what can be refused before reading (sprites for a file that is no store)."""
        self.sprites.check_source(self.source, self.load.format)

    def _folder_points(self, folder: Path) -> PointSet:
        """The points of a block folder, refusing the options that apply only while building or reading a file."""
        from delvol.blocks.store import folder_points

        self.check_folder_options()
        return folder_points(folder)

    def check_folder_options(self) -> None:
        """Refuse, for a block folder, every option that acts while reading a file or building (one line).

        Raises
        ------
        DelvolError
            Naming the folder and the options given.
        """
        from dataclasses import fields

        # Dask workers draw a folder's blocks; every other reading or building option has been applied.
        given: list[tuple[Any, Any, tuple[str, ...]]] = [
            (self.load, LoadOptions(), ()),
            (self.tessellation, TessellationOptions(), ("workers", "scheduler", "cache")),
            (self.survey, SurveyOptions(), ()),
        ]
        used = [
            f"--{f.name.replace('_', '-')}"
            for part, default, allowed in given
            for f in fields(part)
            if f.name not in allowed and getattr(part, f.name) != getattr(default, f.name)
        ]
        used += ["--color-by"] * (self.look.color_by is not None)
        if used:
            raise DelvolError(
                f"{', '.join(used)}: a block folder holds its points and densities as they were built "
                "(give these when tessellating it)",
                self.path,
            )

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
                folder = self.block_folder
                return load_points(source, self.load_options()) if folder is None else self._folder_points(folder)
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
        folder = self.block_folder
        if folder is not None:
            return points, self._assemble_folder(folder, log)
        options = self.tessellation
        periodic = options.box_size(points.metadata, self.path)
        if options.blocks is not None:
            from delvol.blocks import tessellate_blocks

            if self.survey.mask is not None:
                raise DelvolError("--mask is not available with --blocks (buffer points need the whole survey at once)")

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
        if self.survey.mask is not None and periodic is not None:
            raise DelvolError("--mask and --periodic exclude each other")
        with log.stage("survey buffer") if self.survey.mask is not None else nullcontext():
            points, buffer = self.survey.select(points, self.load.seed, self.path)
        positions, masses = points.positions, points.masses
        if len(buffer):
            # Buffer points go after the galaxies, massless (see Tessellation.buffer).
            positions = np.concatenate([positions, buffer])
            masses = None if masses is None else np.concatenate([masses, np.zeros(len(buffer))])
        with self.input_errors():
            tess = cached_tessellate(
                positions,
                masses,
                use_cache=self.tessellation.cache,
                log=log,
                periodic=periodic,
                padding=self.tessellation.padding,
                engine=self.tessellation.engine,
                **({"n_buffer": len(buffer)} if len(buffer) else {}),
            )
        return points, tess

    def read_view(self, face_budget: int, log: StageLog = QUIET) -> tuple[PointSet, Tessellation | BlockFaces]:
        """What the viewer shows: the points and their tessellation, or every block's faces apart.

        A block folder (``delvol tessellate FILE --blocks N -o DIR/``) or a scene built in
        blocks is assembled, as :meth:`read` assembles it, when its faces fit
        ``face_budget``; otherwise each block's faces are kept on their own
        (:class:`~delvol.blocks.lod.BlockFaces`) for a viewer that draws far blocks coarser.
        """
        from delvol.blocks.store import is_block_folder

        if self.path is not None and is_block_folder(self.path):
            return self._read_block_folder(face_budget, log)
        if self.tessellation.blocks is None:
            return self.read(log)
        from delvol.blocks.assemble import PointArrays, assemble
        from delvol.blocks.build import build_block
        from delvol.blocks.lod import BlockFaces
        from delvol.blocks.run import build_info

        with self.block_job(log) as (points, runner, (job, pts, masses, lower)), log.stage("blocks"):
            results = []
            for r in runner.map(build_block, job, list(range(job.layout.n_blocks))):
                results.append(r)
                if sum(len(x.faces) for x in results) > face_budget:
                    for x in results:  # a coarser view draws faces only
                        x.tetrahedra, x.tet_volume = x.tetrahedra[:0], x.tet_volume[:0]
            info = build_info(job, results)
        box_size = job.layout.box_size
        if info["blocks"]["n_faces"] <= face_budget:
            with log.stage("assemble"):
                return points, assemble(results, pts, masses, box_size=box_size, box_lower=lower, info=info)
        per_point = PointArrays(len(pts))
        for r in results:
            per_point.add(r)
        return points, BlockFaces.from_results(results, pts, per_point.density, per_point.hull, box_size, lower)

    def _read_block_folder(self, face_budget: int, log: StageLog) -> tuple[PointSet, Tessellation | BlockFaces]:
        """:meth:`read_view` of a block folder."""
        from delvol.blocks.lod import read_block_faces

        folder = self.block_folder
        assert folder is not None, "a block folder"
        if self.tessellation.workers is not None or self.tessellation.scheduler is not None:
            raise DelvolError("--workers/--scheduler: the viewer draws a block folder on this machine", folder)
        points = self.read_points(log)
        if self.folder_assembles(face_budget):
            return points, self._assemble_folder(folder, log)
        with log.stage("read blocks"):
            return points, read_block_faces(folder)

    def folder_assembles(self, face_budget: int) -> bool:
        """Whether the source, a block folder, has at most ``face_budget`` faces and fits in memory assembled."""
        from delvol.blocks.store import read_index

        assert self.block_folder is not None, "a block folder"
        blocks = read_index(self.block_folder)["blocks"]
        fits = _assembly_bytes(blocks) <= available_memory()
        return fits and sum(entry["n_faces"] for entry in blocks) <= face_budget

    def _assemble_folder(self, folder: Path, log: StageLog) -> Tessellation:
        """Every block of a folder assembled into one tessellation, if memory allows."""
        from delvol.blocks.store import load_blocks, read_index
        from delvol.memory import require_memory

        blocks = read_index(folder)["blocks"]
        what = f"assembling {len(blocks)} blocks (render and view draw a large folder block by block)"
        require_memory(_assembly_bytes(blocks), what, folder)
        with log.stage("assemble blocks"):
            return load_blocks(folder)

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


def _assembly_bytes(blocks: list[dict[str, Any]]) -> int:
    """Memory that assembling a block folder's index entries takes, about."""
    n_tets = sum(entry["n_tetrahedra"] for entry in blocks)
    # Tetrahedra and their neighbours (int32 x 4 each), volumes, faces, and the per-point arrays.
    n_points = sum(entry["n_core"] for entry in blocks)
    return n_tets * (16 + 16 + 8) + sum(entry["n_faces"] for entry in blocks) * 12 + n_points * 64


SCENE_PARTS: dict[str, type] = {
    "load": LoadOptions,
    "tessellation": TessellationOptions,
    "look": RenderSettings,
    "camera": CameraOptions,
    "overlays": OverlayOptions,
    "sprites": SpriteOptions,
    "survey": SurveyOptions,
}
"""The option dataclasses of a :class:`Scene` by attribute: every scene keyword is a field of one."""
