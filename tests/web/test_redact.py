"""govbot.redact: the one redaction of URLs for logs, files, messages and pages."""

from __future__ import annotations

import pytest

from govbot.redact import redact_url


@pytest.mark.parametrize(
    ("url", "shown", "link"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db", "postgresql://h/db"),
        ("sqlite:///govbot.db", "sqlite:///govbot.db", "sqlite:///govbot.db"),
        ("https://h/path", "https://h/path", "https://h/path"),
        ("https://govbot@h/", "https://govbot@h/", "https://h/"),
        (
            "http://govbot:SEKRET-url-321@h:8080/a/?x=1",
            "http://govbot:***@h:8080/a/?x=1",
            "http://h:8080/a/?x=1",
        ),
        (
            "http://h/hooks/gerrit?secret=s3&x=1",
            "http://h/hooks/gerrit?secret=***&x=1",
            "http://h/hooks/gerrit?secret=***&x=1",
        ),
        ("/hooks/gerrit?Secret=s3", "/hooks/gerrit?Secret=***", "/hooks/gerrit?Secret=***"),
        ("http://h/?api-key=k&token=t", "http://h/?api-key=***&token=***", None),
        ("http://u:pw@[::1/x?secret=s3", "http://u:***@[::1/x", "http://[::1/x"),
    ],
)
def test_passwords_and_secret_query_values_are_masked(url: str, shown: str, link: str) -> None:
    assert redact_url(url) == shown
    if link is not None:
        assert redact_url(url, keep_user=False) == link
    for secret in ("pw", "SEKRET-url-321", "s3"):
        assert f":{secret}@" not in redact_url(url) and f"={secret}" not in redact_url(url)
