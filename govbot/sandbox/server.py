"""The sandbox Gerrit over real HTTP, with fault injection and a request log for tests.

``Sandbox`` is a ``GerritState`` (so tests drive it in-process with the story methods)
that also serves Gerrit's REST API on 127.0.0.1 with Gerrit's protocol habits
(research/gerrit.md §1.1, §8): ``)]}'`` before JSON, ``/a/`` paths with HTTP Basic auth
and 401 + ``WWW-Authenticate`` on bad credentials, anonymous reads elsewhere and 403 for
anonymous writes, plain-text error bodies ending in a newline.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import mimetypes
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from govbot.paths import COMMIT_MSG
from govbot.sandbox import lifecycle, people, render, reviews
from govbot.sandbox.entities import Change, Clock, PatchSet, RestError, not_found
from govbot.sandbox.events import WebhookDispatcher
from govbot.sandbox.faults import Fault, FaultPlan, parse_faults
from govbot.sandbox.query import run_query
from govbot.sandbox.seed import SeedInfo, apply_seed
from govbot.sandbox.ssh import StreamServer
from govbot.sandbox.state import GerritState

LOG = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=UTF-8"
REALM = 'Basic realm="Gerrit Code Review"'
# Fault control (govbot.sandbox.faults); answered only to loopback clients.
FAULTS_PATH = "/__faults"
LOOPBACK = frozenset({"127.0.0.1", "::1"})


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = TEXT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request the sandbox answered."""

    method: str
    path: str  # as sent, percent-encoding kept, without the query string
    query: str
    status: int
    account: str | None  # username of the authenticated caller
    seconds: float


@dataclass
class _Fault:
    remaining: int | None  # None: until cleared
    status: int
    method: str | None
    path: re.Pattern[str] | None
    message: str


def json_response(data: object, status: int = 200, *, pretty: bool = False) -> Response:
    if pretty:
        text = json.dumps(data, indent=2, ensure_ascii=False)
    else:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(
        status,
        (")]}'\n" + text + "\n").encode(),
        JSON_TYPE,
        {"Content-Disposition": "attachment"},
    )


def _plain_json(data: object, status: int = 200) -> Response:
    """JSON without Gerrit's XSSI prefix: the fault control is the sandbox's own API."""
    return Response(status, (json.dumps(data, indent=2) + "\n").encode(), JSON_TYPE)


def text_response(status: int, message: str) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode(), TEXT_TYPE)


