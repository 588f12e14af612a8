"""The sandbox Gerrit over real HTTP, with fault injection and a request log for tests.

``Sandbox`` is a ``GerritState`` (so tests drive it in-process with the story methods)
that also serves Gerrit's REST API on 127.0.0.1 with Gerrit's protocol habits
(Gerrit's rest-api.html: output format, authentication): ``)]}'`` before JSON, ``/a/`` paths
with HTTP Basic auth
and 401 + ``WWW-Authenticate`` on bad credentials, anonymous reads elsewhere and 403 for
anonymous writes, plain-text error bodies ending in a newline.

Here: the sandbox's start and stop, its test controls, authentication, and the route
table; the routes are ``rest_accounts.py``, ``rest_changes.py`` and
``rest_revisions.py``; the fault controls are ``fault_control.py``.
"""

from __future__ import annotations

import base64
import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from govbot.sandbox import rest_accounts, rest_changes
from govbot.sandbox.entities import Clock, RestError, not_found
from govbot.sandbox.events import WebhookDispatcher
from govbot.sandbox.fault_control import FAULTS_PATH, LOOPBACK, FaultControls
from govbot.sandbox.faults import FaultPlan
from govbot.sandbox.request import Request
from govbot.sandbox.seed import SeedInfo, apply_seed
from govbot.sandbox.ssh import StreamServer
from govbot.sandbox.state import GerritState
from govbot.sandbox.wire import (
    REALM,
    RequestRecord,
    Response,
    json_response,
    text_response,
)

LOG = logging.getLogger(__name__)

# The first path segment (after ``/a/``) -> its routes.
ROUTES: dict[str, Callable[[Request], Response]] = {
    "config": rest_accounts.config,
    "changes": rest_changes.changes,
    "accounts": rest_accounts.accounts,
    "groups": rest_accounts.groups,
    "projects": rest_accounts.projects,
}


