"""The Gerrit REST client: pygerrit2 with explicit auth, timeouts, bounded retries, typed results.

Everything govbot asks Gerrit goes through :class:`GerritClient`. It owns the policies that
research/gerrit.md §7 asks for, so callers do not repeat them:

* **Auth.** Explicit username and HTTP password (``from_settings`` passes
  ``GOVBOT_GERRIT_USERNAME`` / ``GOVBOT_GERRIT_PASSWORD``), else the netrc entry for the
  host (``netrc_file``, ``$NETRC`` or ``~/.netrc``), else anonymous. Authenticated calls go
  to ``/a/...`` with HTTP Basic; anonymous ones to the plain paths. The password is never
  logged, never put in an exception and never kept outside the ``requests`` auth object.
* **Time.** Every request carries ``timeout``.
* **Retries.** pygerrit2's own urllib3 retry is replaced by an adapter that never retries,
  so the only retries are the ones here, bounded and logged: reads (and the idempotent
  writes: reviewers, attention set) are retried on 5xx, 429, timeouts and connection
  errors, ``retries`` times, with exponential back-off and jitter. A review (``POST
  .../review``) is retried only when the connection failed *before* the request was
  sent; a timeout or 5xx after sending may mean Gerrit applied it, which the raised
  :class:`GerritUnavailable` says (``maybe_applied``) so the caller reconciles by the
  message tag instead of posting twice.
* **Errors** map to one small family (all :class:`~govbot.errors.GerritError`): 401/403
  :class:`GerritAuthError` (one line naming the account and the URL), 404
  :class:`GerritNotFound`, 409 :class:`ChangeClosed`, 400 :class:`GerritBadRequest`
  (logged with Gerrit's body, never retried), 5xx/timeouts :class:`GerritUnavailable`.

One client may be shared by threads (``requests.Session`` pools connections per host).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import netrc
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests
from pygerrit2 import Anonymous, GerritRestAPI, HTTPBasicAuth
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

import govbot
from govbot.errors import ConfigError, GerritError
from govbot.gerrit.accounts import AccountInfo
from govbot.gerrit.bounded import ContentTooLarge, bounded_get, encoded_limit
from govbot.gerrit.changes import ChangeInfo, parse_change_list
from govbot.gerrit.errors import GerritDataError
from govbot.gerrit.reviews import AttentionSetInfo, ChangeMessageInfo, CommentInfo
from govbot.gerrit.revisions import FileInfo, parse_file_map
from govbot.gerrit.scalars import strip_xssi
from govbot.redact import redact_url

LOG = logging.getLogger(__name__)

ChangeRef = int | str | ChangeInfo
# Statuses worth asking again: the server or a proxy in front of it is down or busy.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0  # seconds; also caps a server's Retry-After
_BODY_LIMIT = 2000  # characters of an error body kept in messages and logs
# Gerrit's 409 bodies for a closed change ("change is closed", "change is merged" ...).
_CLOSED = re.compile(r"\b(closed|merged|abandoned)\b", re.IGNORECASE)


# --- errors --------------------------------------------------------------------------------


class GerritRequestError(GerritError):
    """A request Gerrit answered with an error status (or could not answer at all).

    ``status`` is the HTTP status (``None`` when no response arrived), ``body`` Gerrit's
    plain-text (or JSON) explanation, ``change`` the change the call was about, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str = "",
        method: str = "",
        endpoint: str = "",
        change: object = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.method = method
        self.endpoint = endpoint
        self.change = change


class GerritAuthError(GerritRequestError):
    """401/403: the account's credentials were rejected, or it may not do this."""


class GerritNotFound(GerritRequestError):
    """404: no such change, revision, file, account or group (or not visible to us)."""


class GerritConflict(GerritRequestError):
    """409 for another reason than a closed change: ``change.maxUpdates`` reached, a vote
    refused after submit ... (``body`` says which)."""


class ChangeClosed(GerritConflict):
    """409: the change is merged or abandoned; end this attempt quietly."""


