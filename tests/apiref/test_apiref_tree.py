"""The api-ref reader on small trees written by the tests: one API, lines, marks, bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from govbot.apiref.project import facts_of
from govbot.apiref.tree import find_api_ref_trees, is_api_ref_tree, read_api_ref
from govbot.policy import load_policy
from govbot.services.check import check_files
from govbot.surface import operations

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
    """Every operation with its rest_method line, parameters at their parameters.yaml
    entry, actions told apart by their body key, marks from titles and index parts."""
    assert is_api_ref_tree(tree)
    spec = read_api_ref(tree)
    facts = facts_of(spec).api
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
    report = check_files(
        [head],
        base_files=[base],
        policy=load_policy(ROOT / "policies"),
        today=dt.date(2026, 11, 21),
    )
    return list(report.findings)


def test_removals_judged_per_operation_and_action(tree: Path, tmp_path: Path) -> None:
    """An action removed without deprecation is an error at its section; an operation
    capped by max_version is lawful (DEP003)."""
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
    """Each problem is a Problem of its code; the whole pipeline reports it as a finding."""
    tree = write(tmp_path / "t", files)
    spec = read_api_ref(tree, root=tree)
    assert code in {p.code for p in spec.problems}
    report = (
        check_files(
            [tree], policy=load_policy(ROOT / "policies"), today=dt.date(2026, 11, 21), root=tree
        )
        if is_api_ref_tree(tree)
        else None
    )
    if report is not None:
        assert code in {f.rule for f in report.findings}


def test_yaml_bomb_is_not_expanded(tmp_path: Path) -> None:
    """A billion-laughs parameters.yaml costs what its text costs: aliases of lists are
    never expanded (its entries are not mappings of fields: skipped and counted)."""
    lines = ["a: &a {in: body, type: string}"]
    for i in range(1, 30):
        lines.append(f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}" if i > 1 else "*a"] * 10) + "]")
    tree = write(tmp_path / "t", {"index.rst": WIDGETS, "parameters.yaml": "\n".join(lines) + "\n"})
    spec = read_api_ref(tree, root=tree)
    codes = {p.code for p in spec.problems}
    assert "ARF004" in codes and "ARF006" in codes


def test_directories_holding_trees(tmp_path: Path, tree: Path) -> None:
    """cinder's layout: api-ref/source holds no parameters file, its v2 and v3 are two
    APIs; a tree's own subdirectories are its own."""
    source = tmp_path / "proj" / "api-ref" / "source"
    for version in ("v2", "v3"):
        write(
            source / version,
            {"index.rst": INDEX, "widgets.inc": WIDGETS, "parameters.yaml": PARAMETERS},
        )
    write(source, {"index.rst": "API\n===\n\n.. toctree::\n\n   v2/index\n   v3/index\n"})
    write(source / "v3" / "extra", {"index.rst": INDEX, "parameters.yaml": PARAMETERS})
    assert not is_api_ref_tree(source)
    assert [p.name for p in find_api_ref_trees(tmp_path / "proj")] == ["v2", "v3"]
    spec = read_api_ref(source / "v3")
    assert spec.file == "api-ref/source/v3"  # named from the project, above api-ref
    assert {op.node.file for op in operations(spec)} == {"api-ref/source/v3/widgets.inc"}


def test_prose_microversion_of_an_operation(tmp_path: Path) -> None:
    """ "This API is available starting with microversion 2.81." is the operation's minimum."""
    inc = WIDGETS.replace(
        "Lists widgets.", "Lists widgets.\n\nThis API is available starting with microversion 2.81."
    )
    spec = read_api_ref(write(tmp_path / "t", {"index.rst": inc, "parameters.yaml": PARAMETERS}))
    ops = {op.label: op for op in operations(spec)}
    assert ops["GET /widgets"].x_openstack == {"min-ver": "2.81"}
