"""Presentation: findings, audiences and the rule catalogue as text, JSON, SARIF 2.1.0 and
Markdown, and findings as a Gerrit review. Rendering never decides anything: it prints
what :mod:`govbot.evaluate` decided.

Render owns the rule documentation URL (:func:`rule_url`), made from the deployment's
setting when something is shown; findings never carry one. :mod:`.report` renders a
check, :mod:`.catalog` the rules, :mod:`.review` a Gerrit review, :mod:`.specs` the
use-case verdicts of design specs (``govbot blueprint``).
"""

from govbot.render.catalog import (
    doc_sections,
    render_rule_text,
    render_rules_markdown,
    render_rules_text,
    rule_markdown,
    rules_json,
)
from govbot.render.links import DEFAULT_DOCS_BASE, finding_json, plural, rule_url
from govbot.render.report import (
    INFORMATION_URI,
    SARIF_SCHEMA,
    render_classification_json,
    render_classification_text,
    render_json,
    render_sarif,
    render_text,
    report_json,
    sarif_log,
    summary_line,
)
from govbot.render.review import (
    FINDING_MARKER_RE,
    PARENT_SIDE,
    REVIEW_TEXT_LIMIT,
    TRUNCATED,
    comment_place,
    finding_fingerprints,
    finding_marker,
    fit_utf8,
    has_policy_marker,
    policy_marker,
    review_comment,
    review_input,
    review_text,
    review_vote,
)
from govbot.render.specs import render_verdicts_json, render_verdicts_text

__all__ = [
    "DEFAULT_DOCS_BASE",
    "FINDING_MARKER_RE",
    "INFORMATION_URI",
    "PARENT_SIDE",
    "REVIEW_TEXT_LIMIT",
    "SARIF_SCHEMA",
    "TRUNCATED",
    "comment_place",
    "doc_sections",
    "finding_fingerprints",
    "finding_json",
    "finding_marker",
    "fit_utf8",
    "has_policy_marker",
    "plural",
    "policy_marker",
    "render_classification_json",
    "render_classification_text",
    "render_json",
    "render_rule_text",
    "render_rules_markdown",
    "render_rules_text",
    "render_sarif",
    "render_text",
    "render_verdicts_json",
    "render_verdicts_text",
    "report_json",
    "review_comment",
    "review_input",
    "review_text",
    "review_vote",
    "rule_markdown",
    "rule_url",
    "rules_json",
    "sarif_log",
    "summary_line",
]
