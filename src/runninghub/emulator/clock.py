"""The emulated wall clock: real time, optionally sped up, and advanceable on demand.

Expiries (signed upload URLs) and webhook retry spacing run on this clock, so a test can
make 24 hours pass with ``advance_clock`` instead of waiting. Task timings do not: they
are real seconds, which is what ``queue_seconds``/``task_seconds`` promise.
"""

from __future__ import annotations

import threading
import time


class EmulatedClock:
    """Seconds since the epoch, running ``scale`` times faster than real time."""

    def __init__(self, scale: float = 1.0, offset: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._real_anchor = time.time()
        self._emulated_anchor = self._real_anchor + offset
        self._scale = scale

    def now(self) -> float:
        with self._lock:
            return self._emulated_anchor + (time.time() - self._real_anchor) * self._scale

    @property
    def scale(self) -> float:
        return self._scale

    def set_scale(self, scale: float) -> None:
        """Change the speed from now on, without a jump in the current time."""
        current = self.now()
        with self._lock:
            self._real_anchor = time.time()
            self._emulated_anchor = current
            self._scale = scale

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._emulated_anchor += seconds

    def offset(self) -> float:
        """How far the emulated clock is ahead of the real one (kept across restarts)."""
        return self.now() - time.time()

    def real_delay(self, emulated_seconds: float) -> float:
        """The real seconds that ``emulated_seconds`` take at the current speed."""
        return emulated_seconds / self._scale
