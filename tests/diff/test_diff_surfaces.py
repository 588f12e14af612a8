"""A diff given the surfaces the caller already built says what a diff building its own does."""

from __future__ import annotations

from pathlib import Path

import pytest

from govbot.diff import diff_specs
from govbot.openapi.load import load_spec
from govbot.surface import operations

TESTS = Path(__file__).resolve().parents[1]
PAIRS = [
    (TESTS / "data" / "demo", "compute-base.yaml", "compute-head.yaml"),
    *(
        (d, "base.yaml", "revision.yaml")
        for d in sorted(TESTS.glob("rules/*/*"))
        if (d / "base.yaml").exists() and (d / "revision.yaml").exists()
    ),
]


@pytest.mark.parametrize(("where", "old", "new"), PAIRS, ids=lambda p: getattr(p, "name", p))
def test_the_diff_is_the_same_with_the_callers_surfaces(where: Path, old: str, new: str) -> None:
    base = load_spec(where / old, root=where)
    head = load_spec(where / new, root=where)
    built = diff_specs(base, head)
    given = diff_specs(base, head, surfaces=(operations(base), operations(head)))
    assert given == built
