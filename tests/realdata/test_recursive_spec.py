"""Stripe's spec is full of legitimately recursive schemas: they load, diff and lint."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from govbot.diff import diff_specs
from govbot.openapi.load import load_spec
from govbot.policy import load_policy
from govbot.services.check import check_files
from govbot.surface import Node, walk_schemas
from tests.realdata.fetch import STRIPE, local_path

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _is_recursive(spec, name: str) -> bool:
    """Does component schema ``name`` reach a ``$ref`` back to itself?"""
    ref = json.dumps(f"#/components/schemas/{name}")
    start = Node({"$ref": f"#/components/schemas/{name}"}, spec.file, "")
    return any(ref in json.dumps(node.value) for _, node in walk_schemas(spec, start))


def test_stripe_loads_diffs_and_lints(realdata: Path) -> None:
    old, new = (local_path(realdata, *s) for s in STRIPE)
    head = load_spec(new, root=new.parent)
    assert head.ok and not [p for p in head.problems if p.code == "OAS013"]
    # the spec really is recursive: a customer's sources embed the customer again, etc.
    names = list(head.data["components"]["schemas"])
    assert sum(_is_recursive(head, n) for n in names[:200]) >= 5

    base = load_spec(old, root=old.parent)
    diff = diff_specs(base, head)
    assert diff.added or diff.changed  # two snapshots a year apart differ

    report = check_files(
        [new], base_files=[old], policy=load_policy(POLICIES), today=dt.date(2026, 11, 21)
    )
    rules = {f.rule for f in report.findings}
    assert "POL002" not in rules  # no rule crashed
    assert not {r for r in rules if r.startswith("OAS")}  # valid, no loops
    assert rules & {"CON012", "CON036"}  # and it was really linted
