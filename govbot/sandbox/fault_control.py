"""The sandbox's fault controls: what tests call to make Gerrit fail, stall or drop.

Two kinds live side by side. The story controls (``fail_next``, ``outage``, ``delay``)
are for in-process tests; the rules of :mod:`govbot.sandbox.faults` (``add_faults``, the
``--faults`` file, ``/__faults`` over HTTP) are for a sandbox run as a process. The HTTP
handler in ``server.py`` applies both before a request reaches the REST routes.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from govbot.sandbox.events import WebhookDispatcher
from govbot.sandbox.faults import Fault, FaultPlan, parse_faults
from govbot.sandbox.wire import RequestRecord, Response, plain_json, text_response

# Fault control (govbot.sandbox.faults); answered only to loopback clients.
FAULTS_PATH = "/__faults"
LOOPBACK = frozenset({"127.0.0.1", "::1"})

DEFAULT_MESSAGES = {
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    429: "Quota limit reached",
}


@dataclass
class _Fault:
    remaining: int | None  # None: until cleared
    status: int
    method: str | None
    path: re.Pattern[str] | None
    message: str


class FaultControls:
    """The fault controls of ``Sandbox`` (a mixin over its lock and request log)."""

    lock: threading.RLock
    requests: list[RequestRecord]
    webhook: WebhookDispatcher
    faults: FaultPlan  # the rules of govbot.sandbox.faults (CLI, /__faults)
    _faults: list[_Fault]
    _delay: tuple[float, int | None]

    def fail_next(
        self,
        count: int | None = 1,
        status: int = 500,
        *,
        method: str | None = None,
        path: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (None: until cleared).

        ``method`` and ``path`` (a regex searched in the request path) narrow which
        requests fail. Bodies are Gerrit's plain-text errors.
        """
        default = DEFAULT_MESSAGES.get(status, "Error")
        with self.lock:
            self._faults.append(
                _Fault(
                    count,
                    status,
                    method.upper() if method else None,
                    re.compile(path) if path else None,
                    message or default,
                )
            )

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self._delay = (0.0, 0)
        self.faults.clear()

    def add_faults(self, faults: list[Fault]) -> None:
        """Activate ``faults`` (:mod:`govbot.sandbox.faults`); ``drop-events`` ones go to
        the webhook dispatcher."""
        for fault in faults:
            if fault.kind == "drop-events":
                self.webhook.drop(fault.count)
            else:
                self.faults.add(fault)

    def fault_control(self, method: str, body: bytes) -> Response:
        """``/__faults``: GET lists, POST adds (JSON body), DELETE clears."""
        if method == "GET":
            return plain_json({"faults": self.faults.describe()})
        if method == "DELETE":
            self.clear_faults()
            return Response(204, content_type=None)
        if method != "POST":
            return text_response(405, "GET, POST or DELETE")
        try:
            faults = parse_faults(json.loads(body or b"null"))
        except (ValueError, RecursionError) as exc:  # FaultError is a ValueError
            return text_response(400, f"bad faults: {exc}")
        self.add_faults(faults)
        return plain_json({"added": len(faults), "faults": self.faults.describe()}, 201)

    def record(self, method: str, target: str, status: int) -> None:
        """Log a request answered (or dropped, status 0) by a fault."""
        split = urlsplit(target)
        with self.lock:
            self.requests.append(RequestRecord(method, split.path, split.query, status, None, 0.0))

    @contextlib.contextmanager
    def outage(self, status: int = 503) -> Iterator[None]:
        """Every request fails with ``status`` inside the block (Gerrit down behind a proxy)."""
        self.fail_next(None, status)
        try:
            yield
        finally:
            with self.lock:
                self._faults = [f for f in self._faults if f.remaining is not None]

    def delay(self, seconds: float, count: int | None = None) -> None:
        """Hold the next ``count`` responses (None: all until cleared) for ``seconds``;
        a client with a shorter timeout sees a timeout."""
        with self.lock:
            self._delay = (seconds, count)

    def pending_delay(self) -> float:
        """The pause ``delay`` asks of the next response (0: none)."""
        with self.lock:
            seconds, count = self._delay
            if seconds <= 0 or count == 0:
                return 0.0
            if count is not None:
                self._delay = (seconds, count - 1)
            return seconds

    def take_fault(self, method: str, path: str) -> _Fault | None:
        """The ``fail_next`` fault this request meets, counted down (call under the lock)."""
        for fault in self._faults:
            if fault.method and fault.method != method:
                continue
            if fault.path and not fault.path.search(path):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return fault
        return None
