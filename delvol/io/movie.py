"""Rendered frames to an H.264 movie or a numbered PNG sequence; no GL here.

Movies go through the ffmpeg that imageio-ffmpeg bundles, into a temporary file beside the
output that replaces it only once ffmpeg has finished cleanly, so an interrupted or failed
run never leaves a truncated movie behind. PNG frames are written one by one, each
atomically; they carry no timestamp or other metadata, so two runs give the same bytes.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sized
from fractions import Fraction
from pathlib import Path

import numpy as np

from delvol.atomic import atomic_path
from delvol.errors import DelvolError
from delvol.progress import QUIET, StageLog

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")
CRF = 18
"""x264 constant rate factor: 18 looks visually lossless; each +6 about halves the size."""

# yuv420p is what every player decodes. ffmpeg converts RGB with the BT.601 matrix unless
# told otherwise, while players assume BT.709 for HD sizes: convert with BT.709 and say so
# (setparams: the encoder's own colour options are overridden by the filtered frames').
_FILTERS = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
_ENCODE = ["-an", "-c:v", "libx264", "-preset", "medium", "-vf", _FILTERS, "-movflags", "+faststart"]


def movie_format(output: str | os.PathLike) -> str:
    """``"video"`` or ``"png"``: what :func:`write_movie` writes to ``output``.

    A name with a printf field for the frame number, such as ``frames/%05d.png``, is a PNG
    sequence; a name ending ``.mp4``, ``.m4v`` or ``.mov`` an H.264 movie. Check the output
    with this before a long render.

    Raises
    ------
    DelvolError
        Naming ``output``, for any other name.
    """
    name = os.fspath(output)
    if "%" not in name:
        if Path(name).suffix.lower() in VIDEO_SUFFIXES:
            return "video"
        raise DelvolError(
            f"unknown movie format: name it {', '.join(VIDEO_SUFFIXES)}, or a PNG sequence like frames/%05d.png",
            output,
        )
    try:
        distinct = name % 0 != name % 1
    except (TypeError, ValueError):
        distinct = False
    if not distinct or not name.lower().endswith(".png"):
        raise DelvolError("a PNG sequence needs one frame-number field and a .png end, like frames/%05d.png", output)
    return "png"


def _checked(frame: np.ndarray, index: int, shape: tuple[int, ...] | None) -> np.ndarray:
    """``frame`` as a C-contiguous (H, W, 3) uint8 array of the first frame's shape."""
    image = np.asarray(frame)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or min(image.shape) < 1:
        raise ValueError(f"frame {index} must be an (H, W, 3) uint8 image, got {image.dtype} of shape {image.shape}")
    if shape is not None and image.shape != shape:
        raise ValueError(f"frame {index} has shape {image.shape} but the first frame {shape}")
    return np.ascontiguousarray(image)


def _write_video(frames: Iterator[np.ndarray], output: Path, fps: Fraction, crf: int) -> int:
    from imageio_ffmpeg import get_ffmpeg_exe

    first = next(frames, None)
    if first is None:
        raise ValueError("no frames to write")
    shape = _checked(first, 0, None).shape
    height, width = shape[0], shape[1]
    # yuv420p stores colour at half resolution, so x264 needs even sizes: an odd size is
    # made even by repeating the last column or row, rather than rescaling every pixel.
    padding = ((0, height % 2), (0, width % 2), (0, 0))
    size = f"{width + width % 2}x{height + height % 2}"
    source = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", size, "-r", str(fps), "-i", "pipe:0"]
    count = 0
    with atomic_path(output) as tmp, tempfile.TemporaryFile() as log:
        command = [get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *source, *_ENCODE]
        command += ["-crf", str(crf), os.fspath(tmp)]
        # A session of its own keeps Ctrl-C from killing ffmpeg before the cleanup below.
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=log, start_new_session=True)
        stdin = process.stdin
        assert stdin is not None  # stdin=PIPE
        try:
            try:
                for frame in itertools.chain([first], frames):
                    stdin.write(np.pad(_checked(frame, count, shape), padding, mode="edge").tobytes())
                    count += 1
                stdin.close()
            except BrokenPipeError:
                pass  # ffmpeg quit early; its exit status and message say why
            status = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        if status != 0:
            log.seek(0)
            message = " ".join(log.read().decode(errors="replace").split())[-300:]
            raise DelvolError(f"ffmpeg failed with status {status}: {message}", output)
    return count


def _write_pngs(frames: Iterator[np.ndarray], pattern: str) -> int:
    from PIL import Image

    shape = None
    count = 0
    for frame in frames:
        image = _checked(frame, count, shape)
        shape = image.shape
        with atomic_path(pattern % count) as tmp:
            Image.fromarray(image).save(tmp, format="PNG")
        count += 1
    if count == 0:
        raise ValueError("no frames to write")
    return count


def write_movie(
    frames: Iterable[np.ndarray],
    output: str | os.PathLike,
    fps: float,
    n_frames: int | None = None,
    log: StageLog = QUIET,
    crf: int = CRF,
) -> int:
    """Write ``frames`` as an H.264 movie or a PNG sequence, by the name of ``output``.

    Parameters
    ----------
    frames : iterable of ndarray, shape (H, W, 3), uint8
        RGB frames, top row first, all the same size; a generator is consumed as the
        frames are written, so they need not all fit in memory.
    output : str or os.PathLike
        ``movie.mp4`` (or ``.m4v``, ``.mov``): H.264 in yuv420p, for any player; an odd
        width or height gains one repeated column or row. ``frames/%05d.png``: one PNG per
        frame, numbered from 0. Folders are created as needed.
    fps : float
        Frames per second of the movie (not used for PNG sequences).
    n_frames : int, optional
        How many frames to expect, for the progress bar's ETA when ``frames`` has no length.
    log : StageLog, optional
        Shows a progress bar when verbose.
    crf : int, optional
        x264 constant rate factor, 0 (lossless) to 51; see :data:`CRF`.

    Returns
    -------
    int
        The number of frames written.

    Raises
    ------
    DelvolError
        Naming ``output``, for an unknown output format or when ffmpeg fails.
    ValueError
        For no frames, a frame that is not an (H, W, 3) uint8 image or differs in size
        from the first, or a bad ``fps`` or ``crf``.

    Notes
    -----
    Whatever stops the writing (an exception from ``frames``, KeyboardInterrupt) leaves
    no movie and no temporary file; a PNG sequence keeps the whole frames written so far.
    """
    kind = movie_format(output)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be from 0 to 51, got {crf!r}")
    if isinstance(frames, Sized):
        n_frames = len(frames)
    bar = iter(log.bar(frames, desc=f"writing {Path(output).name}", total=n_frames, unit="frame"))
    if kind == "png":
        return _write_pngs(bar, os.fspath(output))
    return _write_video(bar, Path(output), Fraction(fps).limit_denominator(), int(crf))
