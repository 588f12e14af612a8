"""The Gerrit REST client: pygerrit2 with explicit auth, timeouts, bounded retries, typed results.

Everything govbot asks Gerrit goes through :class:`GerritClient`: this module holds the
REST operations (reads, then writes) and their typed results; the policies every call
shares live below it, so callers do not repeat them (Gerrit's rest-api.html):

* **Auth** (``auth.py``). Explicit username and HTTP password (``from_settings`` passes
  ``GOVBOT_GERRIT_USERNAME`` / ``GOVBOT_GERRIT_PASSWORD``), else the netrc entry for the
  host (``netrc_file``, ``$NETRC`` or ``~/.netrc``), else anonymous. Authenticated calls go
  to ``/a/...`` with HTTP Basic; anonymous ones to the plain paths. The password is never
  logged, never put in an exception and never kept outside the ``requests`` auth object.
* **Time and retries** (``transport.py``). Every request carries ``timeout``; reads and
  idempotent writes are retried on 5xx, 429, timeouts and connection errors, ``retries``
  times, with back-off and jitter. A review (``POST .../review``) is retried only when the
  connection failed *before* the request was sent; otherwise the raised
  :class:`GerritUnavailable` says ``maybe_applied`` so the caller reconciles by the message
  tag instead of posting twice.
* **Errors** (``errors.py``) map to one small family (all
  :class:`~govbot.errors.GerritError`): 401/403 :class:`GerritAuthError`, 404
  :class:`GerritNotFound`, 409 :class:`ChangeClosed`, 400 :class:`GerritBadRequest`,
  5xx/timeouts :class:`GerritUnavailable`.

One client may be shared by threads (``requests.Session`` pools connections per host).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from govbot.gerrit.accounts import AccountInfo
from govbot.gerrit.bounded import ContentTooLarge, encoded_limit
from govbot.gerrit.changes import ChangeInfo, parse_change_list
from govbot.gerrit.errors import GerritBadRequest, GerritDataError, GerritNotFound
from govbot.gerrit.reviews import AttentionSetInfo, ChangeMessageInfo, CommentInfo
from govbot.gerrit.revisions import FileInfo, parse_file_map
from govbot.gerrit.scalars import strip_xssi
from govbot.gerrit.transport import ChangeRef, GerritTransport, change_key, change_label
from govbot.redact import redact_url

LOG = logging.getLogger(__name__)


class GerritClient(GerritTransport):
    """Typed, bounded access to one Gerrit server's REST API."""

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
        return _file_bytes(path, data, content_type, max_bytes)

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


def _segment(value: object) -> str:
    return quote(str(value), safe="")


def _file_bytes(path: str, data: Any, content_type: str, max_bytes: int | None) -> bytes:
    """The file's bytes from a ``/content`` body: a JSON string (already decoded as UTF-8
    by Gerrit) or base64 text (the exact bytes)."""
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
