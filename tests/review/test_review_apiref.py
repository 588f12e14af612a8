"""The API review of OpenStack-style changes: api-ref, policy defaults, microversions.

A sandbox project laid out like nova (``api-ref/source``, ``<pkg>/policies``, the
microversion ledger, release notes); the bot reviews changes the way it would on
OpenStack's Gerrit, its comments landing on the ``.inc``, ``parameters.yaml`` and policy
lines. Files are read through a git mirror of the sandbox (the project's policy defaults
and ledger need the whole tree) and, for what REST alone can do, over REST.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from review_support import BOT, NOW, TAG
from sqlalchemy import Engine

from govbot.gerrit.client import GerritClient
from govbot.gerrit.mirror import GitMirror
from govbot.policy import Policy
from govbot.sandbox import Clock, Sandbox, lifecycle, people, running_sandbox
from govbot.sandbox.seed import DEMO_LABELS
from govbot.services.review import ReviewStatus, review_change

PROJECT = "openstack/widget"
WIDGET = Path(__file__).parents[1] / "data" / "apiref" / "widget"
FILES = {p.relative_to(WIDGET).as_posix(): p.read_text() for p in WIDGET.rglob("*") if p.is_file()}
INC = "api-ref/source/widgets.inc"
PARAMS = "api-ref/source/parameters.yaml"
POLICY = "widget/policies/widgets.py"
LEDGER = "widget/api/openstack/api_version_request.py"


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture
def gerrit() -> Iterator[Sandbox]:
    with running_sandbox(seed="empty", clock=Clock(NOW)) as sandbox:
        people.add_account(sandbox, "alice", "Alice Ferreira", password="alice-pw")
        lifecycle.add_project(sandbox, PROJECT, FILES, labels=DEMO_LABELS, when=NOW)
        yield sandbox


@pytest.fixture
def client(gerrit: Sandbox) -> Iterator[GerritClient]:
    with GerritClient(gerrit.url, *BOT, timeout=10, retries=1, backoff=0.01) as c:
        yield c


@pytest.fixture
def review(client: GerritClient, db_engine: Engine, default_policy: Policy) -> Callable[..., Any]:
    def run(number: int, mirror: GitMirror | None) -> Any:
        return review_change(
            number,
            client=client,
            engine_or_session=db_engine,
            policy=default_policy,
            now=NOW,
            mirror=mirror,
        )

    return run


def comments(gerrit: Sandbox, number: int) -> dict[tuple[str, int | None], list[Any]]:
    """The bot's inline comments by (file, line)."""
    out: dict[tuple[str, int | None], list[Any]] = {}
    for c in gerrit.change(number).comments:
        if c.tag == TAG:
            out.setdefault((c.path, c.line), []).append(c)
    return out


def said(found: dict[tuple[str, int | None], list[Any]], at: tuple[str, int], text: str) -> Any:
    """The comment at ``at`` whose message holds ``text``."""
    matching = [c for c in found.get(at, []) if text in c.message]
    assert matching, f"no comment at {at} saying {text!r}: {found.get(at)}"
    return matching[0]


@pytest.mark.parametrize("via", ["git", "rest"])
def test_removing_an_undeprecated_operation_is_an_error_at_its_rest_method(
    gerrit: Sandbox, review, tmp_path: Path, via: str
) -> None:
    """The Show Widget section goes; it was never deprecated: DEP001 on the base side of
    the .inc, at its rest_method line, and API-Review -1."""
    text = FILES[INC]
    removed = text[: text.index("Show Widget\n")]
    change = lifecycle.create_change(
        gerrit, PROJECT, subject="Drop show", files={INC: removed}, owner="alice"
    )
    mirror = GitMirror(tmp_path / "mirror", gerrit.git_url) if via == "git" else None
    outcome = review(change.number, mirror)
    assert outcome.status is ReviewStatus.POSTED
    assert "DEP001" in {f.rule for f in outcome.findings}
    found = comments(gerrit, change.number)
    at = (INC, line_of(text, "rest_method:: GET /widgets/{widget_id}"))
    assert said(found, at, "without being deprecated first").side == "PARENT"
    votes = gerrit.change(change.number).votes[1]
    assert [a.value for (label, _), a in votes.items() if label == "API-Review"] == [-1]


def test_a_parameter_without_a_new_microversion_is_an_error_at_its_entry(
    gerrit: Sandbox, review, tmp_path: Path
) -> None:
    """A new query parameter, the ledger untouched: MVR003 at the parameters.yaml entry
    (inline), MVR001 at the ledger's maximum (not in the change: in the summary)."""
    inc = FILES[INC].replace(
        "  - marker: marker\n", "  - marker: marker\n  - sort_key: sort_key\n", 1
    )
    params = FILES[PARAMS].replace(
        "# body parameters\n",
        "sort_key:\n  description: |\n    Sorts the widgets.\n  in: query\n  required: false\n"
        "  type: string\n\n# body parameters\n",
    )
    change = lifecycle.create_change(
        gerrit, PROJECT, subject="Sort widgets", files={INC: inc, PARAMS: params}, owner="alice"
    )
    outcome = review(change.number, GitMirror(tmp_path / "mirror", gerrit.git_url))
    rules = {f.rule for f in outcome.findings}
    assert {"MVR001", "MVR003"} <= rules
    found = comments(gerrit, change.number)
    entry = (PARAMS, line_of(params, "sort_key:"))
    said(found, entry, "add `min_version: 2.3`")
    [mvr001] = [f for f in outcome.findings if f.rule == "MVR001"]
    assert (mvr001.file, mvr001.line) == (LEDGER, line_of(FILES[LEDGER], "_MAX_API_VERSION"))
    assert not any(path == LEDGER for path, _ in found)  # not in the change: summary only
    summary = [m for m in gerrit.change(change.number).messages if m.tag == TAG][-1].message
    assert "MVR001" in summary


def test_narrowing_a_policy_default_is_an_error_at_the_policy_line(
    gerrit: Sandbox, review, tmp_path: Path
) -> None:
    """Only the policy module changes: the api-ref trees of the repository are checked
    with both sides' policy defaults; project readers lose GET /widgets (AUD001)."""
    narrowed = FILES[POLICY].replace(
        'name=POLICY_ROOT % "list",\n        check_str=base.PROJECT_READER_OR_ADMIN,',
        'name=POLICY_ROOT % "list",\n        check_str=base.ADMIN,',
    )
    assert narrowed != FILES[POLICY]
    change = lifecycle.create_change(
        gerrit, PROJECT, subject="Listing is admin-only", files={POLICY: narrowed}, owner="alice"
    )
    outcome = review(change.number, GitMirror(tmp_path / "mirror", gerrit.git_url))
    [aud] = [f for f in outcome.findings if f.rule == "AUD001"]
    assert aud.operation is not None and aud.operation.path == "/widgets"
    found = comments(gerrit, change.number)
    at = (POLICY, line_of(narrowed, "policy.DocumentedRuleDefault("))
    said(found, at, "project users can no longer call GET /widgets")
