"""Stream-events-shaped JSON for each sandbox write, and its delivery to a webhook URL.

Shapes follow a current (3.x) server: integer ``number`` fields, epoch-second times,
``wip``/``private`` only when true (Gerrit's cmd-stream-events.html). Delivery imitates the
webhooks plugin (§2.2): one POST per event with ``Content-Type: application/json;
charset=UTF-8`` and ``X-Origin-Url``, retried up to ``max_tries`` times ``retry_interval``
apart on a non-2xx answer or a connection error, then dropped.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govbot.sandbox.entities import Change, PatchSet
from govbot.sandbox.state import GerritState

LOG = logging.getLogger(__name__)

# Event fields that name an account (value: account id), per event type.
_ACCOUNT_FIELDS = (
    "uploader",
    "author",
    "submitter",
    "abandoner",
    "restorer",
    "changer",
    "adder",
    "reviewer",
    "remover",
    "editor",
)


def account_attribute(state: GerritState, account_id: int | None) -> dict[str, Any]:
    if account_id is None:
        return {"name": "Gerrit Code Review"}
    account = state.accounts[account_id]
    return {"name": account.name, "email": account.email, "username": account.username}


def change_url(state: GerritState, change: Change) -> str:
    return f"{state.web_url}c/{change.project}/+/{change.number}"


def change_attribute(state: GerritState, change: Change) -> dict[str, Any]:
    data: dict[str, Any] = {
        "project": change.project,
        "branch": change.branch,
        "id": change.change_id,
        "number": change.number,
        "subject": change.subject,
        "owner": account_attribute(state, change.owner),
        "url": change_url(state, change),
        "commitMessage": change.current.message,
        "createdOn": int(change.created.timestamp()),
        "status": change.status,
    }
    if change.topic:
        data["topic"] = change.topic
    if change.hashtags:
        data["hashtags"] = list(change.hashtags)
    if change.wip:
        data["wip"] = True
    if change.private:
        data["private"] = True
    return data


def patch_set_attribute(state: GerritState, change: Change, ps: PatchSet) -> dict[str, Any]:
    files = ps.diff(ps.parent_files, "parent")
    return {
        "number": ps.number,
        "revision": ps.sha,
        "parents": [ps.parent_sha],
        "ref": ps.ref,
        "uploader": account_attribute(state, ps.uploader),
        "createdOn": int(ps.created.timestamp()),
        "author": account_attribute(state, change.owner),
        "kind": ps.kind,
        "sizeInsertions": sum(f.get("lines_inserted", 0) for f in files.values()),
        "sizeDeletions": -sum(f.get("lines_deleted", 0) for f in files.values()),
    }


def build_event(
    state: GerritState, kind: str, change: Change, ps: PatchSet | None, **extra: Any
) -> dict[str, Any]:
    """One stream event (without ``eventCreatedOn``); account fields in ``extra`` are ids."""
    event: dict[str, Any] = {"type": kind}
    for key, value in extra.items():
        event[key] = account_attribute(state, value) if key in _ACCOUNT_FIELDS else value
    event["change"] = change_attribute(state, change)
    if ps is not None:
        event["patchSet"] = patch_set_attribute(state, change, ps)
    event["project"] = change.project
    event["refName"] = f"refs/heads/{change.branch}"
    event["changeKey"] = {"id": change.change_id}
    return event


def emit(
    state: GerritState, kind: str, change: Change, ps: PatchSet | None, when: datetime, **extra: Any
) -> None:
    """Build the ``kind`` event of ``change`` at ``when`` and send it to the listeners."""
    event = build_event(state, kind, change, ps, **extra)
    event["eventCreatedOn"] = int(when.timestamp())
    state.emit(event)


@dataclass
class WebhookSettings:
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    max_tries: int = 5
    retry_interval: float = 1.0
    timeout: float = 5.0


class WebhookDispatcher:
    """Delivers events to a URL on a background thread, in order, with the plugin's retries.

    ``drop(n)`` makes the next ``n`` events vanish (``drop(None)``: all, until ``drop(0)``),
    as events do when a stream connection is lost; ``flush()`` waits for the queue to drain
    so tests need no sleeps.
    """

    def __init__(self, origin_url: str = "") -> None:
        self.settings = WebhookSettings()
        self.origin_url = origin_url
        self.delivered: list[dict[str, Any]] = []
        self.dropped: list[dict[str, Any]] = []
        self.failed: list[tuple[dict[str, Any], str]] = []
        self.attempts = 0
        self._drop_remaining: int | None = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def configure(
        self,
        url: str | None,
        *,
        headers: Mapping[str, str] | None = None,
        max_tries: int = 5,
        retry_interval: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        self.settings = WebhookSettings(
            url, dict(headers or {}), max_tries, retry_interval, timeout
        )
        if url and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-webhook", daemon=True)
            self._thread.start()

    def drop(self, count: int | None = 1) -> None:
        """Lose the next ``count`` events (``None``: every event until ``drop(0)``)."""
        with self._idle:
            self._drop_remaining = count

    def __call__(self, event: dict[str, Any]) -> None:
        """Listener hook: take one event from the sandbox."""
        with self._idle:
            if self._drop_remaining is None or self._drop_remaining > 0:
                if self._drop_remaining is not None:
                    self._drop_remaining -= 1
                self.dropped.append(event)
                return
            if not self.settings.url:
                return
            self._pending += 1
        self._queue.put(event)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was delivered or given up; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            try:
                self._deliver(event)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, event: dict[str, Any]) -> None:
        settings = self.settings
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=UTF-8"}
        if self.origin_url:
            headers["X-Origin-Url"] = self.origin_url
        headers.update(settings.headers)
        error = "no URL"
        for attempt in range(max(1, settings.max_tries)):
            if self._stopped.is_set() or not settings.url:
                break
            if attempt:
                self._stopped.wait(settings.retry_interval)
            self.attempts += 1
            request = urllib.request.Request(settings.url, body, headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=settings.timeout) as response:
                    if 200 <= response.status < 300:
                        self.delivered.append(event)
                        return
                    error = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
            except OSError as exc:
                error = str(exc)
            LOG.debug("webhook delivery of %s failed: %s", event.get("type"), error)
        self.failed.append((event, error))
