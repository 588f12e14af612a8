"""An OpenStack api-ref tree indexed and shown like an OpenAPI spec: surface, audience with
its policy evidence, and history (a policy change is a new point of it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select
from web_support import NOW, make_app

from govbot.db.models import ApiOperation, ApiSnapshot, ApiSpec
from govbot.db.session import session_scope
from govbot.findings import Audience
from govbot.policy import Policy
from govbot.services.index import index_commit
from tests.apiref.apiref_support import widget_files

PROJECT = "openstack/widget"
TREE = "api-ref/source"
POLICY = "widget/policies/widgets.py"
DAY = dt.timedelta(days=1)


class _Tree:
    """A commit's files in memory (index_commit's reader), bytes as written."""

    def __init__(self, files: dict[str, str]) -> None:
        self._files = {k: v.encode() for k, v in files.items()}

    def read(self, relpath: str) -> bytes:
        try:
            return self._files[relpath]
        except KeyError:
            raise FileNotFoundError(relpath) from None

    def files(self) -> list[str]:
        return sorted(self._files)


def _index(engine: Engine, policy: Policy, files: dict[str, str], commit: str, when: dt.datetime):
    return index_commit(
        engine, _Tree(files), PROJECT, "master", commit, policy=policy, now=NOW, merged_at=when
    )


def test_an_api_ref_tree_has_history_and_policy_evidence(db_engine: Engine, policy: Policy) -> None:
    files = widget_files()
    first = _index(db_engine, policy, files, "a" * 40, NOW - 3 * DAY)
    assert first.snapshots == [TREE]
    # A commit that changes nothing of the API, its policies or its ledger: no new point.
    same = _index(db_engine, policy, {**files, "README.rst": "Widgets\n"}, "b" * 40, NOW - 2 * DAY)
    assert same.snapshots == [] and same.unchanged == [TREE]
    # Only a policy default changes: who may call the API changed, a new point.
    narrowed = files[POLICY].replace(
        'name=POLICY_ROOT % "list",\n        check_str=base.PROJECT_READER_OR_ADMIN,',
        'name=POLICY_ROOT % "list",\n        check_str=base.ADMIN,',
    )
    later = _index(db_engine, policy, {**files, POLICY: narrowed}, "c" * 40, NOW - DAY)
    assert later.snapshots == [TREE]
    with session_scope(db_engine) as s:
        api = s.scalars(select(ApiSpec)).one()
        assert (api.file, api.title, api.version) == (TREE, "Widgets API", "2.2")
        assert (api.ops_external, api.ops_external_admin) == (1, 1)
        assert s.query(ApiSnapshot).count() == 2
        listing = s.scalars(
            select(ApiOperation).where(
                ApiOperation.snapshot_id == api.latest_snapshot_id, ApiOperation.path == "/widgets"
            )
        ).one()
        assert listing.audience is Audience.EXTERNAL_ADMIN
        assert listing.source == "policy-defaults" and listing.evidence_file == POLICY
        assert "widget:widgets:list" in listing.evidence
        assert "rule:context_is_admin" in listing.evidence
        api_id = api.id
    with make_app(db_engine, policy).test_client() as client:
        html = client.get(f"/apis/{api_id}").get_data(as_text=True)
    assert "GET /widgets" in html and "widget:widgets:list" in html
    assert Path(POLICY).name in html
