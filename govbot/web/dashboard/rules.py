"""The rule catalogue (``/rules``) and one rule's documentation (``/rules/<CODE>``).

Every review comment govbot posts on Gerrit links to ``{docs_base}/rules/<CODE>``; the
page is rendered from the rule's docstring, one anchored section per heading (What it
checks / Why it matters / Example / Fix / References).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from govbot.rules.catalog import all_rules, get_rule
from govbot.web.context import context
from govbot.web.dashboard.templating import rule_doc

bp = Blueprint("rules", __name__, url_prefix="/rules", template_folder="templates")


def enabled(code: str) -> bool:
    policy = context().get_policy()
    return policy is None or policy.rule_config(code).enabled


@bp.get("/")
@bp.get("")
def index() -> str:
    rules = all_rules()
    families: dict[str, list] = {}
    for r in rules:
        families.setdefault(r.family, []).append(r)
    return render_template(
        "dashboard/rules.html", families=families, enabled=enabled, count=len(rules)
    )


@bp.get("/<code>")
def show(code: str) -> str | Response:
    rule = get_rule(code)
    if rule is None:
        abort(404, f"no rule {code}")
    if code != rule.code:
        return redirect(url_for("rules.show", code=rule.code), 301)
    return render_template(
        "dashboard/rule.html", rule=rule, doc=rule_doc(rule), enabled=enabled(rule.code)
    )
