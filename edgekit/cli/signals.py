"""Signals the long-running commands share: SIGTERM handled like Ctrl-C."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Interruption:
    """Which signal stopped the command, for the exit code shells expect (128 + signal)."""

    signum: int = signal.SIGINT

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextmanager
def sigterm_as_interrupt() -> Iterator[Interruption]:
    """Treat SIGTERM (docker stop, kill) like Ctrl-C, so runs close as KILLED, servers stop.

    Both raise KeyboardInterrupt, so one clean-up path serves both; the yielded record keeps
    which one it was, so the command exits 130 after Ctrl-C and 143 after SIGTERM.
    """
    interruption = Interruption()

    def interrupt(signum, frame):
        interruption.signum = signum
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield interruption
    finally:
        signal.signal(signal.SIGTERM, previous)
