"""Bounded reads of Gerrit's answers: a body is read in chunks up to a byte cap, so a file
Gerrit sends is never held in memory whole beyond the limit the policy sets
(``max_file_bytes``). pygerrit2 reads every body whole (``response.content``); the file
downloads (``/content``) go through :func:`bounded_get` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from pygerrit2 import GerritRestAPI

from govbot.errors import GerritError

CHUNK_BYTES = 64 * 1024
# Enough of an error body for the messages the client builds (it keeps 2,000 characters).
ERROR_BODY_BYTES = 64 * 1024


class ContentTooLarge(GerritError):
    """A file over the caller's limit: ``size`` is its size when known (else only "more
    than ``limit``"). The body was not read past the limit."""

    def __init__(self, path: str, size: int | None, limit: int) -> None:
        amount = f"{size} bytes" if size is not None else f"more than {limit} bytes"
        super().__init__(f"{path}: {amount}, over the limit of {limit} bytes")
        self.path = path
        self.size = size
        self.limit = limit


def read_at_most(response: requests.Response, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the (decompressed) body: one byte more than
    ``limit`` says the body is longer. The rest is never read."""
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
        room = limit + 1 - total
        chunks.append(chunk[:room])
        total += min(len(chunk), room)
        if total > limit:
            break
    return b"".join(chunks)


def encoded_limit(size: int, encoding: str) -> int:
    """The longest body Gerrit sends for a file of ``size`` bytes: its base64 (a line
    break every 76 characters allowed), or its JSON string (every byte escaped as
    ``\\u00XX`` at worst)."""
    if encoding == "json":
        return 6 * size + 2
    encoded = 4 * ((size + 2) // 3)
    return encoded + 2 * (encoded // 76) + 2


def bounded_get(rest: GerritRestAPI, limit: int) -> Callable[..., tuple[bytes, requests.Response]]:
    """A stand-in for ``rest.get(endpoint, return_response=True, **kwargs)`` that reads
    at most ``limit + 1`` bytes of a body (``ERROR_BODY_BYTES`` of an error's) and
    answers the raw bytes; an error status raises ``requests.HTTPError`` as pygerrit2's
    does, with the bounded body on the response for the caller's message."""

    def send(endpoint: str, *, return_response: bool = True, **kwargs: Any) -> Any:
        args = rest.translate_kwargs(**kwargs)
        response = rest.session.get(rest.make_url(endpoint), stream=True, **args)
        try:
            cap = ERROR_BODY_BYTES if response.status_code >= 400 else limit
            body = read_at_most(response, cap)
        finally:
            response.close()  # what was not read is dropped with the connection
        # requests keeps a read body here; `.text` of an error then shows the bounded one.
        response._content = body
        response.raise_for_status()
        return body, response

    return send
