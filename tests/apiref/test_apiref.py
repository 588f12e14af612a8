"""The api-ref reader, policy defaults and ledger on small trees written by the tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from govbot.apiref.policy_audience import audience_from_policies
from govbot.openapi.model import operations

from govbot.apiref.checkstr import MEMBER, READER, SERVICE, SYSTEM_ADMIN, evaluate, parse
from govbot.apiref.ledger import read_ledger
from govbot.apiref.policies import load_policy_defaults
from govbot.apiref.tree import api_ref_of, is_api_ref_tree, read_api_ref
from govbot.findings import Audience
from govbot.policy import load_policy
from govbot.services.check import SpecSource, check_pairs

ROOT = Path(__file__).resolve().parents[2]

INDEX = """\
=============
 Widgets API
=============

.. include:: widgets.inc

===============
Deprecated APIs
===============

.. include:: gadgets.inc

=============
Obsolete APIs
=============

.. include:: gizmos.inc

=====================
Internal Service APIs
=====================

.. include:: events.inc
"""

WIDGETS = """\
.. -*- rst -*-

=========
 Widgets
=========

List Widgets
============

.. rest_method:: GET /widgets

Lists widgets.

Normal response codes: 200

Error response codes: unauthorized(401), forbidden(403)

Request
-------

.. rest_parameters:: parameters.yaml

  - limit: widget_limit

Response
--------

.. rest_parameters:: parameters.yaml

  - widgets: widgets

Reboot Widget (reboot Action)
=============================

.. rest_method:: POST /widgets/{widget_id}/action

Normal response codes: 202

Request
-------

.. rest_parameters:: parameters.yaml

  - widget_id: widget_id_path
  - reboot: reboot
  - type: reboot_type

Pause Widget (pause Action)
===========================

.. rest_method:: POST /widgets/{widget_id}/action

Normal response codes: 202

Request
-------

.. rest_parameters:: parameters.yaml

  - widget_id: widget_id_path
  - pause: pause
"""

GADGETS = """\
Gadgets
=======

Show Gadget
===========

.. rest_method:: GET /gadgets/{widget_id}
   max_version: 2.35

Normal response codes: 200
"""

GIZMOS = """\
Gizmos (REMOVED)
================

List Gizmos
===========

.. rest_method:: GET /gizmos

Normal response codes: 200
"""

EVENTS = """\
Events
======

Create Event
============

.. rest_method:: POST /events

Normal response codes: 200
"""

PARAMETERS = """\
widget_id_path:
  in: path
  required: true
  type: string
  description: The widget.
widget_limit:
  in: query
  required: false
  type: integer
  min_version: 2.10
  description: Page size.
pause:
  in: body
  required: true
  type: none
  description: The action.
reboot:
  in: body
  required: true
  type: object
  description: The action.
reboot_type:
  in: body
  required: true
  type: string
  description: HARD or SOFT.
widgets:
  in: body
  required: true
  type: array
  description: The widgets.
