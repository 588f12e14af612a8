"""The typed Gerrit errors: what went wrong talking to Gerrit, one class per way.

All are :class:`~govbot.errors.GerritError`, so an edge that contains one job catches
them together; a caller that acts on the cause catches the one it means:
:class:`GerritDataError` (JSON without a field govbot needs), and for a request
(:class:`GerritRequestError`) 401/403 :class:`GerritAuthError`, 404 :class:`GerritNotFound`,
409 :class:`ChangeClosed` or :class:`GerritConflict`, 400 :class:`GerritBadRequest`,
5xx/429/timeouts :class:`GerritUnavailable`. ``transport.py`` maps a response to them.
"""

from __future__ import annotations

from typing import Any

from govbot.errors import GerritError


class GerritDataError(GerritError):
    """Gerrit sent JSON that lacks a field govbot needs, or has one of the wrong type."""


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
