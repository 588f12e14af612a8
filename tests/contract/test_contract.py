"""What govbot's client expects of Gerrit, on both servers (see conftest.py)."""

from __future__ import annotations

import pytest
from conftest import Server

from govbot.gerrit.client import GerritNotFound
from govbot.services.intake import build_query, file_filter


def test_the_server_says_its_version(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        assert isinstance(client.version(), str) and client.version()


def test_the_bot_reads_itself_and_is_a_service_user(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        me = client.account("self")
        assert me.username == gerrit_server.bot[0] and me.account_id is not None


def test_group_members_by_name(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        members = client.group_members(gerrit_server.tc_group)
    assert sorted(m.username for m in members) == sorted(gerrit_server.tc)
    assert all(m.account_id for m in members)


def test_a_group_the_bot_cannot_see_is_404(gerrit_server: Server) -> None:
    """gerrit-fidelity #10: a group neither visible to all nor owned is invisible."""
    with gerrit_server.client() as client, pytest.raises(GerritNotFound):
        client.group_members("hidden-core")


def test_an_unknown_change_is_404(gerrit_server: Server) -> None:
    with gerrit_server.client() as client, pytest.raises(GerritNotFound):
        client.change(f"{gerrit_server.project}~999999")


def test_projects_exist_or_not(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        assert client.project_exists(gerrit_server.project)
        assert not client.project_exists("no/such-project")


@pytest.mark.parametrize(
    "globs",
    [
        ("api-specs/**/*.yaml",),
        ("api-ref/source/*.inc", "doc/{v2,v3}/*.json"),
        ("specs/**/*.rst", "a+b/c~d@e#f&g<h>.yaml"),
    ],
)
def test_the_poll_query_parses(gerrit_server: Server, globs: tuple[str, ...]) -> None:
    """gerrit-fidelity #3: the file regex, special characters included, is a query both
    Gerrit's parser and Lucene accept (a 400 here would switch the poll's filter off)."""
    query = build_query(gerrit_server.project, "master", files=file_filter(globs))
    with gerrit_server.client() as client:
        changes, more = client.query(query, options=("CURRENT_REVISION",), limit=10)
    assert changes == [] and more is False
