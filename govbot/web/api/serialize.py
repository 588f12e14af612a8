"""The JSON API's items as the description gives them (``components/schemas``).

One function per item; the lists and show responses of :mod:`govbot.web.api.views` are
made of them. Times are ISO 8601 in UTC (``Z``); ``help`` links a rule's page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import url_for

from govbot.db.models import ApiSnapshot, BlueprintVerdict
from govbot.findings import Audience
from govbot.render import rule_url
from govbot.rules.registry import Rule
from govbot.web import queries
from govbot.web.context import context
from govbot.web.dashboard.templating import rule_doc


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _help(code: str) -> str:
    return rule_url(code, context().settings.docs_base)


# --- serialisers -----------------------------------------------------------------------------


def api_json(row: queries.ApiRow) -> dict[str, Any]:
    a = row.spec
    return {
        "id": a.id,
        "project": a.project,
        "branch": a.branch,
        "spec_file": a.file,
        "title": a.title,
        "version": a.version,
        "audience": str(a.audience),
        "commit": a.commit,
        "merged_at": _iso(a.merged_at),
        "indexed_at": _iso(a.indexed_at),
        "operation_counts": row.counts.operation_json(),
        "finding_counts": row.counts.finding_json(),
        "waived_findings": row.counts.waived,
        "deprecated_operations": a.deprecated,
        "next_sunset": _day(a.next_sunset),
        "inconsistencies": row.inconsistencies,
        "problem": a.problem,
        "links": [
            {"rel": "self", "href": url_for("api_v1.show_api", api_id=a.id, _external=True)},
            {"rel": "alternate", "href": url_for("apis.show", api_id=a.id, _external=True)},
        ],
    }


def operation_json(op: Any) -> dict[str, Any]:
    return {
        "id": op.id,
        "key": op.key,
        "method": op.method,
        "path": op.path,
        "operation_id": op.operation_id,
        "audience": str(op.audience),
        "source": op.source,
        "evidence": op.evidence,
        "evidence_file": op.evidence_file,
        "evidence_pointer": op.evidence_pointer,
        "deprecated": op.deprecated,
    }


def finding_json(row: queries.FindingRow) -> dict[str, Any]:
    f = row.finding
    return {
        "id": f.id,
        "rule": f.rule,
        "name": f.name,
        "severity": str(f.severity),
        "audience": str(f.audience) if f.audience else None,
        "file": f.file,
        "line": f.line,
        "pointer": f.pointer,
        "message": f.message,
        "fingerprint": f.fingerprint,
        "help": _help(f.rule),
        "waiver": (
            {
                "reason": row.waiver.reason,
                "created_by": row.waiver.created_by,
                "created_at": _iso(row.waiver.created_at),
            }
            if row.waiver
            else None
        ),
    }


def deprecation_json(d: Any, today: dt.date) -> dict[str, Any]:
    return {
        "id": d.id,
        "operation": d.operation,
        "key": d.key,
        "audience": str(d.audience),
        "sunset": _day(d.sunset),
        "sunset_raw": d.sunset_raw,
        "replacement": d.replacement,
        "deprecated_since": _iso(d.deprecated_since),
        "overdue": d.sunset is not None and d.sunset < today,
    }


def snapshot_json(x: ApiSnapshot) -> dict[str, Any]:
    return {
        "id": x.id,
        "commit": x.commit,
        "merged_at": _iso(x.merged_at),
        "change_number": x.change_number,
        "version": x.version,
        "operation_counts": {
            "external": x.ops_external,
            "external_admin": x.ops_external_admin,
            "internal": x.ops_internal,
        },
        "finding_counts": {"error": x.errors, "warning": x.warnings, "info": x.infos},
        "deprecated_operations": x.deprecated,
        "problem": x.problem,
    }


def inconsistency_json(row: Any) -> dict[str, Any]:
    f, project, file = row
    return {
        "id": f.id,
        "api_id": f.api_id,
        "project": project,
        "spec_file": file,
        "rule": f.rule,
        "name": f.name,
        "severity": str(f.severity),
        "file": f.file,
        "line": f.line,
        "pointer": f.pointer,
        "message": f.message,
        "help": _help(f.rule),
    }


def change_json(c: queries.OpenChange) -> dict[str, Any]:
    return {
        "number": c.number,
        "subject": c.subject,
        "owner": c.owner,
        "updated_at": _iso(c.updated),
        "patch_set": c.patch_set,
        "verdict": c.verdict,
        "finding_counts": {"error": c.error, "warning": c.warning, "info": c.info},
        "findings_on_spec": c.on_this_spec,
        "queue_state": c.queue_state,
    }


def review_json(q: Any) -> dict[str, Any]:
    return {
        "change": q.change_number,
        "project": q.project,
        "branch": q.branch,
        "subject": q.subject,
        "owner": q.owner,
        "state": q.state,
        "skip_reason": q.skip_reason,
        "waited_days": round(q.waited_days, 3),
        "clock_start": _iso(q.clock_start),
        "due_at": _iso(q.due_at),
        "action": q.action,
        "assignee": q.assignee,
        "reason": q.reason,
        "assessed_at": _iso(q.assessed_at),
    }


def escalation_json(row: queries.EscalationRow) -> dict[str, Any]:
    e = row.step
    return {
        "id": e.id,
        "change": e.change_number,
        "project": e.project,
        "subject": e.subject,
        "owner": e.owner,
        "state": row.state,
        "stage": str(e.stage),
        "assignee": e.assignee,
        "episode_start": _iso(e.episode_start),
        "first_escalated_at": _iso(row.first),
        "waited_days": round(e.waited_days, 3),
        "resolved_at": _iso(e.resolved_at),
        "resolution": e.resolution,
        "acknowledged_by": row.ack.acknowledged_by if row.ack else None,
        "acknowledged_at": _iso(row.ack.acknowledged_at) if row.ack else None,
        "steps": [
            {
                "id": st.id,
                "stage": str(st.stage),
                "assignee": st.assignee,
                "reason": st.reason,
                "created_at": _iso(st.created_at),
                "acted_at": _iso(st.acted_at),
            }
            for st in row.steps
        ],
    }


def digest_json(r: Any) -> dict[str, Any]:
    headline = (r.data or {}).get("headline") or {}
    return {
        "id": r.id,
        "period_start": _iso(r.period_start),
        "period_end": _iso(r.period_end),
        "created_at": _iso(r.created_at),
        "sent_at": _iso(r.sent_at),
        "recipients": [x for x in (r.recipients or "").split(",") if x],
        "headline": {
            k: (v.get("value") if isinstance(v, Mapping) else None) for k, v in headline.items()
        },
        "links": [
            {"rel": "self", "href": url_for("api_v1.show_digest", digest_id=r.id, _external=True)},
            {"rel": "alternate", "href": url_for("queue.digest", digest_id=r.id, _external=True)},
        ],
    }


def blueprint_json(b: BlueprintVerdict, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.id,
        "project": b.project,
        "branch": b.branch,
        "file": b.file,
        "title": b.title,
        "verdict": queries.justification(b),
        "justified": b.verdict == "justified",
        "strength": b.strength,
        "section": b.section,
        "line": b.line,
        "evidence": b.evidence,
        "words": b.words,
        "rest_api_impact": b.rest_api_impact,
        "commit": b.commit,
        "merged_at": _iso(b.merged_at),
    }
    if full:
        out["findings"] = [
            {
                "rule": f.get("rule"),
                "name": f.get("name"),
                "severity": f.get("severity"),
                "line": f.get("line"),
                "message": f.get("message"),
                "help": _help(str(f.get("rule"))),
            }
            for f in (b.findings or {}).get("items", [])
        ]
    return out


def rule_json(r: Rule, *, full: bool = False) -> dict[str, Any]:
    policy = context().get_policy()
    out: dict[str, Any] = {
        "code": r.code,
        "name": r.name,
        "kind": r.kind,
        "family": r.family,
        "summary": r.summary,
        "severity": {
            "external": str(r.severity[Audience.EXTERNAL]),
            "external_admin": str(r.severity[Audience.EXTERNAL_ADMIN]),
            "internal": str(r.severity[Audience.INTERNAL]),
        },
        "enabled": policy is None or policy.rule_config(r.code).enabled,
        "guideline": r.guideline,
        "help": _help(r.code),
    }
    if full:
        doc = rule_doc(r)
        out["doc"] = r.doc
        out["sections"] = [{"title": t, "anchor": a} for t, a, _ in doc.sections]
        out["options"] = dict(r.options)
    return out


def project_json(p: queries.ProjectRow) -> dict[str, Any]:
    return {
        "name": p.name,
        "apis": p.apis,
        "operation_counts": p.counts.operation_json(),
        "finding_counts": p.counts.finding_json(),
        "waived_findings": p.counts.waived,
    }


def sunset_json(r: queries.DeprecationRow, today: dt.date) -> dict[str, Any]:
    return {
        **deprecation_json(r.deprecation, today),
        "api_id": r.api_id,
        "project": r.project,
        "spec_file": r.file,
    }
