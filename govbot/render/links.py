"""Links and words every output shares: the rule documentation URL, plurals."""

from __future__ import annotations

from govbot.findings import Finding

# Where the dashboard serves the rule pages when the deployment sets no web URL: the
# web app's default address (Settings.web_host and web_port).
DEFAULT_DOCS_BASE = "http://127.0.0.1:8080"


def rule_url(code: str, docs_base: str) -> str:
    """The documentation page of rule ``code`` under the deployment's ``docs_base``.

    ``docs_base`` is the setting :attr:`govbot.settings.Settings.docs_base` (the
    dashboard's public URL, which serves ``/rules/<CODE>``); findings carry no URL, so
    that a deployment that moves its dashboard links every stored finding to the new one.
    """
    return f"{docs_base.rstrip('/')}/rules/{code}"


def finding_json(f: Finding, docs_base: str) -> dict[str, object]:
    """A finding as JSON, with its rule's documentation URL as ``help``."""
    return f.to_json(help=rule_url(f.rule, docs_base))


def plural(n: int, word: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