class Sandbox(GerritState, FaultControls):
    """A Gerrit look-alike: in-process story API plus REST over HTTP on 127.0.0.1."""

    def __init__(
        self,
        root: Path | None = None,
        clock: Clock | None = None,
        *,
        port: int = 0,
        webhook_url: str | None = None,
        **options: Any,
    ) -> None:
        self._owns_root = root is None
        root = Path(tempfile.mkdtemp(prefix="govbot-sandbox-")) if root is None else root
        super().__init__(root, clock, **options)
        self.port = port
        self.requests: list[RequestRecord] = []
        self.webhook = WebhookDispatcher()
        self.listeners.append(self.webhook)
        # The state of the FaultControls mixin: fail_next's faults and delay's pause.
        self._faults = []
        self._delay = (0.0, 0)
        self.faults = FaultPlan()
        self.seed_info: SeedInfo | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.ssh: StreamServer | None = None
        if webhook_url:
            self.set_webhook(webhook_url)

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. ``http://127.0.0.1:8081/``."""
        return self.web_url

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.sandbox = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self.web_url = f"http://127.0.0.1:{self.port}/"
        self.webhook.origin_url = self.web_url
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"sandbox-gerrit-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (connections are refused); ``start()`` again reuses the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def start_ssh(self, port: int = 0) -> StreamServer:
        """Serve ``gerrit stream-events`` over SSH on 127.0.0.1 (``self.ssh``)."""
        if self.ssh is None:
            self.ssh = StreamServer(self).start(port)
        return self.ssh

    def close(self) -> None:
        self.stop()
        if self.ssh is not None:
            self.ssh.close()
            self.ssh = None
        self.webhook.close()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def seed(self, name: str) -> SeedInfo:
        """Apply the seed called ``name`` (``empty`` or ``demo``); remembered as ``seed_info``."""
        self.seed_info = apply_seed(self, name)
        return self.seed_info

    # -- test controls --------------------------------------------------------------------

    def set_password(self, username: str, password: str | None) -> None:
        with self.lock:
            self.account(username).password = password

    def set_webhook(
        self,
        url: str | None,
        *,
        headers: Mapping[str, str] | None = None,
        max_tries: int = 5,
        retry_interval: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        """POST every later event to ``url`` (``None`` stops delivery)."""
        self.webhook.configure(
            url,
            headers=headers,
            max_tries=max_tries,
            retry_interval=retry_interval,
            timeout=timeout,
        )

    def drop_events(self, count: int | None = 1) -> None:
        """Lose the next ``count`` webhook events (``None``: all until ``drop_events(0)``)."""
        self.webhook.drop(count)

    def flush_events(self, timeout: float = 5.0) -> bool:
        """Wait until queued webhook deliveries are done (True) or ``timeout`` passes."""
        return self.webhook.flush(timeout)

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def count_requests(self, method: str | None = None, path: str | None = None) -> int:
        """Requests seen, optionally only one method and paths matching a regex."""
        pattern = re.compile(path) if path else None
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (pattern is None or pattern.search(r.path))
            )

    # -- HTTP entry point -----------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Answer one request (called by the HTTP handler; usable directly in tests)."""
        started = time.monotonic()
        split = urlsplit(target)
        path, query = split.path, split.query
        username = None
        with self.lock:
            fault = self.take_fault(method, path)
            if fault is not None:
                response = text_response(fault.status, fault.message)
            else:
                try:
                    username, response = self._route(method, path, query, headers, body)
                except RestError as error:
                    if error.json_body is not None:
                        response = json_response(error.json_body, error.status)
                    else:
                        response = text_response(error.status, error.message)
                    if error.status == 401:
                        response.headers["WWW-Authenticate"] = REALM
                except Exception:  # the edge: one bad request must not kill the server
                    LOG.exception("sandbox failed on %s %s", method, target)
                    response = text_response(500, "Internal server error")
            self.requests.append(
                RequestRecord(
                    method, path, query, response.status, username, time.monotonic() - started
                )
            )
        return response

    def _authenticate(self, headers: Mapping[str, str]) -> int:
        header = headers.get("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic" or not credentials:
            raise RestError(401, "Unauthorized")
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise RestError(401, "Unauthorized") from None
        username, _, password = decoded.partition(":")
        for account in self.accounts.values():
            if account.username == username:
                if account.active and account.password is not None and account.password == password:
                    return account.id
                break
        raise RestError(401, "Unauthorized")

    def _route(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[str | None, Response]:
        segments = [unquote(s) for s in path.split("/")[1:]]
        if segments and segments[-1] == "":
            segments.pop()
        viewer = None
        if segments and segments[0] == "a":
            viewer = self._authenticate(headers)
            segments = segments[1:]
        elif method != "GET":
            raise RestError(403, "Authentication required")
        params = parse_qs(query, keep_blank_values=True)
        request = Request(self, method, segments, params, headers, body, viewer)
        username = self.accounts[viewer].username if viewer is not None else None
        return username, _dispatch(request)


def _dispatch(request: Request) -> Response:
    route = ROUTES.get(request.segments[0]) if request.segments else None
    if route is None:
        raise not_found("/".join(request.segments))
    return route(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms delayed-ACK stalls
    wbufsize = 1 << 16
    server_version = "GerritCodeReview-sandbox"
    sys_version = ""

    def _serve(self) -> None:
        sandbox: Sandbox = self.server.sandbox  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if path == FAULTS_PATH:
            if self.client_address[0] not in LOOPBACK:
                self._send(text_response(403, "fault control is for loopback clients only"))
            else:
                self._send(sandbox.fault_control(self.command, body))
            return
        pause = sandbox.pending_delay()
        if pause:
            time.sleep(pause)  # the injected fault: a slow server
        fault = sandbox.faults.take(self.command, path)
        if fault is not None and fault.kind == "fail":
            sandbox.record(self.command, self.path, fault.status)
            self._send(text_response(fault.status, f"injected fault: HTTP {fault.status}"))
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        elif fault is not None and fault.kind == "hold":
            sandbox.faults.hold(fault)
        elif fault is not None and fault.kind == "drop":
            if fault.apply:
                sandbox.handle(self.command, self.path, self.headers, body)
            else:
                sandbox.record(self.command, self.path, 0)
            self.close_connection = True  # no answer: the client sees the connection end
            return
        self._send(sandbox.handle(self.command, self.path, self.headers, body))

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.status != 204:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.status != 204:
                self.wfile.write(response.body)
            self.wfile.flush()
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug("%s - %s", self.address_string(), format % args)