class GerritBadRequest(GerritRequestError):
    """400: Gerrit refused the input. ``json`` holds a JSON error body (reviewer errors)."""

    def __init__(self, message: str, *, json_body: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.json = json_body


class GerritUnavailable(GerritRequestError):
    """5xx, 429, timeouts or connection failures, after the bounded retries.

    ``maybe_applied`` is true when a non-idempotent write (a review) reached Gerrit and
    its outcome is unknown: the caller must look for its message tag before posting again.
    """

    def __init__(self, message: str, *, attempts: int, maybe_applied: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.attempts = attempts
        self.maybe_applied = maybe_applied


# --- helpers -------------------------------------------------------------------------------


def change_key(change: ChangeRef) -> str:
    """The URL path segment naming ``change``: ``project~number`` (encoded) or a number.

    Strings are accepted encoded or not (``api%2Fspecs~12`` and ``api/specs~12`` are one).
    """
    if isinstance(change, ChangeInfo):
        return quote(f"{change.project}~{change.number}", safe="~")
    if isinstance(change, bool):
        raise TypeError(f"not a change: {change!r}")
    if isinstance(change, int):
        return str(change)
    return quote(unquote(str(change)), safe="~")


def change_label(change: ChangeRef) -> str:
    """How logs name a change: its number when known."""
    if isinstance(change, ChangeInfo):
        return str(change.number)
    return unquote(str(change))


def _segment(value: object) -> str:
    return quote(str(value), safe="")


def _sent_nothing(error: requests.RequestException) -> bool:
    """Whether the request certainly never reached the server (connecting failed)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        reason = error.args[0]
        return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)
    return False


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "..."


class _NoAuth(requests.auth.AuthBase):
    """Anonymous for real: stops ``requests`` from picking a netrc entry on its own."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def netrc_credentials(
    url: str, netrc_file: str | os.PathLike[str] | None = None
) -> tuple[str, str] | None:
    """(login, password) of the netrc entry for ``url``'s host, or None.

    The file is ``netrc_file``, else ``$NETRC``, else ``~/.netrc``. A file that was named
    explicitly must exist; a malformed file is a ConfigError naming the file (never its text).
    """
    explicit = netrc_file is not None
    path = Path(netrc_file) if netrc_file is not None else None
    if path is None and os.environ.get("NETRC"):
        path, explicit = Path(os.environ["NETRC"]), True
    if path is None:
        path = Path(os.path.expanduser("~")) / ".netrc"
    if not path.is_file():
        if explicit:
            raise ConfigError(f"{path}: no such netrc file")
        return None
    try:
        entries = netrc.netrc(str(path))
    except netrc.NetrcParseError as error:
        # The parser's own message may quote a token (a password): say only where.
        raise ConfigError(f"{path}: malformed netrc file (line {error.lineno})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    host = urlsplit(url).hostname or ""
    found = entries.authenticators(host)
    if found is None:
        return None
    login, _account, password = found
    if not login or not password:
        return None
    return login, password


# --- the client ----------------------------------------------------------------------------


class GerritClient:
    """Typed, bounded access to one Gerrit server's REST API."""

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        netrc_file: str | None = None,
    ) -> None:
        if not url:
            raise ConfigError("no Gerrit URL: set GOVBOT_GERRIT_URL")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"Gerrit URL must be http(s)://HOST[/PATH], not {redact_url(url)!r}")
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        if self.timeout <= 0:
            raise ConfigError(f"Gerrit timeout must be positive, not {timeout}")
        if self.retries < 0:
            raise ConfigError(f"Gerrit retries cannot be negative, not {retries}")
        # The base URL requests go to: the user information is taken apart below.
        base = redact_url(url, keep_user=False).rstrip("/")
        if base.endswith("/a"):
            base = base[:-2]
        self.url = base + "/"
        self.auth_source = "explicit credentials"
        if parts.username and not username:  # https://user:password@host/
            username, password = unquote(parts.username), unquote(parts.password or "") or None
            self.auth_source = "the Gerrit URL"
        if password and not username:
            raise ConfigError(f"a Gerrit password was given without a username for {self.url}")
        if username and not password:
            found = netrc_credentials(base, netrc_file)
            if found is None or found[0] != username:
                raise ConfigError(
                    f"no HTTP password for Gerrit account {username!r} at {self.url}: "
                    "set GOVBOT_GERRIT_PASSWORD or add a netrc entry"
                )
            password = found[1]
            self.auth_source = "netrc"
        elif not username:
            found = netrc_credentials(base, netrc_file)
            if found is not None:
                username, password = found
                self.auth_source = "netrc"
            else:
                self.auth_source = "anonymous"
        self.username: str | None = username or None
        # pygerrit2 retries GETs itself (urllib3 Retry, 5 times); ours are the only retries.
        adapter = HTTPAdapter(max_retries=0)
        auth = HTTPBasicAuth(username, password) if username else Anonymous()
        self._rest = GerritRestAPI(base, auth=auth, adapter=adapter)
        # Say who is calling (as Zuul does): operators can tell govbot in their logs.
        self._rest.session.headers["User-Agent"] = f"govbot/{govbot.__version__}"
        if not username:
            self._rest.kwargs["auth"] = _NoAuth()
        self._sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls, settings: Any) -> GerritClient:
        """A client for ``settings.gerrit_url`` with the settings' account (else netrc)."""
        options: dict[str, Any] = {}
        for name, option in (
            ("gerrit_timeout", "timeout"),
            ("gerrit_retries", "retries"),
            ("gerrit_backoff", "backoff"),
            ("gerrit_netrc_file", "netrc_file"),
        ):
            value = getattr(settings, name, None)
            if value not in (None, ""):
                options[option] = value
        client = cls(
            getattr(settings, "gerrit_url", "") or "",
            getattr(settings, "gerrit_username", "") or None,
            getattr(settings, "gerrit_password", "") or None,
            **options,
        )
        if client.auth_source == "explicit credentials":
            client.auth_source = "GOVBOT_GERRIT_USERNAME / GOVBOT_GERRIT_PASSWORD"
        return client

    def __repr__(self) -> str:
        return f"GerritClient({self.url!r}, username={self.username!r})"

    def close(self) -> None:
        self._rest.session.close()

    def __enter__(self) -> GerritClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def authenticated(self) -> bool:
        return self.username is not None

    # -- server and accounts --------------------------------------------------------------

    def version(self) -> str:
        """The server's version string (``GET /config/server/version``), e.g. ``3.9.1``."""
        data = self._json("get", "config/server/version")
        if not isinstance(data, str):
            raise GerritDataError(f"version: expected a string, got {type(data).__name__}")
        return data

    def account(self, account: str = "self") -> AccountInfo:
        """One account (``self``: the bot itself; learn its id at start-up)."""
        return AccountInfo.from_json(self._json("get", f"accounts/{_segment(account)}"))

    def group_members(self, group: str, *, recursive: bool = True) -> list[AccountInfo]:
        """Members of a group (name or UUID), subgroups expanded unless ``recursive=False``."""
        params = {"recursive": ""} if recursive else None
        data = self._json("get", f"groups/{_segment(group)}/members/", params=params)
        return [AccountInfo.from_json(item) for item in _as_list(data, "group members")]

    def project_exists(self, project: str) -> bool:
        """Whether ``project`` exists and is visible to the bot (``GET /projects/{name}``)."""
        try:
            self._json("get", f"projects/{_segment(project)}")
        except GerritNotFound:
            return False
        return True

    # -- queries and changes --------------------------------------------------------------

    def query(
        self, q: str, *, options: Sequence[str] = (), limit: int = 500, start: int = 0
    ) -> tuple[list[ChangeInfo], bool]:
        """One page of ``q``: the changes and whether Gerrit has more (``_more_changes``)."""
        params: dict[str, Any] = {"q": q, "n": limit}
        if start:
            params["S"] = start
        if options:
            params["o"] = list(options)
        changes = parse_change_list(self._json("get", "changes/", params=params))
        return changes, bool(changes and changes[-1].more_changes)

    def query_all(
        self,
        q: str,
        *,
        options: Sequence[str] = (),
        page_size: int = 500,
        max_changes: int | None = None,
    ) -> Iterator[ChangeInfo]:
        """Every change matching ``q``, page by page (``S=``) until ``_more_changes`` ends.

        A change that moves between pages while paging (it was updated) is yielded once.
        """
        seen: set[int] = set()
        start = 0
        while True:
            page, more = self.query(q, options=options, limit=page_size, start=start)
            for change in page:
                if change.number in seen:
                    continue
                seen.add(change.number)
                yield change
                if max_changes is not None and len(seen) >= max_changes:
                    return
            if not more or not page:
                return
            start += len(page)

    def change(self, change: ChangeRef, *, options: Sequence[str] = ()) -> ChangeInfo:
        """``GET /changes/{id}`` with output ``options`` (``CURRENT_REVISION``, ``MESSAGES``...)."""
        params = {"o": list(options)} if options else None
        data = self._json("get", f"changes/{change_key(change)}", params=params, change=change)
        return ChangeInfo.from_json(_as_mapping(data, "change"))

    def files(
        self, change: ChangeRef, revision: str = "current", *, parent: int | None = None
    ) -> dict[str, FileInfo]:
        """The files a revision changed (magic ``/COMMIT_MSG``, ``/MERGE_LIST`` included),
        against its ``parent``-th parent when given (merge commits), else Gerrit's default."""
        params = {"parent": parent} if parent is not None else None
        data = self._json(
            "get",
            f"changes/{change_key(change)}/revisions/{_segment(revision)}/files/",
            params=params,
            change=change,
        )
        return dict(parse_file_map(_as_mapping(data, "files")))

    def content(
        self,
        change: ChangeRef,
        revision: str,
        path: str,
        *,
        parent: bool = False,
        encoding: str = "base64",
        max_bytes: int | None = None,
    ) -> bytes:
        """The bytes of ``path`` at ``revision`` (at its first parent with ``parent=True``).

        With ``max_bytes`` the body is read in chunks and never past the encoded length
        of ``max_bytes`` bytes: a longer file raises :class:`ContentTooLarge` without being
        held whole in memory.

        Gerrit answers base64 text by default and a JSON string when the request's
        ``Accept`` is exactly ``application/json`` (which pygerrit2 sends). Both are
        decoded; base64 is asked for (``encoding="base64"``) because it keeps the exact
        bytes, while the JSON form has already decoded them as UTF-8.
        Raises :class:`GerritNotFound` when the file is absent on that side.
        """
        if encoding not in ("base64", "json"):
            raise ValueError(f"encoding must be base64 or json, not {encoding!r}")
        endpoint = (
            f"changes/{change_key(change)}/revisions/{_segment(revision)}"
            f"/files/{_segment(path)}/content"
        )
        # Anything but exactly application/json selects the base64 form.
        headers = {"Accept": "*/*" if encoding == "base64" else "application/json"}
        params = {"parent": 1} if parent else None
        limit = None if max_bytes is None else encoded_limit(max_bytes, encoding)
        data, response = self._call(
            "get", endpoint, params=params, headers=headers, change=change, body_limit=limit
        )
        if limit is not None and max_bytes is not None:
            if len(data) > limit:
                raise ContentTooLarge(path, None, max_bytes)
            data = _decoded_body(data, response)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        form = response.headers.get("X-FYI-Content-Encoding") or (
            "json" if content_type == "application/json" else "base64"
        )
        LOG.debug(
            "content change=%s revision=%s path=%s parent=%s encoding=%s",
            change_label(change),
            revision,
            path,
            parent,
            form,
        )
        if content_type == "application/json":
            if not isinstance(data, str):
                raise GerritDataError(f"{path}: content is not a JSON string")
            return data.encode("utf-8")
        raw = data if isinstance(data, bytes) else str(data or "").encode("latin-1")
        try:
            decoded = base64.b64decode(raw.translate(None, b" \t\r\n"), validate=True)
        except (binascii.Error, ValueError):
            raise GerritDataError(f"{path}: content is neither base64 nor JSON") from None
        if max_bytes is not None and len(decoded) > max_bytes:
            raise ContentTooLarge(path, len(decoded), max_bytes)
        return decoded

    def messages(self, change: ChangeRef) -> list[ChangeMessageInfo]:
        """The change's messages, oldest first (each with its ``tag``)."""
        data = self._json("get", f"changes/{change_key(change)}/messages", change=change)
        return [ChangeMessageInfo.from_json(m) for m in _as_list(data, "messages")]

    def comments(self, change: ChangeRef) -> dict[str, list[CommentInfo]]:
        """Published comments of every revision, by path (each carries its ``patch_set``)."""
        data = _as_mapping(
            self._json("get", f"changes/{change_key(change)}/comments", change=change),
            "comments",
        )
        return {
            path: [CommentInfo.from_json(item, path) for item in _as_list(items, path)]
            for path, items in data.items()
        }

    def attention(self, change: ChangeRef) -> list[AttentionSetInfo]:
        """The change's attention set."""
        data = self._json("get", f"changes/{change_key(change)}/attention", change=change)
        return [AttentionSetInfo.from_json(item) for item in _as_list(data, "attention set")]

    # -- writes ---------------------------------------------------------------------------

    def review(
        self, change: ChangeRef, revision: str, review_input: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Post a ReviewInput on ``revision`` (a SHA, to pin the patch set); the ReviewResult.

        Not retried once the request may have reached Gerrit: a failure then raises
        :class:`GerritUnavailable` with ``maybe_applied=True``.
        """
        endpoint = f"changes/{change_key(change)}/revisions/{_segment(revision)}/review"
        data = self._json(
            "post", endpoint, json=dict(review_input), change=change, idempotent=False
        )
        return dict(_as_mapping(data, "review result"))

    def add_reviewer(
        self, change: ChangeRef, account: str, *, state: str = "REVIEWER"
    ) -> dict[str, Any]:
        """Add ``account`` (or a group) as ``REVIEWER`` or ``CC``; the ReviewerResult.

        Gerrit reports a refused reviewer as a 400 with a JSON body, or (older docs) a
        200 whose body has ``error``/``confirm``; both raise :class:`GerritBadRequest`.
        """
        endpoint = f"changes/{change_key(change)}/reviewers"
        # Adding someone who is already a reviewer changes nothing: safe to retry.
        data = _as_mapping(
            self._json("post", endpoint, json={"reviewer": account, "state": state}, change=change),
            "reviewer result",
        )
        if data.get("error") or data.get("confirm"):
            message = str(data.get("error") or "confirmation needed")
            LOG.warning(
                "Gerrit refused reviewer %s change=%s: %s", account, change_label(change), message
            )
            raise GerritBadRequest(
                f"Gerrit refused reviewer {account!r} on change {change_label(change)}: {message}",
                status=200,
                body=json.dumps(data),
                json_body=data,
                method="POST",
                endpoint=endpoint,
                change=change_label(change),
            )
        return dict(data)

    def add_attention(self, change: ChangeRef, account: str, reason: str) -> None:
        """Put ``account`` in the attention set (already there: nothing changes)."""
        self._json(
            "post",
            f"changes/{change_key(change)}/attention",
            json={"user": account, "reason": reason},
            change=change,
        )

    def remove_attention(self, change: ChangeRef, account: str, reason: str) -> None:
        """Take ``account`` out of the attention set (absent: nothing changes)."""
        # POST .../delete is Gerrit's form of DELETE that carries a body (the reason).
        self._json(
            "post",
            f"changes/{change_key(change)}/attention/{_segment(account)}/delete",
            json={"reason": reason},
            change=change,
        )

    # -- the one request path -------------------------------------------------------------

    def _json(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        data, response = self._call(method, endpoint, **kwargs)
        if response.status_code == 204 or data in ("", b""):
            return None
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/json":
            raise GerritDataError(
                f"{method.upper()} {self.url}{endpoint}: expected JSON, got {content_type or 'no content type'}"
            )
        return data

    def _call(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        change: ChangeRef | None = None,
        idempotent: bool = True,
        body_limit: int | None = None,
    ) -> tuple[Any, requests.Response]:
        """Send one request with the retry policy; (decoded body, response) or an error.

        With ``body_limit`` (a GET) the body is the raw bytes, at most one past the limit.
        """
        label = change_label(change) if change is not None else "-"
        verb = method.upper()
        kwargs: dict[str, Any] = {"timeout": self.timeout}
        if params:
            kwargs["params"] = dict(params)
        if json is not None:
            kwargs["json"] = json
        if headers:
            kwargs["headers"] = dict(headers)
        send = (
            getattr(self._rest, method)
            if body_limit is None
            else bounded_get(self._rest, body_limit)
        )
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            LOG.debug("%s %s change=%s attempt=%d", verb, endpoint, label, attempt)
            try:
                return send(endpoint, return_response=True, **kwargs)
            except requests.HTTPError as error:
                response = error.response
                if response is None:  # pragma: no cover - requests always attaches it
                    raise
                status = response.status_code
                if status in RETRY_STATUSES or status >= 500:
                    if idempotent and attempt < attempts:
                        self._pause(
                            attempt, attempts, verb, endpoint, label, f"HTTP {status}", response
                        )
                        continue
                    raise self._unavailable(
                        verb,
                        endpoint,
                        label,
                        f"HTTP {status}: {_short(response.text)}",
                        attempt,
                        maybe_applied=not idempotent and status != 429,
                        status=status,
                        body=response.text,
                    ) from None
                raise self._refused(verb, endpoint, label, response) from None
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema,
            ) as error:
                raise ConfigError(f"bad Gerrit URL {self.url}: {error}") from None
            except requests.RequestException as error:
                unsent = _sent_nothing(error)
                reason = _transport_reason(error)
                if (idempotent or unsent) and attempt < attempts:
                    self._pause(attempt, attempts, verb, endpoint, label, reason, None)
                    continue
                raise self._unavailable(
                    verb,
                    endpoint,
                    label,
                    reason,
                    attempt,
                    maybe_applied=not idempotent and not unsent,
                ) from None
            except ValueError as error:  # pygerrit2: a JSON body that does not parse
                raise GerritDataError(
                    f"{verb} {self.url}{endpoint}: Gerrit sent malformed JSON ({error})"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(
        self,
        attempt: int,
        attempts: int,
        verb: str,
        endpoint: str,
        label: str,
        reason: str,
        response: requests.Response | None,
    ) -> None:
        delay = min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1))
        delay = delay / 2 + random.uniform(0, delay / 2)  # jitter: callers do not stampede
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(MAX_BACKOFF, float(retry_after)))
        LOG.warning(
            "Gerrit %s %s failed (%s) change=%s; retry %d of %d in %.2fs",
            verb,
            endpoint,
            reason,
            label,
            attempt,
            attempts - 1,
            delay,
        )
        self._sleep(delay)

    def _unavailable(
        self,
        verb: str,
        endpoint: str,
        label: str,
        reason: str,
        attempts: int,
        *,
        maybe_applied: bool,
        status: int | None = None,
        body: str = "",
    ) -> GerritUnavailable:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        message = (
            f"Gerrit at {self.url} unavailable: {verb} {endpoint} failed after {tries} ({reason})"
        )
        if maybe_applied:
            message += "; the request may have been applied: look for its message tag before sending it again"
        LOG.warning("%s change=%s", message, label)
        return GerritUnavailable(
            message,
            attempts=attempts,
            maybe_applied=maybe_applied,
            status=status,
            body=body,
            method=verb,
            endpoint=endpoint,
            change=None if label == "-" else label,
        )

    def _refused(
        self, verb: str, endpoint: str, label: str, response: requests.Response
    ) -> GerritRequestError:
        status = response.status_code
        body = response.text or ""
        reason = _short(strip_xssi(body)) or response.reason or ""
        common: dict[str, Any] = {
            "status": status,
            "body": body,
            "method": verb,
            "endpoint": endpoint,
            "change": None if label == "-" else label,
        }
        account = f"account {self.username!r}" if self.username else "anonymous access"
        if status == 401:
            if self.username:
                message = (
                    f"Gerrit at {self.url} rejected the credentials of account {self.username!r} "
                    f"(HTTP 401); check its HTTP password ({self.auth_source})"
                )
            else:
                message = (
                    f"Gerrit at {self.url} requires authentication (HTTP 401) and govbot has no "
                    "account: set GOVBOT_GERRIT_USERNAME and GOVBOT_GERRIT_PASSWORD or add a "
                    "netrc entry"
                )
            LOG.error("%s change=%s", message, label)
            return GerritAuthError(message, **common)
        if status == 403:
            message = (
                f"Gerrit at {self.url} refused {verb} {endpoint} for {account} (HTTP 403): {reason}"
            )
            LOG.error("%s change=%s", message, label)
            return GerritAuthError(message, **common)
        if status == 404:
            LOG.debug("%s %s change=%s: not found (%s)", verb, endpoint, label, reason)
            return GerritNotFound(f"Gerrit at {self.url}: {reason} ({verb} {endpoint})", **common)
        if status == 409:
            # 409 also means maxUpdates reached or a vote refused after submit: only a
            # body about a closed change is "closed" (gerrit-fidelity #11).
            if _CLOSED.search(reason):
                LOG.info("%s %s change=%s: closed (%s)", verb, endpoint, label, reason)
                return ChangeClosed(f"change {label}: {reason} (HTTP 409)", **common)
            LOG.warning("%s %s change=%s: conflict (HTTP 409): %s", verb, endpoint, label, reason)
            return GerritConflict(f"change {label}: {reason} (HTTP 409)", **common)
        if status == 400:
            LOG.warning(
                "Gerrit rejected %s %s change=%s (HTTP 400): %s", verb, endpoint, label, reason
            )
            json_body = None
            if "application/json" in response.headers.get("Content-Type", ""):
                try:
                    json_body = json.loads(strip_xssi(body))
                except ValueError:
                    json_body = None
            if isinstance(json_body, Mapping) and json_body.get("error"):
                reason = str(json_body["error"])
            return GerritBadRequest(
                f"Gerrit at {self.url} rejected {verb} {endpoint} (HTTP 400): {reason}",
                json_body=json_body,
                **common,
            )
        LOG.warning("%s %s change=%s: HTTP %d: %s", verb, endpoint, label, status, reason)
        return GerritRequestError(
            f"Gerrit at {self.url}: {verb} {endpoint} failed (HTTP {status}): {reason}", **common
        )


def _transport_reason(error: requests.RequestException) -> str:
    if isinstance(error, requests.ConnectTimeout):
        return "connect timeout"
    if isinstance(error, requests.Timeout):
        return "timeout"
    if _sent_nothing(error):
        return "connection refused or host unreachable"
    if isinstance(error, requests.ConnectionError):
        return "connection lost"
    return type(error).__name__


def _decoded_body(data: bytes, response: requests.Response) -> Any:
    """A raw body as pygerrit2 would have answered it: JSON (without Gerrit's XSSI
    prefix) parsed, anything else as bytes."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type != "application/json":
        return data
    try:
        return json.loads(strip_xssi(data.decode("utf-8")))
    except ValueError:
        raise GerritDataError(f"{redact_url(response.url)}: Gerrit sent malformed JSON") from None


def _as_mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise GerritDataError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def _as_list(data: Any, what: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise GerritDataError(f"{what}: expected a JSON list, got {type(data).__name__}")
    return data
