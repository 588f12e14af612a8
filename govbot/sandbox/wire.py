"""What the sandbox puts on the wire: Gerrit's JSON and plain-text answers, the request log.

Gerrit's protocol habits (Gerrit's rest-api.html: output format, authentication): ``)]}'``
before JSON, plain-text
error bodies ending in a newline; the fault control answers JSON without the prefix, since
it is the sandbox's own API.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field

JSON_TYPE = "application/json; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=UTF-8"
REALM = 'Basic realm="Gerrit Code Review"'


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


def plain_json(data: object, status: int = 200) -> Response:
    """JSON without Gerrit's XSSI prefix: the fault control is the sandbox's own API."""
    return Response(status, (json.dumps(data, indent=2) + "\n").encode(), JSON_TYPE)


def text_response(status: int, message: str) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode(), TEXT_TYPE)


def mime_type(path: str, data: bytes) -> str:
    """``X-FYI-Content-Type`` of a file's content."""
    if b"\0" in data[:8000]:
        return "application/octet-stream"
    if path.endswith((".yaml", ".yml")):
        return "text/x-yaml"
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "text/plain"
