"""Process plumbing for the commands: streams that survive a vanished reader, and signals.

A reader that goes away (``nnscratch train | head``) or a stream closed from the start
(``2>&-``) must not abort training or lose a run; SIGTERM and SIGHUP interrupt a command as
Ctrl-C does, except while a run is being saved, when they wait for the save to finish.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from .._signals import StopSignals


def log(message: str) -> None:
    """A line on stderr: progress, warnings and errors (results go to stdout)."""
    print(message, file=sys.stderr)


class TolerantStreams:
    """Make stdout and stderr safe to write to while a command runs.

    A reader that goes away (``nnscratch train | head``) or a stream closed from the start
    (``2>&-``) must not abort training or lose a run: a write that fails sends that stream
    to /dev/null from then on (its file descriptor too, so the interpreter's last flush is
    quiet), and the command carries on.
    """

    def __enter__(self) -> TolerantStreams:
        self.saved = sys.stdout, sys.stderr
        sys.stdout = TolerantStream(sys.stdout)  # type: ignore[assignment]
        sys.stderr = TolerantStream(sys.stderr)  # type: ignore[assignment]
        return self

    def __exit__(self, *exc_info: object) -> None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = self.saved

class TolerantStream:
    """A text stream that turns a broken pipe or closed file into silence."""

    def __init__(self, stream: TextIO | None):
        self.stream = stream

    def write(self, text: str) -> int:
        if self.stream is not None:
            try:
                return self.stream.write(text)
            except (OSError, ValueError):
                self._silence()
        return len(text)

    def flush(self) -> None:
        if self.stream is not None:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                self._silence()

    def isatty(self) -> bool:
        try:
            return self.stream is not None and self.stream.isatty()
        except (OSError, ValueError):
            return False

    def _silence(self) -> None:
        try:
            descriptor = self.stream.fileno()  # type: ignore[union-attr]
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, descriptor)
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        self.stream = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)

class SignalsInterrupt(StopSignals):
    """Outside training and saving, SIGTERM and SIGHUP interrupt a command as Ctrl-C does
    (KeyboardInterrupt), so it cleans up and exits with 128 + the signal's number."""

    def _receive(self, signum: int, frame: object) -> None:
        self.signal_number = signum  # recorded before handle raises
        self.handle(signum)

    def handle(self, signum: int) -> None:
        raise KeyboardInterrupt

class DeferSignals(StopSignals):
    """Hold SIGINT, SIGTERM and SIGHUP while a run is saved: the save completes, and
    ``signal_number`` tells the caller which signal arrived, to exit with 128 + it."""

    def handle(self, signum: int) -> None:
        if self.signal_number is None:
            log("saving the run first; it stops when the save is done")
