"""filtered_stderr drops known lines that C code writes to fd 2 and passes the rest through."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from delvol.stderr_filter import filtered_stderr

DROP = (b"/!\\ Warning : skipping supposedly duplicate point (",)
NOISE = b"/!\\ Warning : skipping supposedly duplicate point (0.1 0.2 0.3)\n"


def fd2_identity() -> tuple[int, int]:
    status = os.fstat(2)
    return status.st_dev, status.st_ino


def test_drops_the_given_lines_and_passes_the_rest_unchanged(capfd):
    with filtered_stderr(DROP) as pump:
        os.write(2, NOISE + b"Error : a real one\n" + NOISE)
        os.write(2, NOISE[:9])  # a line to drop, split across writes
        os.write(2, NOISE[9:] + b"\rbar 50%")  # a progress bar's redraw: no newline
        os.write(2, b"\rbar 100%\n/!\\ Warning : something else\nno newline at the end")
    assert pump is not None and pump.dropped == 3
    err = capfd.readouterr().err
    assert err == "Error : a real one\n\rbar 50%\rbar 100%\n/!\\ Warning : something else\nno newline at the end"


def test_more_output_than_a_pipe_holds_does_not_block(capfd):
    lines = [b"line %d\n" % i for i in range(100_000)]  # ~1 MB, 16 times a Linux pipe's buffer
    with filtered_stderr(DROP) as pump:
        for start in range(0, len(lines), 1000):
            os.write(2, b"".join(line for k in range(start, start + 1000) for line in (lines[k], NOISE)))
    assert pump is not None and pump.dropped == len(lines)
    assert capfd.readouterr().err.encode() == b"".join(lines)


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_fd2_comes_back_after_an_exception(capfd, error):
    before = fd2_identity()
    with pytest.raises(error), filtered_stderr(DROP):
        assert fd2_identity() != before
        os.write(2, b"written before the error\n" + NOISE)
        raise error
    assert fd2_identity() == before
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "written before the error\nafter\n"


def test_held_lines_go_to_the_caller_or_out_when_the_block_raises(capfd):
    with filtered_stderr(DROP, hold=[b"= X = Error : "]) as pump:
        os.write(2, b"= X = Error : all vertices are coplanar   \nkept\n")
    assert pump is not None and pump.held == [b"= X = Error : all vertices are coplanar   "]
    assert capfd.readouterr().err == "kept\n"
    with pytest.raises(RuntimeError), filtered_stderr(DROP, hold=[b"= X = Error : "]):
        os.write(2, b"= X = Error : lost otherwise\n")
        raise RuntimeError
    assert capfd.readouterr().err == "= X = Error : lost otherwise\n"


SCRIPT = """
import os, sys, threading
from delvol.stderr_filter import filtered_stderr

print("before", file=sys.stderr)
with filtered_stderr([b"drop me"]) as pump:
    os.write(2, b"drop me: C says so\\n")
    # What Python writes meanwhile, from another thread as the progress ticker does, passes.
    thread = threading.Thread(target=lambda: print("delvol: Delaunay (gmsh) ... 5 s", file=sys.stderr))
    thread.start()
    thread.join()
    os.write(2, b"Error : kept\\n")
print("after", pump.dropped, file=sys.stderr)
"""


def test_a_real_stderr_and_pythons_own_writes():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "before\ndelvol: Delaunay (gmsh) ... 5 s\nError : kept\nafter 1\n"


def test_without_an_open_fd2_the_block_runs_unfiltered():
    script = textwrap.dedent("""
        import os
        from delvol.stderr_filter import filtered_stderr
        os.close(2)
        with filtered_stderr([b"x"]) as pump:
            print("ran", pump)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "ran None\n"
