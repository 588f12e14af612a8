"""Cross-service inconsistencies among the indexed APIs (``cross_findings``).

After an index run that recorded something, :func:`refresh_cross_findings` recomputes
the cross-service rules (CON080-CON099) among the latest external specs of every
project, read back from the documents the snapshots kept (``spec_documents``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from govbot.apiref.tree import load_api_ref
from govbot.audience import classify
from govbot.db.documents import contents
from govbot.db.models import ApiSnapshot, ApiSpec, CrossFinding
from govbot.db.session import session_scope
from govbot.evaluate import Subject, evaluate
from govbot.findings import Audience, Finding
from govbot.openapi.load import load_spec
from govbot.policy import Policy
from govbot.rules.catalog import all_rules
from govbot.services.index_evaluate import finding_row

LOG = logging.getLogger(__name__)


class _StoredReader:
    """A loader ``Reader`` over spec documents kept in the database, under a prefix.

    Each API is read as ``<project>/<file>`` so that specs of different projects with the
    same path stay apart, and ``$ref``s resolve against that API's own files.
    """

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self._files = dict(files)

    def read(self, relpath: str) -> bytes:
        try:
            return self._files[relpath]
        except KeyError:
            raise FileNotFoundError(relpath) from None

    def files(self) -> list[str]:
        return sorted(self._files)

    def exists(self, relpath: str) -> bool:
        return relpath in self._files


def refresh_cross_findings(engine: Engine, *, policy: Policy, now: dt.datetime) -> int:
    """Recompute ``cross_findings`` among the latest version of every external API.

    The cross rules (kind ``cross``) compare the external specs of every project; each
    minority usage becomes a finding on the API that has it. Returns how many there are.
    """
    apis, blobs = _latest_external(engine)
    subjects, owner = _subjects(apis, blobs, policy)
    cross = [r for r in all_rules() if r.kind == "cross"]
    findings: list[Finding] = []
    if len(subjects) >= 2 and cross:
        findings = list(evaluate(subjects, policy, now.date(), rules=cross).findings)
    rows = []
    for f in findings:
        if f.file in owner:
            rows.append({**finding_row(f), "api_id": owner[f.file], "computed_at": now})
    with session_scope(engine) as session:
        session.execute(delete(CrossFinding))
        if rows:
            session.execute(insert(CrossFinding), rows)
    LOG.info("cross-service check: %d finding(s) among %d API(s)", len(rows), len(subjects))
    return len(rows)


def _latest_external(engine: Engine) -> tuple[list[Any], dict[str, bytes]]:
    """(api id, project, file, documents) of each API's latest snapshot that is not
    internal and was readable, and the stored bytes of those documents by digest."""
    with session_scope(engine) as session:
        apis = session.execute(
            select(ApiSpec.id, ApiSpec.project, ApiSpec.file, ApiSnapshot.documents)
            .join(ApiSnapshot, ApiSnapshot.id == ApiSpec.latest_snapshot_id)
            .where(ApiSpec.audience != Audience.INTERNAL, ApiSpec.problem.is_(None))
            .order_by(ApiSpec.project, ApiSpec.branch, ApiSpec.file)
        ).all()
        wanted = {d for *_, docs in apis for d in (docs or {}).values()}
        if not wanted:
            return list(apis), {}
        blobs = contents(session, wanted)
    return list(apis), blobs


def _subjects(
    apis: Sequence[Any], blobs: Mapping[str, bytes], policy: Policy
) -> tuple[list[Subject], dict[str, int]]:
    """The readable APIs as evaluation subjects, and which API each document belongs to."""
    subjects: list[Subject] = []
    owner: dict[str, int] = {}
    for api_id, project, file, docs in apis:
        prefix = f"{project}/"
        files = {prefix + path: blobs[d] for path, d in (docs or {}).items() if d in blobs}
        name = prefix + file
        stored = _StoredReader(files)
        if name in files:
            spec = load_spec(name, reader=stored, validate=False)
        elif any(f.startswith(name + "/") for f in files):  # an api-ref tree
            spec = load_api_ref(name, stored)
        else:
            continue
        if not spec.ok:
            continue
        subjects.append(Subject(head=spec, head_audience=classify(spec, policy.audience)))
        for doc in files:
            owner.setdefault(doc, api_id)
        owner[name] = api_id
    return subjects, owner


__all__ = ["refresh_cross_findings"]
