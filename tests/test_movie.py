"""Writing frames as H.264 movies and PNG sequences: decodable, atomic, deterministic."""

from __future__ import annotations

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from delvol.errors import DelvolError
from delvol.io.movie import movie_format, write_movie


def gradient_frames(n: int = 12, width: int = 64, height: int = 48):
    """A smooth gradient sliding right by two pixels a frame."""
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    for i in range(n):
        red = 128 + 100 * np.sin((x - 2 * i) / width * 2 * np.pi)
        yield np.stack([red, 255 * y / height, np.full_like(red, 64.0)], axis=-1).astype(np.uint8)


def failing_frames(error: type[BaseException], after: int = 5):
    yield from gradient_frames(after)
    raise error("stopped")


def test_mp4_decodes_with_the_frame_count_size_and_rate(tmp_path):
    out = tmp_path / "movie.mp4"
    assert write_movie(gradient_frames(), out, fps=24, n_frames=12) == 12
    reader = imageio.get_reader(out)
    try:
        meta = reader.get_meta_data()
        assert meta["fps"] == pytest.approx(24) and meta["size"] == (64, 48) and meta["codec"] == "h264"
        assert meta["pix_fmt"].startswith("yuv420p")
        decoded = list(reader.iter_data())
    finally:
        reader.close()
    assert len(decoded) == 12
    for got, sent in zip(decoded, gradient_frames(), strict=True):
        assert got.shape == (48, 64, 3)
        assert np.abs(got.astype(float) - sent).mean() < 3  # crf 18 on a smooth gradient
    assert [p.name for p in tmp_path.iterdir()] == ["movie.mp4"]


def test_odd_sizes_gain_a_repeated_edge(tmp_path):
    out = tmp_path / "odd.mov"
    write_movie(list(gradient_frames(3, width=63, height=47)), out, fps=30)
    reader = imageio.get_reader(out)
    try:
        assert reader.get_meta_data()["size"] == (64, 48) and reader.count_frames() == 3
    finally:
        reader.close()


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_mp4_leaves_no_file_and_no_temporary(tmp_path, error):
    out = tmp_path / "movie.mp4"
    with pytest.raises(error):
        write_movie(failing_frames(error), out, fps=24)
    assert list(tmp_path.iterdir()) == []
    out.write_bytes(b"an earlier movie")
    with pytest.raises(error):
        write_movie(failing_frames(error), out, fps=24)
    assert out.read_bytes() == b"an earlier movie" and list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        ([], "no frames"),
        ([np.zeros((8, 8, 3))], "uint8"),
        ([np.zeros((8, 8, 4), np.uint8)], "shape"),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 10, 3), np.uint8)], "first frame"),
    ],
)
@pytest.mark.parametrize("name", ["movie.mp4", "frames/%03d.png"])
def test_bad_frames_are_rejected_without_a_movie(tmp_path, frames, problem, name):
    with pytest.raises(ValueError, match=problem):
        write_movie(frames, tmp_path / name, fps=24)
    assert not (tmp_path / "movie.mp4").exists()
    assert not any(p.suffix == ".mp4" or p.name.startswith(".") for p in tmp_path.rglob("*"))


def test_png_sequence_is_lossless_and_byte_identical_across_runs(tmp_path):
    frames = list(gradient_frames(4))
    for run in ("a", "b"):
        assert write_movie(iter(frames), tmp_path / run / "%05d.png", fps=24) == 4
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["00000.png", "00001.png", "00002.png", "00003.png"]
    for name, frame in zip(names, frames, strict=True):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a" / name)), frame)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("movie.avi", "unknown movie format"),
        ("frames.png", "unknown movie format"),
        ("frames/%05d.jpg", "PNG sequence"),
        ("frames/100%.png", "PNG sequence"),
        ("frames/%d_%d.png", "PNG sequence"),
    ],
)
def test_unknown_outputs_get_one_line_error_naming_them(tmp_path, name, problem):
    with pytest.raises(DelvolError, match=problem) as info:
        movie_format(tmp_path / name)
    assert str(info.value).startswith(f"{tmp_path / name}: ") and "\n" not in str(info.value)
    with pytest.raises(DelvolError):
        write_movie(gradient_frames(1), tmp_path / name, fps=24)
    assert list(tmp_path.iterdir()) == []


def test_bad_rate_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="fps"):
        write_movie(gradient_frames(1), tmp_path / "m.mp4", fps=0)
    with pytest.raises(ValueError, match="crf"):
        write_movie(gradient_frames(1), tmp_path / "m.mp4", fps=24, crf=60)


def test_ffmpeg_failure_is_reported_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr("delvol.io.movie._ENCODE", ["-c:v", "no-such-encoder"])
    with pytest.raises(DelvolError, match="ffmpeg failed") as info:
        write_movie(gradient_frames(3), tmp_path / "movie.mp4", fps=24)
    assert "\n" not in str(info.value) and "no-such-encoder" in str(info.value)
    assert list(tmp_path.iterdir()) == []
