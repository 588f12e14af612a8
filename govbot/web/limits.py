"""Failed admin logins, limited per client and in total over a sliding window.

Five failures from one client address within a minute, or twenty from anywhere, and the
next attempts answer 429 with ``Retry-After`` until the oldest failure leaves the window,
whatever password they carry (so a guess that happens to be right does not get through).
The count lives in the process: each govbot process limits its own share. Behind a
reverse proxy every client has the proxy's address, so the per-client limit then acts
like the total one.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

PER_CLIENT = 5
TOTAL = 20
WINDOW_S = 60.0


@dataclass
class LoginLimiter:
    """Counts failures; :meth:`retry_after` says how long a client must wait (0: it may try)."""

    per_client: int = PER_CLIENT
    total: int = TOTAL
    window: float = WINDOW_S
    clock: Callable[[], float] = time.monotonic
    _client: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _all: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, client: str) -> int:
        """Whole seconds until ``client`` may try again; 0 when it may now."""
        now = self.clock()
        with self._lock:
            self._expire(now)
            waits = [0.0]
            mine = self._client.get(client)
            if mine is not None and len(mine) >= self.per_client:
                waits.append(mine[-self.per_client] + self.window - now)
            if len(self._all) >= self.total:
                waits.append(self._all[-self.total] + self.window - now)
        return math.ceil(max(waits))

    def failed(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            self._expire(now)
            self._client[client].append(now)
            self._all.append(now)

    def _expire(self, now: float) -> None:
        horizon = now - self.window
        while self._all and self._all[0] <= horizon:
            self._all.popleft()
        for key in list(self._client):
            times = self._client[key]
            while times and times[0] <= horizon:
                times.popleft()
            if not times:
                del self._client[key]


__all__ = ["PER_CLIENT", "TOTAL", "WINDOW_S", "LoginLimiter"]
