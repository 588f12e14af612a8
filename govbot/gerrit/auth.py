"""Who the Gerrit client calls as: explicit credentials, the URL's, a netrc entry, or nobody.

The password is never logged, never put in an exception and never kept outside the
``requests`` auth object (``transport.GerritTransport`` hands it to pygerrit2 at once).
"""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

import requests

from govbot.errors import ConfigError


class NoAuth(requests.auth.AuthBase):
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


def resolve_credentials(
    base: str,
    parts: SplitResult,
    username: str | None,
    password: str | None,
    netrc_file: str | None,
) -> tuple[str | None, str | None, str]:
    """(username, password, where they came from) for the server at ``base`` (its URL
    without user information; ``parts`` is the URL as given): explicit ones, else the
    URL's ``user:password@``, else the netrc entry for the host, else anonymous."""
    where = base + "/"
    source = "explicit credentials"
    if parts.username and not username:  # https://user:password@host/
        username, password = unquote(parts.username), unquote(parts.password or "") or None
        source = "the Gerrit URL"
    if password and not username:
        raise ConfigError(f"a Gerrit password was given without a username for {where}")
    if username and not password:
        found = netrc_credentials(base, netrc_file)
        if found is None or found[0] != username:
            raise ConfigError(
                f"no HTTP password for Gerrit account {username!r} at {where}: "
                "set GOVBOT_GERRIT_PASSWORD or add a netrc entry"
            )
        return username, found[1], "netrc"
    if not username:
        found = netrc_credentials(base, netrc_file)
        if found is not None:
            return found[0], found[1], "netrc"
        return None, None, "anonymous"
    return username, password, source
