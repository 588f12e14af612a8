"""The escalation planner on plain values: no database, no Gerrit.

Each decision of a pass (the next step or why none, who it goes to, whether an episode
ended, what a step writes to Gerrit) is a pure function of the assessment, the recorded
steps of the episode, the policy and the time."""

from __future__ import annotations

import datetime as dt

from escalation_support import HOUR, POLICY, T0, change_json, msg, upload

from govbot.db.models import EscalationStage
from govbot.gerrit.accounts import AccountInfo
from govbot.gerrit.changes import ChangeInfo
from govbot.services.escalation_members import MemberLoad
from govbot.services.escalation_plan import (
    TAG,
    EpisodeStep,
    StepPlan,
    choose_assignee,
    episode_outcome,
    plan_gerrit_write,
    plan_step,
)
from govbot.services.escalation_report import CandidateResult
from govbot.services.staleness import Assessment, assess

CFG = POLICY.escalation
STALE_AT = T0 + 49 * HOUR
TC = [AccountInfo(account_id=i, username=u) for i, u in ((2001, "ana"), (2002, "ben"))]


def assessed(change: ChangeInfo, now: dt.datetime = STALE_AT) -> Assessment:
    return assess(change, now=now, config=CFG.stale, bots=CFG.bots)


def silent(now: dt.datetime = STALE_AT) -> Assessment:
    """A change uploaded at T0 that nobody reviewed."""
    return assessed(change_json([upload(0)]), now)


def step(
    stage: EscalationStage, assignee: str, created: dt.datetime, acted: dt.datetime | None
) -> EpisodeStep:
    return EpisodeStep(42, T0, stage, assignee, 2001, created, acted)


def test_not_stale_changes_take_no_step() -> None:
    early = plan_step(silent(T0 + 10 * HOUR), [], CFG, T0 + 10 * HOUR, 0)
    assert isinstance(early, CandidateResult) and early.action == "none"
    wip = assessed(change_json([upload(0)], work_in_progress=True))
    skipped = plan_step(wip, [], CFG, STALE_AT, 0)
    assert isinstance(skipped, CandidateResult) and skipped.action == "skipped"


def test_a_stale_change_is_escalated_then_waits_then_is_reminded() -> None:
    a = silent()
    assert plan_step(a, [], CFG, STALE_AT, 0) == StepPlan(EscalationStage.ESCALATE)
    done = [step(EscalationStage.ESCALATE, "ana", STALE_AT, STALE_AT)]
    waiting = plan_step(silent(STALE_AT + HOUR), done, CFG, STALE_AT + HOUR, 0)
    assert isinstance(waiting, CandidateResult)
    assert (waiting.action, waiting.assignee) == ("waiting", "ana")
    assert "reminder due 2026-03-06 10:00 UTC" in waiting.detail
    later = STALE_AT + 49 * HOUR
    assert plan_step(silent(later), done, CFG, later, 0) == StepPlan(
        EscalationStage.REMIND, "ana", frozenset({"ana"})
    )


def test_after_the_hand_off_only_the_digest() -> None:
    rows = [
        step(EscalationStage.ESCALATE, "ana", T0, T0),
        step(EscalationStage.REMIND, "ana", T0 + 50 * HOUR, T0 + 50 * HOUR),
        step(EscalationStage.HANDOFF, "ben", T0 + 99 * HOUR, T0 + 99 * HOUR),
    ]
    result = plan_step(silent(T0 + 200 * HOUR), rows, CFG, T0 + 200 * HOUR, 0)
    assert isinstance(result, CandidateResult)
    assert (result.action, result.assignee) == ("digest-only", "ben")