"""


def write(tree: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write(
        tmp_path / "api",
        {
            "conf.py": "raise SystemExit('never run')\n",
            "index.rst": INDEX,
            "widgets.inc": WIDGETS,
            "gadgets.inc": GADGETS,
            "gizmos.inc": GIZMOS,
            "events.inc": EVENTS,
            "parameters.yaml": PARAMETERS,
        },
    )


def test_tree_is_one_api_with_lines_and_marks(tree: Path) -> None:
    assert is_api_ref_tree(tree)
    spec = read_api_ref(tree)
    facts = api_ref_of(spec)
    ops = {op.label: op for op in operations(spec)}
    assert set(ops) == {
        "GET /widgets",
        "POST /widgets/{widget_id}/action (reboot)",
        "POST /widgets/{widget_id}/action (pause)",
        "GET /gadgets/{widget_id}",
        "POST /events",
    }
    assert [op.label for op in facts.obsolete] == ["GET /gizmos"]
    get = ops["GET /widgets"]
    assert spec.line(get.node.file, get.node.pointer) == 10
    assert get.node.file == "widgets.inc"
    limit = get.parameters[0]
    assert (limit.name, limit.node.file, spec.line(limit.node.file, limit.node.pointer)) == (
        "limit",
        "parameters.yaml",
        6,
    )
    assert limit.node.value["x-openstack"] == {"min-ver": "2.10"}  # not the float 2.1
    assert set(get.responses) == {"200", "401", "403"}
    assert ops["GET /gadgets/{widget_id}"].deprecated
    assert ops["GET /gadgets/{widget_id}"].x_openstack == {"max-ver": "2.35"}
    assert ops["POST /events"].value["x-audience"] == "internal"
    pause = ops["POST /widgets/{widget_id}/action (pause)"]
    assert pause.path == "/widgets/{widget_id}/action" and pause.action == "pause"
    assert pause.key != ops["POST /widgets/{widget_id}/action (reboot)"].key


def _check(base: Path, head: Path) -> list:
    path = "api"
    report = check_pairs(
        [(SpecSource(path), SpecSource(path))],
        policy=load_policy(ROOT / "policies"),
        today=dt.date(2026, 11, 21),
        preloaded={("base", path): read_api_ref(base), ("head", path): read_api_ref(head)},
    )
    return list(report.findings)


def test_removals_judged_per_operation_and_action(tree: Path, tmp_path: Path) -> None:
    head = write(
        tmp_path / "head",
        {
            "index.rst": INDEX.replace(".. include:: gadgets.inc", ""),
            "widgets.inc": WIDGETS[: WIDGETS.index("Pause Widget")],
            "gadgets.inc": GADGETS,
            "gizmos.inc": GIZMOS,
            "events.inc": EVENTS,
            "parameters.yaml": PARAMETERS,
        },
    )
    findings = _check(tree, head)
    removed = {
        (f.rule, f.message.split(" was removed")[0], f.file, f.line)
        for f in findings
        if f.rule in ("DEP001", "DEP003")
    }
    assert removed == {
        ("DEP001", "POST /widgets/{widget_id}/action (pause)", "widgets.inc", 51),
        ("DEP003", "GET /gadgets/{widget_id}", "gadgets.inc", 7),
    }


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"index.rst": ".. include:: ../../etc/passwd\n"}, "ARF001"),
        ({"index.rst": ".. include:: /etc/passwd\n"}, "ARF005"),
        ({"index.rst": WIDGETS}, "ARF002"),
        ({"index.rst": WIDGETS, "parameters.yaml": "a: [\n"}, "ARF003"),
        ({"index.rst": WIDGETS, "parameters.yaml": "- a\n- b\n"}, "ARF003"),
        ({"index.rst": WIDGETS, "parameters.yaml": "other:\n  in: body\n"}, "ARF004"),
        ({"index.rst": "x\x00y"}, "ARF005"),
    ],
)
def test_bad_input_is_a_finding(tmp_path: Path, files: dict[str, str], code: str) -> None:
    tree = write(tmp_path / "t", files)
    spec = read_api_ref(tree, root=tree)
    assert code in {f.rule for f in spec.findings}
    _check(tree, tree)  # the whole pipeline runs on it


def test_yaml_bomb_is_not_expanded(tmp_path: Path) -> None:
    lines = ["a: &a {in: body, type: string}"]
    for i in range(1, 30):
        lines.append(f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}" if i > 1 else "*a"] * 10) + "]")
    tree = write(tmp_path / "t", {"index.rst": WIDGETS, "parameters.yaml": "\n".join(lines) + "\n"})
    spec = read_api_ref(tree, root=tree)
    assert "ARF004" in {f.rule for f in spec.findings}


POLICY_BASE = """\
from oslo_policy import policy
PROJECT_READER = 'rule:project_reader_api'
ADMIN = 'rule:context_is_admin'
SERVICE_ROLE = 'rule:service_api'
rules = [
    policy.RuleDefault('context_is_admin', 'role:admin'),
    policy.RuleDefault('project_reader_api', 'role:reader and project_id:%(project_id)s'),
    policy.RuleDefault('service_api', 'role:service or rule:context_is_admin'),
]
"""
POLICY_WIDGETS = """\
import pathlib
from oslo_policy import policy
from pkg.policies import base
pathlib.Path({marker!r}).write_text('ran')
W = 'widgets:%s'
rules = [
    policy.DocumentedRuleDefault(W % 'index', base.PROJECT_READER, 'List',
        [{{'method': 'GET', 'path': '/widgets'}}]),
    policy.DocumentedRuleDefault(name='widgets:{{}}'.format('reboot'), check_str=base.ADMIN,
        description='Reboot',
        operations=[{{'method': 'POST', 'path': '/widgets/{{widget_id}}/action (reboot)'}}]),
    policy.DocumentedRuleDefault(f"widgets:{{'events'}}", base.SERVICE_ROLE, 'Events',
        [{{'method': 'POST', 'path': '/v2.1/events'}}]),
]
"""


def test_policy_defaults_parsed_never_run(tree: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    src = write(
        tmp_path / "src",
        {
            "pkg/__init__.py": "",
            "pkg/policies/__init__.py": "",
            "pkg/policies/base.py": POLICY_BASE,
            "pkg/policies/widgets.py": POLICY_WIDGETS.format(marker=str(marker)),
            "pkg/policies/broken.py": "def (:\n",
        },
    )
    defaults = load_policy_defaults([src])
    assert not marker.exists()
    assert {p.name for p in defaults.naming()} == {
        "widgets:index",
        "widgets:reboot",
        "widgets:events",
    }
    assert [(f.rule, f.line) for f in defaults.problems] == [("ARF008", 1)]
    decided = audience_from_policies(operations(read_api_ref(tree)), defaults)
    got = {key: d.audience for key, d in decided.items()}
    assert got == {
        "GET /widgets": Audience.EXTERNAL,
        "POST /widgets/{}/action (reboot)": Audience.EXTERNAL_ADMIN,
        "POST /events": Audience.INTERNAL,
    }
    assert "pkg/policies/widgets.py" in decided["GET /widgets"].evidence


@pytest.mark.parametrize(
    ("check", "persona", "expected"),
    [
        ("@", READER, True),
        ("!", SYSTEM_ADMIN, False),
        ("role:reader and project_id:%(project_id)s", READER, True),
        ("role:member and project_id:%(project_id)s", READER, False),
        ("(role:admin and system_scope:all) or role:member", MEMBER, True),
        ("role:admin and system_scope:all", SYSTEM_ADMIN, True),
        ("not role:service", SERVICE, False),
        ("user_id:%(user_id)s", READER, True),
        ("is_admin:True", READER, False),
        ("http://example.invalid/check", READER, None),
        ("rule:undefined", READER, None),
        ("role:reader and", READER, False),  # oslo.policy: a bad string denies
    ],
)
def test_check_strings(check: str, persona, expected) -> None:
    assert evaluate(parse(check), persona, lambda name: None, []) is expected


def test_ledger(tmp_path: Path) -> None:
    src = write(
        tmp_path / "p",
        {
            "pkg/api/openstack/api_version_request.py": (
                'REST_API_VERSION_HISTORY = """History:\n\n    * 2.1 - Initial\n    * 2.2 - Adds x\n"""\n'
                "_MIN_API_VERSION = '2.1'\n_MAX_API_VERSION = '2.2'\n"
            ),
            "pkg/api/openstack/rest_api_version_history.rst": "2.1\n---\n\nInitial.\n\n2.2\n---\n\nAdds x.\n",
            "releasenotes/notes/x-1.yaml": "features:\n  - |\n    Adds x.\n",
        },
    )
    ledger = read_ledger(src)
    assert ledger is not None
    assert (ledger.max_version, ledger.max_where.line) == ("2.2", 7)
    assert [(e.version, e.where.line) for e in ledger.code_entries] == [("2.1", 3), ("2.2", 4)]
    assert [(e.version, e.where.line) for e in ledger.history_entries] == [("2.1", 1), ("2.2", 6)]
    assert ledger.notes[0].sections["features"][0][1] == 2
    assert read_ledger(tmp_path / "nothing-here") is None
