"""How the Gerrit client talks: one request path with timeouts, bounded retries and typed errors.

:class:`GerritTransport` owns the policies of ``client.py``'s docstring that are not
about any one REST call (Gerrit's rest-api.html):

* **Time.** Every request carries ``timeout``.
* **Retries.** pygerrit2's own urllib3 retry is replaced by an adapter that never retries,
  so the only retries are the ones here, bounded and logged: reads (and the idempotent
  writes: reviewers, attention set) are retried on 5xx, 429, timeouts and connection
  errors, ``retries`` times, with exponential back-off and jitter. A non-idempotent
  write (a review) is retried only when the connection failed *before* the request was
  sent; a timeout or 5xx after sending may mean Gerrit applied it, which the raised
  :class:`~govbot.gerrit.errors.GerritUnavailable` says (``maybe_applied``).
* **Errors** map to the family of ``errors.py``: 401/403 ``GerritAuthError`` (one line
  naming the account and the URL), 404 ``GerritNotFound``, 409 ``ChangeClosed`` or
  ``GerritConflict``, 400 ``GerritBadRequest`` (logged with Gerrit's body, never
  retried), 5xx/timeouts ``GerritUnavailable``.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import quote, unquote, urlsplit

import requests
from pygerrit2 import Anonymous, GerritRestAPI, HTTPBasicAuth
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, NewConnectionError

import govbot
from govbot.errors import ConfigError
from govbot.gerrit.auth import NoAuth, resolve_credentials
from govbot.gerrit.bounded import bounded_get
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.errors import (
    ChangeClosed,
    GerritAuthError,
    GerritBadRequest,
    GerritConflict,
    GerritDataError,
    GerritNotFound,
    GerritRequestError,
    GerritUnavailable,
)
from govbot.gerrit.scalars import strip_xssi
from govbot.redact import redact_url

# The client's logger, by the name operators' logging configuration already uses.
LOG = logging.getLogger("govbot.gerrit.client")

ChangeRef = int | str | ChangeInfo
# Statuses worth asking again: the server or a proxy in front of it is down or busy.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0  # seconds; also caps a server's Retry-After
_BODY_LIMIT = 2000  # characters of an error body kept in messages and logs
# Gerrit's 409 bodies for a closed change ("change is closed", "change is merged" ...).
_CLOSED = re.compile(r"\b(closed|merged|abandoned)\b", re.IGNORECASE)


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


@dataclass(frozen=True)
class _Request:
    """What a failed attempt's message names: the call, and the change it was about."""

    verb: str
    endpoint: str
    label: str  # the change, "-" when the call is about none
    idempotent: bool

    @property
    def change(self) -> str | None:
        return None if self.label == "-" else self.label