class Sandbox(GerritState):
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
        self._faults: list[_Fault] = []
        self._delay: tuple[float, int | None] = (0.0, 0)
        self.faults = FaultPlan()  # the rules of govbot.sandbox.faults (CLI, /__faults)
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
        default = {
            500: "Internal server error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            429: "Quota limit reached",
        }.get(status, "Error")
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
                self.drop_events(fault.count)
            else:
                self.faults.add(fault)

    def fault_control(self, method: str, body: bytes) -> Response:
        """``/__faults``: GET lists, POST adds (JSON body), DELETE clears."""
        if method == "GET":
            return _plain_json({"faults": self.faults.describe()})
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
        return _plain_json({"added": len(faults), "faults": self.faults.describe()}, 201)

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

    def _pending_delay(self) -> float:
        with self.lock:
            seconds, count = self._delay
            if seconds <= 0 or count == 0:
                return 0.0
            if count is not None:
                self._delay = (seconds, count - 1)
            return seconds

    def _take_fault(self, method: str, path: str) -> _Fault | None:
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

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Answer one request (called by the HTTP handler; usable directly in tests)."""
        started = time.monotonic()
        split = urlsplit(target)
        path, query = split.path, split.query
        username = None
        with self.lock:
            fault = self._take_fault(method, path)
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
        request = _Request(self, method, segments, params, headers, body, viewer)
        username = self.accounts[viewer].username if viewer is not None else None
        return username, request.dispatch()


class _Request:
    """One REST call: routing by path segments, then the endpoint."""

    def __init__(
        self,
        sandbox: Sandbox,
        method: str,
        segments: list[str],
        params: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        viewer: int | None,
    ) -> None:
        self.sb = sandbox
        self.method = method
        self.segments = segments
        self.params = params
        self.headers = headers
        self.body = body
        self.viewer = viewer

    def param(self, *names: str) -> str | None:
        for name in names:
            if name in self.params:
                return self.params[name][-1]
        return None

    def json(self, data: object, status: int = 200) -> Response:
        return json_response(data, status, pretty=self.param("pp") == "1")

    def input(self) -> dict[str, Any]:
        """The JSON request body; Gerrit's 400s for wrong content type or bad JSON."""
        if not self.body.strip():
            return {}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RestError(400, "Expected Content-Type: application/json")
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise RestError(400, "Invalid application/json in request") from None
        if not isinstance(data, dict):
            raise RestError(400, "Invalid application/json in request")
        return data

    def require_user(self) -> int:
        if self.viewer is None:
            raise RestError(403, "Authentication required")
        return self.viewer

    def dispatch(self) -> Response:
        s = self.segments
        if not s:
            raise not_found("")
        routes: dict[str, Callable[[], Response]] = {
            "config": self.config,
            "changes": self.changes,
            "accounts": self.accounts,
            "groups": self.groups,
            "projects": self.projects,
        }
        handler = routes.get(s[0])
        if handler is None:
            raise not_found("/".join(s))
        return handler()

    def only(self, *methods: str) -> None:
        if self.method not in methods:
            raise RestError(405, "Method Not Allowed")

    # -- /config --------------------------------------------------------------------------

    def config(self) -> Response:
        if self.segments[1:] == ["server", "version"]:
            self.only("GET")
            if "verbose" in self.params:
                return self.json({"gerrit_version": self.sb.version, "note_db_version": 185})
            return self.json(self.sb.version)
        raise not_found("/".join(self.segments))

    # -- /accounts ------------------------------------------------------------------------

    def accounts(self) -> Response:
        s = self.segments
        self.only("GET")
        if len(s) == 2:
            account = self.sb.resolve_account(s[1], self.viewer)
            return self.json(render.account(self.sb, account.id, True))
        if len(s) == 3 and s[2] == "detail":
            account = self.sb.resolve_account(s[1], self.viewer)
            return self.json(render.account_detail(self.sb, account.id))
        if len(s) == 3 and s[2] == "groups":
            account = self.sb.resolve_account(s[1], self.viewer)
            groups = [
                render.group_info(self.sb, g)
                for g in self.sb.groups.values()
                if account.id in [a.id for a in self.sb.group_members(g)]
            ]
            return self.json(groups)
        raise not_found("/".join(s))

    # -- /groups --------------------------------------------------------------------------

    def groups(self) -> Response:
        s = self.segments
        self.only("GET")
        if len(s) < 2:
            groups = {
                g.name: render.group_info(self.sb, g)
                for g in sorted(self.sb.groups.values(), key=lambda g: g.name)
                if self._can_see_group(g)
            }
            return self.json(groups)
        group = self.sb.find_group(s[1])
        if group is None or not self._can_see_group(group):
            raise not_found(s[1])
        if len(s) == 2:
            members = "MEMBERS" in self.params.get("o", [])
            return self.json(render.group_info(self.sb, group, members=members))
        if len(s) == 3 and s[2] == "members":
            recursive = "recursive" in self.params
            members = self.sb.group_members(group, recursive=recursive)
            return self.json([render.account(self.sb, a.id, True) for a in members])
        raise not_found("/".join(s))

    def _can_see_group(self, group: Any) -> bool:
        """GroupControl.isVisible: visible to all, or the caller is a member or an
        administrator (gerrit-fidelity #10); any other group is a 404."""
        if group.visible_to_all:
            return True
        viewer = self.viewer
        return viewer is not None and (
            self.sb.is_admin(viewer) or any(a.id == viewer for a in self.sb.group_members(group))
        )

    # -- /projects ------------------------------------------------------------------------

    def projects(self) -> Response:
        """``GET /projects/{name}``: a ProjectInfo (404 for an unknown project)."""
        s = self.segments
        self.only("GET")
        if len(s) != 2:
            raise not_found("/".join(s))
        project = self.sb.projects.get(s[1])
        if project is None:
            raise not_found(s[1])
        return self.json(
            {
                "id": quote(project.name, safe=""),
                "name": project.name,
                "parent": "All-Projects",
                "description": project.description,
                "state": "ACTIVE",
            }
        )

    # -- /changes -------------------------------------------------------------------------

    def options(self, preset: frozenset[str] = frozenset()) -> frozenset[str]:
        options = set(preset)
        for value in self.params.get("o", []):
            if value not in render.LIST_OPTIONS:
                raise RestError(400, f'"{value}" is not a valid value for "-o"')
            options.add(value)
        return frozenset(options)

    def changes(self) -> Response:
        s = self.segments
        if len(s) == 1:
            self.only("GET")
            return self.query()
        change = self.sb.resolve_change(s[1], self.viewer)
        rest = s[2:]
        if not rest:
            self.only("GET")
            return self.json(render.change_info(self.sb, change, self.options(), self.viewer))
        view = rest[0]
        if view == "detail" and len(rest) == 1:
            self.only("GET")
            options = self.options(render.DETAIL_OPTIONS)
            return self.json(render.change_info(self.sb, change, options, self.viewer))
        if view == "messages" and len(rest) == 1:
            self.only("GET")
            return self.json([render.message(self.sb, m, True) for m in change.messages])
        if view == "comments" and len(rest) == 1:
            self.only("GET")
            return self.json(render.comments_by_path(self.sb, change.comments))
        if view == "reviewers":
            return self.reviewers(change, rest[1:])
        if view == "attention":
            return self.attention(change, rest[1:])
        if view in ("abandon", "restore", "wip", "ready") and len(rest) == 1:
            return self.change_action(change, view)
        if view == "revisions" and len(rest) >= 2:
            return self.revisions(change, self.sb.resolve_revision(change, rest[1]), rest[2:])
        raise not_found("/".join(s))

    def query(self) -> Response:
        queries = self.params.get("q") or ["status:open"]
        if len(queries) > 10:
            raise RestError(400, "limit of 10 queries")
        options = self.options()
        start_text = self.param("S", "start") or "0"
        limit_text = self.param("n", "limit")
        try:
            start = int(start_text)
            limit = int(limit_text) if limit_text else None
        except ValueError:
            raise RestError(400, "Invalid number") from None
        if start < 0:
            raise RestError(400, "'start' parameter cannot be less than zero")
        pages = []
        for text in queries:
            matches, query_limit = run_query(self.sb, text, self.viewer)
            page_size = self.sb.query_limit
            for candidate in (limit, query_limit):
                if candidate is not None and candidate > 0:
                    page_size = min(page_size, candidate)
            page = matches[start : start + page_size]
            items = [render.change_info(self.sb, c, options, self.viewer) for c in page]
            if items and len(matches) > start + page_size:
                items[-1]["_more_changes"] = True
            pages.append(items)
        return self.json(pages if len(queries) > 1 else pages[0])

    def change_action(self, change: Change, view: str) -> Response:
        self.only("POST")
        user = self.require_user()
        data = self.input()
        message = data.get("message") if isinstance(data.get("message"), str) else None
        if view == "abandon":
            lifecycle.require_owner(self.sb, change, user, "abandon")
            lifecycle.abandon(self.sb, change, by=user, reason=message)
        elif view == "restore":
            lifecycle.require_owner(self.sb, change, user, "restore")
            lifecycle.restore(self.sb, change, by=user, reason=message)
        else:
            lifecycle.require_owner(self.sb, change, user, "toggle work in progress state")
            if change.wip == (view == "wip"):
                raise RestError(
                    409, f"change is {'already' if view == 'wip' else 'not'} work in progress"
                )
            lifecycle.set_wip(self.sb, change, view == "wip", by=user)
            return Response(200, b"", None)
        return self.json(render.change_info(self.sb, change, frozenset(), self.viewer))

    def reviewers(self, change: Change, rest: list[str]) -> Response:
        if not rest:
            if self.method == "GET":
                return self.json(
                    [render.reviewer_info(self.sb, change, a) for a in change.reviewers]
                )
            self.only("POST")
            user = self.require_user()
            data = self.input()
            result = people.post_reviewer(self.sb, change, user, data)
            return self.json(self._reviewer_result(change, result))
        account = self.sb.resolve_account(rest[0], self.viewer)
        if len(rest) == 1 and self.method == "GET":
            if account.id not in change.reviewers:
                raise not_found(rest[0])
            return self.json([render.reviewer_info(self.sb, change, account.id)])
        if (len(rest) == 1 and self.method == "DELETE") or (
            len(rest) == 2 and rest[1] == "delete" and self.method == "POST"
        ):
            user = self.require_user()
            people.remove_reviewer(self.sb, change, account, user)
            return Response(204, b"", None)
        raise not_found("/".join(rest))

    def _reviewer_result(self, change: Change, result: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"input": result["input"]}
        if "reviewers" in result:
            out["reviewers"] = [
                render.reviewer_info(self.sb, change, a) for a in result["reviewers"]
            ]
        if "ccs" in result:
            out["ccs"] = [render.account(self.sb, a, True) for a in result["ccs"]]
        if "removed" in result:
            out["removed"] = [render.account(self.sb, a, True) for a in result["removed"]]
        return out

    def attention(self, change: Change, rest: list[str]) -> Response:
        if not rest:
            if self.method == "GET":
                return self.json(
                    [render.attention(self.sb, e) for _, e in sorted(change.attention.items())]
                )
            self.only("POST")
            user = self.require_user()
            account = people.post_attention(self.sb, change, user, self.input())
            return self.json(render.account(self.sb, account.id, True))
        account = self.sb.resolve_account(rest[0], self.viewer)
        if (len(rest) == 1 and self.method == "DELETE") or (
            len(rest) == 2 and rest[1] == "delete" and self.method == "POST"
        ):
            self.require_user()
            people.remove_attention(self.sb, change, account)
            return Response(204, b"", None)
        raise not_found("/".join(rest))

    # -- revisions ------------------------------------------------------------------------

    def revisions(self, change: Change, ps: PatchSet, rest: list[str]) -> Response:
        if not rest:
            raise not_found(ps.sha)
        view = rest[0]
        if view == "review" and len(rest) == 1:
            if self.method == "GET":
                options = self.options(render.DETAIL_OPTIONS | {"CURRENT_REVISION"})
                return self.json(render.change_info(self.sb, change, options, self.viewer))
            self.only("POST")
            user = self.require_user()
            result = reviews.post_review(self.sb, change, ps, user, self.input())
            if "reviewers" in result:
                result["reviewers"] = {
                    key: self._reviewer_result(change, value)
                    for key, value in result["reviewers"].items()
                }
            result["change_info"] = render.change_info(self.sb, change, frozenset(), self.viewer)
            return self.json(result)
        if view == "commit" and len(rest) == 1:
            self.only("GET")
            return self.json(render.commit(self.sb, ps, include_sha=True))
        if view == "comments" and len(rest) == 1:
            self.only("GET")
            mine = [c for c in change.comments if c.patch_set == ps.number]
            return self.json(render.comments_by_path(self.sb, mine, include_ps=False))
        if view == "files":
            self.only("GET")
            return self.files(change, ps, rest[1:])
        raise not_found("/".join(rest))

    def files(self, change: Change, ps: PatchSet, rest: list[str]) -> Response:
        if not rest:
            base = None
            base_text = self.param("base")
            parent_text = self.param("parent")
            if base_text and parent_text:
                raise RestError(400, "cannot specify base and parent")
            if base_text:
                base = self.sb.resolve_revision(change, base_text)
            elif parent_text and parent_text != "1":
                raise RestError(400, f"invalid parent number: {parent_text}")
            return self.json(render.files(self.sb, change, ps, base))
        path = rest[0]
        if len(rest) == 2 and rest[1] == "content":
            return self.content(ps, path)
        raise not_found("/".join(rest))

    def content(self, ps: PatchSet, path: str) -> Response:
        parent = self.param("parent")
        if path == COMMIT_MSG:
            data = render.commit_msg_text(self.sb, ps).encode() if not parent else b""
            if parent:
                raise not_found(path)
        else:
            tree = ps.parent_files if parent else ps.files
            if parent and parent != "1":
                raise RestError(400, f"invalid parent number: {parent}")
            if path not in tree and any(p.startswith(path.rstrip("/") + "/") for p in tree):
                raise RestError(400, "cannot retrieve content of directories")
            if path not in tree:
                raise not_found(path)
            data = tree[path]
            limit = self.sb.max_file_size_download
            if limit > 0 and len(data) > limit:
                raise RestError(
                    400,
                    f"File too big. File size: {len(data)} bytes. Max file size: {limit} bytes.",
                )
        accept = (self.headers.get("Accept") or "").strip()
        if accept == "application/json":
            # Gerrit answers a JSON string when the client asks for exactly JSON.
            response = json_response(data.decode("utf-8", errors="replace"))
            response.headers["X-FYI-Content-Encoding"] = "json"
        else:
            response = Response(200, base64.b64encode(data), "text/plain; charset=ISO-8859-1")
            response.headers["X-FYI-Content-Encoding"] = "base64"
        response.headers["X-FYI-Content-Type"] = _mime(path, data)
        return response


def _mime(path: str, data: bytes) -> str:
    if b"\0" in data[:8000]:
        return "application/octet-stream"
    if path.endswith((".yaml", ".yml")):
        return "text/x-yaml"
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "text/plain"


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
        pause = sandbox._pending_delay()
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
