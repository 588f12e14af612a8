"""The one way a URL is made safe to show: in a log line, a file, a message or a page.

A URL can carry secrets in two places: its user information (``GOVBOT_GERRIT_URL`` may
be ``https://govbot:PASSWORD@review.example.org``, which the Gerrit client accepts) and
its query (Gerrit's webhooks plugin sends govbot's ``?secret=``). :func:`redact_url`
masks both; ``keep_user=False`` drops the user information whole, for links a browser
follows (a ``user:***@`` there would be sent to the server as credentials).

This module depends on nothing else in govbot, so every layer can use it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Query parameter names whose value is a secret (compared in lower case, ``-`` as ``_``).
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "key",
        "passwd",
        "password",
        "pw",
        "pwd",
        "secret",
        "sig",
        "signature",
        "token",
    }
)
# ``scheme://user:password@`` when the URL is too malformed for urlsplit.
_USERINFO = re.compile(r"(?<=://)([^:/?#@]*):[^@/?#]*@")


def redact_url(url: str, *, keep_user: bool = True) -> str:
    """``url`` with its password and secret query values masked; never raises.

    ``postgresql://u:pw@h/db`` gives ``postgresql://u:***@h/db``;
    ``http://h/hooks/gerrit?secret=s&x=1`` gives ``http://h/hooks/gerrit?secret=***&x=1``.
    With ``keep_user=False`` the user information is dropped: ``https://h/c/1``.
    """
    try:
        parts = urlsplit(url)
        netloc = _netloc(parts.netloc, keep_user=keep_user)
        query = _query(parts.query)
    except ValueError:  # e.g. an unbalanced "[" in the host: mask what can be found
        masked = _USERINFO.sub(r"\1:" + MASK + "@" if keep_user else "", url)
        return masked.split("?", 1)[0]
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _netloc(netloc: str, *, keep_user: bool) -> str:
    userinfo, at, host = netloc.rpartition("@")
    if not at:
        return netloc
    if not keep_user:
        return host
    user, colon, _password = userinfo.partition(":")
    return f"{user}:{MASK}@{host}" if colon else netloc


def _query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(_secret(name) for name, _ in pairs):
        return query
    return urlencode([(n, MASK if _secret(n) else v) for n, v in pairs], safe="*")


def _secret(name: str) -> bool:
    return name.strip().lower().replace("-", "_") in SECRET_PARAMS


__all__ = ["MASK", "SECRET_PARAMS", "redact_url"]