def test_reservations_in_progress_and_abandoned_ones() -> None:
    fresh = [step(EscalationStage.REMIND, "ana", STALE_AT - 5 * dt.timedelta(minutes=1), None)]
    held = plan_step(
        silent(), [step(EscalationStage.ESCALATE, "ana", T0, T0), *fresh], CFG, STALE_AT, 0
    )
    assert isinstance(held, CandidateResult) and held.action == "in-progress"
    # a reservation older than RECLAIM_AFTER is taken over, with the earlier assignee
    old = [
        step(EscalationStage.ESCALATE, "ana", T0, T0),
        step(EscalationStage.REMIND, "ana", STALE_AT - HOUR, None),
    ]
    assert plan_step(silent(), old, CFG, STALE_AT, 0) == StepPlan(
        EscalationStage.REMIND, "ana", frozenset({"ana"})
    )


def test_the_per_run_cap() -> None:
    capped = plan_step(silent(), [], CFG, STALE_AT, CFG.caps.per_run)
    assert isinstance(capped, CandidateResult) and capped.action == "capped"


def test_episode_outcomes() -> None:
    rows = [step(EscalationStage.ESCALATE, "ana", T0 + 49 * HOUR, T0 + 49 * HOUR)]
    assert episode_outcome(silent(T0 + 50 * HOUR), rows, T0 + 50 * HOUR) is None
    reviewed = assessed(
        change_json([upload(0), msg(52, "rita", "Patch Set 1:\n\nLooks fine")]), T0 + 53 * HOUR
    )
    assert episode_outcome(reviewed, rows, T0 + 53 * HOUR) == (
        "reviewed",
        T0 + 52 * HOUR,
        "Rita",
    )
    merged = assessed(change_json([upload(0)], status="MERGED"), T0 + 53 * HOUR)
    assert episode_outcome(merged, rows, T0 + 53 * HOUR) == ("merged", T0 + 53 * HOUR, None)
    moved = [EpisodeStep(42, T0 - HOUR, EscalationStage.ESCALATE, "ana", 2001, T0, T0)]
    assert episode_outcome(silent(), moved, STALE_AT) == ("new-episode", STALE_AT, None)


def test_choose_assignee_reminds_the_same_member_and_hands_off_to_another() -> None:
    a, change = silent(), change_json([upload(0)])
    kw = {"tc": TC, "cores": set(), "load": MemberLoad(), "cfg": CFG, "now": STALE_AT}
    reminder = choose_assignee(a, change, StepPlan(EscalationStage.REMIND, "ana"), **kw)
    assert (reminder.key, reminder.reason) == ("ana", "reminder to ana, assigned earlier")
    handoff = StepPlan(EscalationStage.HANDOFF, "ana", frozenset({"ana"}))
    assert choose_assignee(a, change, handoff, **kw).key == "ben"


def test_gerrit_write_adds_only_what_gerrit_does_not_show() -> None:
    a, ana = silent(), TC[0]
    fresh = plan_gerrit_write(
        change_json([upload(0)]), EscalationStage.ESCALATE, ana, a, CFG, "why", None
    )
    assert fresh.steps == {"reviewer": f"added as {CFG.action.add_as}", "attention": "added"}
    assert fresh.clear_first is None and fresh.review is not None
    assert fresh.review["tag"] == TAG
    assert fresh.review["reviewers"] == [{"reviewer": "2001", "state": CFG.action.add_as}]
    assert fresh.review["notify_details"] == {"TO": {"accounts": [2001]}}
    there = {
        "reviewers": {"CC": [{"_account_id": 2001, "username": "ana"}]},
        "attention_set": {
            "2001": {"account": {"_account_id": 2001, "username": "ana"}, "reason": "govbot: x"}
        },
    }
    shown = change_json([upload(0)], **there)
    nothing = plan_gerrit_write(shown, EscalationStage.ESCALATE, ana, a, CFG, "why", None)
    assert nothing.review is None and nothing.clear_first is None
    assert nothing.steps == {
        "reviewer": "already on the change",
        "attention": "already in the attention set",
    }
    remind = plan_gerrit_write(shown, EscalationStage.REMIND, ana, a, CFG, "why", None)
    assert remind.clear_first is not None and remind.review is not None
    assert remind.steps["attention"] == "re-added with the reminder"
    assert remind.review["add_to_attention_set"][0]["reason"] == remind.attention_reason
