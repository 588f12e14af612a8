"""govbot.openapi.subscriptable answers pathable's Protocol check the same way, faster.

That the detailed validation finds the same issues with it as without it is
tests/openapi/test_openapi_validate.py::test_driving_the_validator_cheaply_changes_no_issue."""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pytest
from pathable import accessors
from pathable.protocols import Subscriptable as Protocol

from govbot.openapi import subscriptable
from govbot.openapi.load import load_spec
from govbot.openapi.validate import detail_issues


class Lookup:
    """A class with the three members the Protocol asks for."""

    def __contains__(self, key: object) -> bool:
        return False

    def __getitem__(self, key: object) -> None:
        raise KeyError(key)

    def __len__(self) -> int:
        return 0


class Blocked(Lookup):
    __getitem__ = None  # type: ignore[assignment]  # the Protocol's way to opt out


VALUES = [
    {},
    {"a": 1},
    [],
    [1, 2],
    (),
    "text",
    b"bytes",
    0,
    1.5,
    True,
    None,
    dt.date(2026, 1, 1),
    collections.OrderedDict(a=1),
    frozenset({1}),
    range(3),
    Lookup(),
    Blocked(),
    object(),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_the_answer_is_the_protocols(value: object) -> None:
    assert isinstance(value, subscriptable.Subscriptable) == isinstance(value, Protocol)


def test_the_detailed_validation_installs_it(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
    )
    spec = load_spec(tmp_path / "api.yaml", root=tmp_path, validate=False)
    assert spec.version is not None
    assert detail_issues(spec.version, spec.data, spec.file, spec.documents, spec.refs) == []
    assert accessors.Subscriptable is subscriptable.Subscriptable
