"""Stage timing messages and the elapsed-time ticker of long stages."""

from __future__ import annotations

import io
import re
import threading
import time

import numpy as np
import pytest

from delvol.geometry.engines import ENGINES
from delvol.progress import StageLog

TICK = re.compile(r"^delvol: slow \.\.\. \d+ s$")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_stage_records_time_and_prints_nothing(capsys):
    threads = threading.active_count()
    log = StageLog(verbose=False, tick_seconds=0.01)
    with log.stage("slow"):
        time.sleep(0.05)
    assert log.timings["slow"] >= 0.05
    assert capsys.readouterr().err == ""
    assert threading.active_count() == threads


def test_long_stage_ticks_in_a_log(capsys):
    log = StageLog(verbose=True, tick_seconds=0.05)
    with log.stage("slow"):
        time.sleep(0.4)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "delvol: slow ..."
    assert re.fullmatch(r"delvol: slow done in \d+\.\d\d s", lines[-1])
    assert len(lines) >= 5 and all(TICK.match(line) for line in lines[1:-1])


def test_short_stage_does_not_tick_or_wait(capsys):
    log = StageLog(verbose=True, tick_seconds=60.0)
    start = time.perf_counter()
    with log.stage("quick"):
        pass
    assert time.perf_counter() - start < 1.0  # stopping the ticker does not wait out its interval
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "delvol: quick ..." and re.fullmatch(r"delvol: quick done in \d+\.\d\d s", lines[1])
    assert len(lines) == 2


def test_terminal_shows_a_status_line_only_for_stages_over_a_second(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    log = StageLog()  # verbose because stderr is a terminal
    with log.stage("quick"):
        time.sleep(0.3)
    assert terminal.getvalue() == ""
    with log.stage("slow"):
        time.sleep(1.5)
    out = terminal.getvalue()
    assert "\rdelvol: slow [00:01]" in out and "quick" not in out
    assert re.search(r"\rdelvol: slow done in \d+\.\d\d s\n$", out) and out.count("\n") == 1  # one line, redrawn


def test_ticker_stops_when_the_stage_fails(capsys):
    threads = threading.active_count()
    log = StageLog(verbose=True, tick_seconds=0.01)
    with pytest.raises(ValueError, match="boom"), log.stage("failing"):
        time.sleep(0.05)
        raise ValueError("boom")
    assert threading.active_count() == threads
    assert "failing" in log.timings
    assert capsys.readouterr().err.splitlines()[-1].startswith("delvol: failing done in")


@pytest.mark.parametrize("engine", ["scipy", "shull", "gmsh"])
def test_ticks_during_every_engine(capsys, engine):
    """The engines release the GIL, so the ticker keeps time through a tessellation."""
    if not ENGINES[engine].available():
        pytest.skip(f"{engine} is not installed")
    points = np.random.default_rng(0).random((60_000 if engine == "scipy" else 200_000, 3))
    log = StageLog(verbose=True, tick_seconds=0.05)
    with log.stage("slow"):
        ENGINES[engine].triangulate(points)
    ticks = sum(bool(TICK.match(line)) for line in capsys.readouterr().err.splitlines())
    # Not every interval: the engines hold the GIL while they copy their output into arrays.
    assert ticks >= max(3, 0.5 * log.timings["slow"] / 0.05)
