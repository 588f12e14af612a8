"""Error answers: one JSON shape under ``/api``, one line of plain text everywhere else.

Every error the JSON API can answer, raised by a view or by routing (404 for an unknown
path, 405 for another method, with ``Allow``), an oversized body (413), a limit (429,
with ``Retry-After``) or a failure (500), has the API-SIG shape the description gives
(``components/schemas/errors``). Pages and the webhook answer one line of text (what
Gerrit's webhooks plugin logs). Never an HTML error page, never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

LOG = logging.getLogger(__name__)

API_PREFIX = "/api"
JSON_CACHE = "no-cache"
# Headers an error keeps from werkzeug's exception (RFC 9110: 405 needs Allow).
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiError(Exception):
    """An error of the JSON API: its status, code (``govbot.query.invalid``) and text."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def api_error(status: int, code: str, title: str, detail: str, headers: Any = ()) -> Response:
    """The JSON API's error answer (the description's ``errors`` schema)."""
    body = {
        "errors": [
            {
                "code": code,
                "status": status,
                "title": title,
                "detail": detail,
                "links": [{"rel": "help", "href": url_for("api_v1.list_versions", _external=True)}],
            }
        ]
    }
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = JSON_CACHE
    for name, value in headers:
        response.headers[name] = value
    return response


def text_response(status: int, message: str) -> Response:
    """A one-line plain-text answer (what Gerrit's webhooks plugin logs on failure)."""
    return Response(message.rstrip("\n") + "\n", status, mimetype="text/plain")


def _kept(error: HTTPException) -> list[tuple[str, str]]:
    return [(k, v) for k, v in error.get_headers() if k in KEPT_HEADERS]


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if is_api_request():
        detail = error.description or error.name
        return api_error(status, f"govbot.http.{status}", error.name, detail, _kept(error))
    response = text_response(status, f"{status} {error.name}: {error.description}")
    response.headers.extend(_kept(error))
    return response


def _api_error(error: ApiError) -> Response:
    return api_error(error.status, error.code, error.title, error.detail)


def _internal_error(error: Exception) -> Response:
    LOG.exception("web request failed: %s", error)
    if is_api_request():
        return api_error(
            500, "govbot.internal", "Internal Server Error", "the server failed: see its log"
        )
    return text_response(500, "500 Internal Server Error: see govbot's log")


def register_errors(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _internal_error)


__all__ = ["ApiError", "api_error", "is_api_request", "register_errors", "text_response"]
