"""The ranks (scope, audience) the consistency rules give a schema: the strictest of
the operations that reach it, however they are worked out."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from govbot.openapi.load import load_spec
from govbot.rules.consistency.index import (
    SpecIndex,
    _ranks_of_one_scope,
    attribution,
    schema_ranks,
    spec_index,
)
from govbot.surface import Spec

SPEC = Path(__file__).resolve().parents[1] / "data" / "corpus" / "apis-guru" / "airbyte.local"


@pytest.fixture(scope="module")
def index() -> tuple[Spec, SpecIndex]:
    spec = load_spec(SPEC / "config.json", root=SPEC, validate=False)
    return spec, spec_index(spec)


@pytest.mark.parametrize("seed", range(4))
def test_one_scope_walks_each_schema_once_to_the_same_ranks(
    index: tuple[Spec, SpecIndex], seed: int
) -> None:
    """One scope (a spec without a change under review): the ranks are in a line."""
    _, idx = index
    rng = random.Random(seed)
    scope = rng.choice((0, 1, 2))
    op_ranks = [(scope, rng.choice((0, 1, 2))) for _ in idx.ops]
    fast = _ranks_of_one_scope(idx, op_ranks)
    assert fast == schema_ranks(idx, op_ranks)
    assert len(set(fast.values())) > 1 and len(fast) == len(idx.schemas)


def test_attribution_of_a_spec_without_a_change_ranks_as_the_general_walk(
    index: tuple[Spec, SpecIndex],
) -> None:
    spec, idx = index
    attr = attribution(spec, None, None, idx)
    assert attr.schemas == schema_ranks(idx, attr.ops)
    touched = frozenset(op.key for op in idx.ops[::3])
    mixed = attribution(spec, touched, None, idx)  # two scopes: the general walk
    assert {r[0] for r in mixed.ops} == {0, 1}
    assert mixed.schemas == schema_ranks(idx, mixed.ops)