class GerritTransport:
    """One Gerrit server's REST API: the account, the session, and the one request path."""

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
        username, password, self.auth_source = resolve_credentials(
            base, parts, username, password, netrc_file
        )
        self.username: str | None = username or None
        # pygerrit2 retries GETs itself (urllib3 Retry, 5 times); ours are the only retries.
        adapter = HTTPAdapter(max_retries=0)
        auth = HTTPBasicAuth(username, password) if username else Anonymous()
        self._rest = GerritRestAPI(base, auth=auth, adapter=adapter)
        # Say who is calling (as Zuul does): operators can tell govbot in their logs.
        self._rest.session.headers["User-Agent"] = f"govbot/{govbot.__version__}"
        if not username:
            self._rest.kwargs["auth"] = NoAuth()
        self._sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        self._rest.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def authenticated(self) -> bool:
        return self.username is not None

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
        request = _Request(
            method.upper(),
            endpoint,
            change_label(change) if change is not None else "-",
            idempotent,
        )
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
            LOG.debug("%s %s change=%s attempt=%d", request.verb, endpoint, request.label, attempt)
            try:
                return send(endpoint, return_response=True, **kwargs)
            except requests.HTTPError as error:
                self._http_failed(request, error, attempt, attempts)
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema,
            ) as error:
                raise ConfigError(f"bad Gerrit URL {self.url}: {error}") from None
            except requests.RequestException as error:
                self._transport_failed(request, error, attempt, attempts)
            except ValueError as error:  # pygerrit2: a JSON body that does not parse
                raise GerritDataError(
                    f"{request.verb} {self.url}{endpoint}: Gerrit sent malformed JSON ({error})"
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _http_failed(
        self, request: _Request, error: requests.HTTPError, attempt: int, attempts: int
    ) -> None:
        """Pause before the next attempt when an error status is worth retrying; else raise."""
        response = error.response
        if response is None:  # pragma: no cover - requests always attaches it
            raise error
        status = response.status_code
        if status not in RETRY_STATUSES and status < 500:
            raise self._refused(request, response) from None
        if request.idempotent and attempt < attempts:
            self._pause(request, attempt, attempts, f"HTTP {status}", response)
            return
        raise self._unavailable(
            request,
            f"HTTP {status}: {_short(response.text)}",
            attempt,
            maybe_applied=not request.idempotent and status != 429,
            status=status,
            body=response.text,
        ) from None

    def _transport_failed(
        self, request: _Request, error: requests.RequestException, attempt: int, attempts: int
    ) -> None:
        """Pause before the next attempt when the request may be sent again; else raise."""
        unsent = _sent_nothing(error)
        reason = _transport_reason(error)
        if (request.idempotent or unsent) and attempt < attempts:
            self._pause(request, attempt, attempts, reason, None)
            return
        raise self._unavailable(
            request, reason, attempt, maybe_applied=not request.idempotent and not unsent
        ) from None

    def _pause(
        self,
        request: _Request,
        attempt: int,
        attempts: int,
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
            request.verb,
            request.endpoint,
            reason,
            request.label,
            attempt,
            attempts - 1,
            delay,
        )
        self._sleep(delay)

    def _unavailable(
        self,
        request: _Request,
        reason: str,
        attempts: int,
        *,
        maybe_applied: bool,
        status: int | None = None,
        body: str = "",
    ) -> GerritUnavailable:
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        message = (
            f"Gerrit at {self.url} unavailable: {request.verb} {request.endpoint} "
            f"failed after {tries} ({reason})"
        )
        if maybe_applied:
            message += "; the request may have been applied: look for its message tag before sending it again"
        LOG.warning("%s change=%s", message, request.label)
        return GerritUnavailable(
            message,
            attempts=attempts,
            maybe_applied=maybe_applied,
            status=status,
            body=body,
            method=request.verb,
            endpoint=request.endpoint,
            change=request.change,
        )

    def _refused(self, request: _Request, response: requests.Response) -> GerritRequestError:
        """The error for a status Gerrit will answer the same way again (never retried)."""
        status = response.status_code
        body = response.text or ""
        reason = _short(strip_xssi(body)) or response.reason or ""
        verb, endpoint, label = request.verb, request.endpoint, request.label
        common: dict[str, Any] = {
            "status": status,
            "body": body,
            "method": verb,
            "endpoint": endpoint,
            "change": request.change,
        }
        if status in (401, 403):
            message = self._auth_message(request, status, reason)
            LOG.error("%s change=%s", message, label)
            return GerritAuthError(message, **common)
        if status == 404:
            LOG.debug("%s %s change=%s: not found (%s)", verb, endpoint, label, reason)
            return GerritNotFound(f"Gerrit at {self.url}: {reason} ({verb} {endpoint})", **common)
        if status == 409:
            return _conflict(request, reason, common)
        if status == 400:
            return self._bad_request(request, reason, response, common)
        LOG.warning("%s %s change=%s: HTTP %d: %s", verb, endpoint, label, status, reason)
        return GerritRequestError(
            f"Gerrit at {self.url}: {verb} {endpoint} failed (HTTP {status}): {reason}", **common
        )

    def _auth_message(self, request: _Request, status: int, reason: str) -> str:
        """One line for a 401 or 403 that names the account and where it came from."""
        if status == 403:
            account = f"account {self.username!r}" if self.username else "anonymous access"
            return (
                f"Gerrit at {self.url} refused {request.verb} {request.endpoint} for {account} "
                f"(HTTP 403): {reason}"
            )
        if self.username:
            return (
                f"Gerrit at {self.url} rejected the credentials of account {self.username!r} "
                f"(HTTP 401); check its HTTP password ({self.auth_source})"
            )
        return (
            f"Gerrit at {self.url} requires authentication (HTTP 401) and govbot has no "
            "account: set GOVBOT_GERRIT_USERNAME and GOVBOT_GERRIT_PASSWORD or add a "
            "netrc entry"
        )

    def _bad_request(
        self,
        request: _Request,
        reason: str,
        response: requests.Response,
        common: dict[str, Any],
    ) -> GerritBadRequest:
        LOG.warning(
            "Gerrit rejected %s %s change=%s (HTTP 400): %s",
            request.verb,
            request.endpoint,
            request.label,
            reason,
        )
        json_body = None
        if "application/json" in response.headers.get("Content-Type", ""):
            try:
                json_body = json.loads(strip_xssi(common["body"]))
            except ValueError:
                json_body = None
        if isinstance(json_body, Mapping) and json_body.get("error"):
            reason = str(json_body["error"])
        return GerritBadRequest(
            f"Gerrit at {self.url} rejected {request.verb} {request.endpoint} (HTTP 400): {reason}",
            json_body=json_body,
            **common,
        )


def _conflict(request: _Request, reason: str, common: dict[str, Any]) -> GerritConflict:
    # 409 also means maxUpdates reached or a vote refused after submit: only a body
    # about a closed change is "closed" (gerrit-fidelity #11).
    verb, endpoint, label = request.verb, request.endpoint, request.label
    if _CLOSED.search(reason):
        LOG.info("%s %s change=%s: closed (%s)", verb, endpoint, label, reason)
        return ChangeClosed(f"change {label}: {reason} (HTTP 409)", **common)
    LOG.warning("%s %s change=%s: conflict (HTTP 409): %s", verb, endpoint, label, reason)
    return GerritConflict(f"change {label}: {reason} (HTTP 409)", **common)


def _sent_nothing(error: requests.RequestException) -> bool:
    """Whether the request certainly never reached the server (connecting failed)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError) and error.args:
        reason = error.args[0]
        return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)
    return False


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


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "..."
