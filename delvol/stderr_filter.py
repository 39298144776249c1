"""Drop known, benign lines that C libraries write straight to the process's stderr.

Some compiled libraries print to file descriptor 2 from C, past Python's ``sys.stderr`` and
past every option they offer: gmsh's HXT kernel writes ``/!\\ Warning : skipping supposedly
duplicate point (...)`` for each exact duplicate whatever ``General.Terminal`` and
``General.Verbosity`` say. delvol finds and reports duplicates itself (``n_duplicates``), and
a successful command must leave nothing unexpected on stderr, so :func:`filtered_stderr`
points fd 2 at a pipe for the length of such a call. A thread reads the pipe, drops the lines
that start with one of the given prefixes, and passes everything else through to the real
stderr at once and byte for byte: the library's real errors, and what Python itself writes
meanwhile (the progress ticker prints from its own thread while the engine runs). Lines
that start with a ``hold`` prefix are kept back for the caller instead, who can fold a
library's error message into its own one-line error rather than print two lines.

A pipe and a reader rather than a temporary file: the output still appears as it is written
(a minute-long tessellation's progress ticks), and no amount of it can fill a pipe that
nobody drains and block the writer.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

_STDERR = 2
_READ_SIZE = 1 << 16
# fd 2 belongs to the whole process: two threads redirecting it at once would each restore the
# other's pipe. Re-entrant, because a nested redirection by the same thread unwinds in order.
_LOCK = threading.RLock()
# After fd 2 is restored, the pipe ends once every copy of its write end is closed; a child
# process started inside the block may keep one open, and its output then keeps flowing through
# the (daemon) reader, but the block does not wait for it longer than this.
_DRAIN_SECONDS = 1.0


class StderrFilter:
    """Copy the pipe to the real stderr, a line at a time, leaving out the lines dropped or held."""

    def __init__(self, read_fd: int, out_fd: int, drop: Sequence[bytes], hold: Sequence[bytes]) -> None:
        self.dropped = 0
        self.held: list[bytes] = []
        self._read_fd = read_fd
        self._out_fd = out_fd
        self._drop = tuple(drop)
        self._hold = tuple(hold)
        self._prefixes = self._drop + self._hold
        self._writable = True
        self.thread = threading.Thread(target=self._run, name="delvol stderr filter", daemon=True)

    def _run(self) -> None:
        try:
            pending = b""
            while chunk := os.read(self._read_fd, _READ_SIZE):
                *lines, pending = (pending + chunk).split(b"\n")
                kept = [line + b"\n" for line in lines if not self._keeps_back(line)]
                # A partial line goes out now (a progress bar redraws with "\r" and no newline)
                # unless it is, or may still become, one to drop or hold.
                if pending and not self._may_keep_back(pending):
                    kept.append(pending)
                    pending = b""
                self._write(b"".join(kept))
            if pending and not self._keeps_back(pending):
                self._write(pending)
        finally:
            os.close(self._read_fd)
            os.close(self._out_fd)

    def _keeps_back(self, line: bytes) -> bool:
        """Whether ``line`` is dropped or held (and counted so) rather than written."""
        if line.startswith(self._drop):
            self.dropped += 1
            return True
        if line.startswith(self._hold):
            self.held.append(line)
            return True
        return False

    def _may_keep_back(self, partial: bytes) -> bool:
        return any(partial.startswith(prefix) or prefix.startswith(partial) for prefix in self._prefixes)

    def emit_held(self) -> None:
        """Write the held lines to stderr after all, for a caller that has no better use for them."""
        data = b"".join(line + b"\n" for line in self.held)
        self.held = []
        try:
            while data:
                data = data[os.write(_STDERR, data) :]
        except OSError:  # no stderr left to tell, and this may run while an exception unwinds
            pass

    def _write(self, data: bytes) -> None:
        # Once the real stderr fails (a closed pipe), keep reading and discard: a reader that
        # stopped would leave the writer blocked on a full pipe.
        while data and self._writable:
            try:
                data = data[os.write(self._out_fd, data) :]
            except OSError:
                self._writable = False


def _flush_python_stderr() -> None:
    # Python's own buffered output belongs on whichever fd 2 it was written under.
    for stream in (sys.stderr, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # closed, or a broken pipe: nothing to keep in order
            pass


@contextmanager
def filtered_stderr(drop: Sequence[bytes], hold: Sequence[bytes] = ()) -> Iterator[StderrFilter | None]:
    """Within the block, drop the lines written to fd 2 that start with one of ``drop``.

    Parameters
    ----------
    drop : sequence of bytes
        The starts of the lines to drop, exactly as the library writes them. Every line that
        is neither dropped nor held reaches the real stderr unchanged and without waiting for
        the end of its line.
    hold : sequence of bytes
        The starts of the lines to keep back in ``held`` (without their newline) for the
        caller to use or :meth:`~StderrFilter.emit_held`. Should the block raise, they are
        written to stderr when it ends, since nobody else will.

    Yields
    ------
    StderrFilter or None
        Its ``dropped`` attribute counts the lines dropped and ``held`` lists the lines held,
        once the block has ended; None when fd 2 is not open (a daemon, ``pythonw``), where
        there is nothing to filter and the block runs as it is.

    Notes
    -----
    fd 2 is restored when the block ends, by an exception or ``KeyboardInterrupt`` too, and
    what was written in the block has reached the real stderr by then. This filters the file
    descriptor, which is where C writes, whatever ``sys.stderr`` is meanwhile (pytest's
    ``capsys``, a Jupyter kernel's stream): Python's own writes pass through the pipe only
    when ``sys.stderr`` writes to fd 2, and pass through unchanged.
    """
    with _LOCK:
        try:
            os.fstat(_STDERR)
        except OSError:
            yield None
            return
        _flush_python_stderr()
        read_fd, write_fd = os.pipe()
        saved = os.dup(_STDERR)
        pump = StderrFilter(read_fd, os.dup(saved), drop, hold)
        pump.thread.start()
        try:
            os.dup2(write_fd, _STDERR)
        finally:
            os.close(write_fd)  # fd 2 is the pipe's only write end now: restoring it ends the pipe
        completed = False
        try:
            yield pump
            completed = True
        finally:
            _flush_python_stderr()
            os.dup2(saved, _STDERR)
            os.close(saved)
            pump.thread.join(_DRAIN_SECONDS)
            if not completed:
                pump.emit_held()
