"""The signals that ask a program to stop (Ctrl-C's SIGINT, SIGTERM, SIGHUP), caught for a while.

``StopSignals`` is the base of every such catcher: inside its ``with`` block each of those
signals goes to its ``handle`` method (a subclass says what to do), ``signal_number`` records
the last one, and the previous handlers come back on exit. Only the main thread can set signal
handlers; elsewhere it catches nothing.
"""

from __future__ import annotations

import signal
import threading
from typing import Any, TypeVar

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))
Catcher = TypeVar("Catcher", bound="StopSignals")


class StopSignals:
    """Catch SIGINT, SIGTERM and SIGHUP inside a ``with`` block; subclasses implement handle."""

    def __enter__(self: Catcher) -> Catcher:
        self.signal_number: int | None = None
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self.previous[number] = signal.getsignal(number)
                signal.signal(number, self._receive)
        return self

    def _receive(self, signum: int, frame: Any) -> None:
        self.handle(signum)
        self.signal_number = signum

    def handle(self, signum: int) -> None:
        """What a stop signal does while the block runs (it may raise KeyboardInterrupt)."""
        raise NotImplementedError

    def __exit__(self, *exc_info: Any) -> None:
        for number, old in self.previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)
