"""gerrit-fidelity #8: the escalation's candidate query asks for pages small enough for a
large server (its options make each change heavy: labels, accounts, messages, every
revision) and reads them all."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

from gerrit_support import NOW, PROJECT, new_change, small_world

from govbot.db import make_engine, upgrade
from govbot.gerrit.client import GerritClient
from govbot.policy import Policy
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME
from govbot.services.escalation import PAGE_SIZE, escalate


def test_candidates_are_read_in_pages_of_at_most_100(tmp_path):
    url = f"sqlite:///{tmp_path / 'esc.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with small_world() as world:
            numbers = {new_change(world, f"Change {i}", hours_ago=80).number for i in range(130)}
            world.clear_requests()
            with GerritClient(world.url, BOT_USERNAME, BOT_PASSWORD, retries=0) as client:
                report = escalate(
                    client, engine, Policy(), NOW + dt.timedelta(hours=1), True, watched=[PROJECT]
                )
            pages = [
                parse_qs(r.query)
                for r in world.requests
                if r.method == "GET" and r.path == "/a/changes/"
            ]
    finally:
        engine.dispose()
    assert PAGE_SIZE <= 100
    assert len(pages) == 2 and all(p["n"] == [str(PAGE_SIZE)] for p in pages)
    assert pages[1]["S"] == [str(PAGE_SIZE)]
    assert {c.assessment.number for c in report.candidates} == numbers
