"""The signals that ask a program to stop (Ctrl-C's SIGINT, SIGTERM, SIGHUP), caught for a while.

``catch_stop_signals(handler)`` is a context manager that sends each of them to ``handler``
(signal number, frame) and puts the previous handlers back on exit. Only the main thread can
set signal handlers; elsewhere it does nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


@contextmanager
def catch_stop_signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in STOP_SIGNALS:
            previous[number] = signal.getsignal(number)
            signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old if old is not None else signal.SIG_DFL)
