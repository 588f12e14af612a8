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


def more_places(f: Finding, limit: int = 5) -> str:
    """``and 3 more places: line 12, line 40, other.yaml:7`` (one finding per cause).

    Places in the finding's own file are given by line (``line:column`` where the
    column is known: a minified JSON spec is all line 1), others by ``file:line``.
    """
    shown = []
    for loc in f.locations[:limit]:
        where = "" if loc.line is None else str(loc.line)
        if where and loc.column is not None:
            where += f":{loc.column}"
        if loc.file != f.file:
            shown.append(f"{loc.file}:{where}" if where else f"{loc.file} ({loc.pointer})")
        else:
            shown.append(f"line {where}" if where else loc.pointer)
    rest = len(f.locations) - len(shown)
    tail = f", and {rest} more" if rest > 0 else ""
    return f"and {plural(len(f.locations), 'more place')}: {', '.join(shown)}{tail}"


def plural(n: int, word: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
