"""Fault injection for the sandbox Gerrit: the failures a real Gerrit has, on request.

A fault is a rule matched against each HTTP request (method, a regex searched in the
path, a probability) that fires ``count`` times (``None``: until cleared):

* ``fail``: answer ``status`` (500, 503, 429 ...) without applying the request;
* ``delay``: wait ``seconds``, then apply the request and answer. A POST delayed past
  the client's timeout is a review Gerrit applies after the client gave up;
* ``hold``: wait until :meth:`FaultPlan.release` (or ``seconds``, if given), then apply
  and answer: the same, with the moment of applying chosen by the test;
* ``drop``: read the request, apply it unless ``apply`` is false, and close the
  connection without an answer;
* ``drop-events``: lose the next ``count`` webhook events (``None``: all until cleared).

Faults come from Python (:class:`FaultPlan`), from ``govbot sandbox --faults FILE`` (a
JSON or YAML list of fault objects), or over HTTP: ``POST /__faults`` adds the faults in
its JSON body, ``GET /__faults`` lists them, ``DELETE /__faults`` clears them (and
releases held requests). The control endpoint answers only clients on the loopback
interface (the sandbox listens on 127.0.0.1 only).
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KINDS = ("fail", "delay", "hold", "drop", "drop-events")
_FIELDS = {"kind", "method", "path", "count", "status", "seconds", "apply", "probability"}


class FaultError(ValueError):
    """A fault description that cannot be used; the message says which field and why."""


@dataclass
class Fault:
    """One fault rule (see the module docstring)."""

    kind: str
    method: str | None = None
    path: str | None = None
    count: int | None = 1
    status: int = 500
    seconds: float = 0.0
    apply: bool = True
    probability: float = 1.0
    fired: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return self._pattern is None or self._pattern.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "count": self.count,
            "status": self.status,
            "seconds": self.seconds,
            "apply": self.apply,
            "probability": self.probability,
            "fired": self.fired,
        }


def parse_fault(data: Any) -> Fault:
    """A :class:`Fault` from its JSON form; :class:`FaultError` naming the bad field."""
    if not isinstance(data, Mapping):
        raise FaultError(f"a fault must be an object, not {type(data).__name__}")
    unknown = set(data) - _FIELDS
    if unknown:
        raise FaultError(f"unknown fault field(s): {', '.join(sorted(map(str, unknown)))}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise FaultError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    method = data.get("method")
    if method is not None and (not isinstance(method, str) or not method.isalpha()):
        raise FaultError(f"method must be an HTTP method, not {method!r}")
    path = data.get("path")
    try:
        pattern = re.compile(path) if path is not None else None
    except (re.error, TypeError) as exc:
        raise FaultError(f"path must be a regular expression: {exc}") from None
    count = data.get("count", 1)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise FaultError(f"count must be a positive integer or null, not {count!r}")
    status = data.get("status", 500)
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        raise FaultError(f"status must be an HTTP error status (400-599), not {status!r}")
    seconds = _number(data, "seconds", 0.0, 0.0, 3600.0)
    probability = _number(data, "probability", 1.0, 0.0, 1.0)
    apply = data.get("apply", True)
    if not isinstance(apply, bool):
        raise FaultError(f"apply must be true or false, not {apply!r}")
    return Fault(
        kind,
        method.upper() if method else None,
        path,
        count,
        status,
        seconds,
        apply,
        probability,
        _pattern=pattern,
    )


def parse_faults(data: Any) -> list[Fault]:
    """Faults from a list (or an object with a ``faults`` list) of fault objects."""
    if isinstance(data, Mapping) and set(data) <= {"faults"}:
        data = data.get("faults", [])
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise FaultError('expected a list of faults (or {"faults": [...]})')
    return [parse_fault(item) for item in data]


def _number(data: Mapping[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FaultError(f"{name} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


class FaultPlan:
    """The sandbox's active faults: matched per request, thread-safe."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._release = threading.Event()
        self._held = 0
        self._rng = rng or random.Random()

    def add(self, *faults: Fault) -> None:
        with self._lock:
            if any(f.kind == "hold" for f in faults):
                self._release.clear()
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
        self._release.set()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def take(self, method: str, path: str, *, kinds: Sequence[str] = KINDS) -> Fault | None:
        """The first fault of ``kinds`` that fires for this request (its count used)."""
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or not fault.matches(method, path):
                    continue
                if fault.probability < 1.0 and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.count is not None and fault.fired >= fault.count:
                    self._faults.remove(fault)
                return fault
        return None

    def hold(self, fault: Fault) -> None:
        """Block the request until :meth:`release` (or the fault's ``seconds``)."""
        with self._lock:
            self._held += 1
        try:
            self._release.wait(fault.seconds or None)
        finally:
            with self._lock:
                self._held -= 1

    @property
    def held(self) -> int:
        """Requests waiting in a ``hold`` now."""
        with self._lock:
            return self._held

    def release(self) -> None:
        """Let every held request go on (it is applied and answered)."""
        self._release.set()


__all__ = ["KINDS", "Fault", "FaultError", "FaultPlan", "parse_fault", "parse_faults"]
