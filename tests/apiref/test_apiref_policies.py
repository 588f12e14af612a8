"""Policy defaults parsed (never run), check strings evaluated, and the microversion ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from govbot.apiref.checkstr import (
    MEMBER,
    PROJECT_ADMIN,
    READER,
    SERVICE,
    SYSTEM_ADMIN,
    evaluate,
    parse,
)
from govbot.apiref.ledger import read_ledger
from govbot.apiref.policies import load_policy_defaults, read_policy_defaults
from govbot.apiref.source import FileTree
from govbot.sources import GitReader
from tests.apiref.apiref_support import git_commit_all, git_init, write

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
OLD = policy.DeprecatedRule(W % 'index', 'role:reader')
rules = [
    policy.DocumentedRuleDefault(W % 'index', base.PROJECT_READER, 'List',
        [{{'method': 'GET', 'path': '/widgets'}}], deprecated_rule=OLD),
    policy.DocumentedRuleDefault(name='widgets:{{}}'.format('reboot'), check_str=base.ADMIN,
        description='Reboot',
        operations=[{{'method': 'POST', 'path': '/widgets/{{widget_id}}/action (reboot)'}}]),
    policy.DocumentedRuleDefault(f"widgets:{{'events'}}", base.SERVICE_ROLE, 'Events',
        [{{'method': 'POST', 'path': '/v2.1/events'}}]),
    policy.DocumentedRuleDefault(compute_name(), 'role:admin', 'Computed', []),
]
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
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
    return src, marker


def test_policy_defaults_are_parsed_never_run(project: tuple[Path, Path]) -> None:
    """Module constants, imports between policy modules, %, format and f-strings are
    resolved; code at module level never runs; a syntax error is a problem at its line;
    what the safe subset cannot express is unresolved, never guessed."""
    src, marker = project
    defaults = load_policy_defaults([src])
    assert not marker.exists()
    assert {p.name for p in defaults.naming()} == {
        "widgets:index",
        "widgets:reboot",
        "widgets:events",
    }
    assert [(p.code, p.file, p.line) for p in defaults.problems] == [
        ("ARF008", "pkg/policies/broken.py", 1)
    ]
    assert len(defaults.unresolved) == 1 and "Call" in defaults.unresolved[0].reason
    index = defaults.policies["widgets:index"]
    assert (index.check_str, index.deprecated_check_str) == (
        "rule:project_reader_api",
        "role:reader",
    )
    assert (index.where.file, index.where.line) == ("pkg/policies/widgets.py", 8)
    reboot = defaults.policies["widgets:reboot"]
    assert [(o.method, o.path, o.action) for o in reboot.operations] == [
        ("POST", "/widgets/{widget_id}/action", "reboot")
    ]


def test_a_package_or_a_file_is_read_with_its_dotted_names(project: tuple[Path, Path]) -> None:
    """Given the policies package alone, files keep the names they have in the project
    and imports inside the package resolve; one module alone cannot resolve what it
    imports: those defaults are unresolved, never guessed."""
    src, _ = project
    by_package = load_policy_defaults([src / "pkg" / "policies"])
    assert by_package.policies["widgets:index"].where.file == "pkg/policies/widgets.py"
    assert by_package.policies["widgets:index"].check_str == "rule:project_reader_api"
    one_file = load_policy_defaults([src / "pkg" / "policies" / "widgets.py"])
    assert one_file.policies == {} and len(one_file.unresolved) == 4


def test_policy_defaults_from_a_git_revision(project: tuple[Path, Path]) -> None:
    """The bot reads the same defaults from the patch set's tree (a git revision)."""
    src, _ = project
    repo = git_init(src)
    sha = git_commit_all(repo, "policies")
    from_git = read_policy_defaults([GitReader(repo, sha)])
    from_disk = read_policy_defaults([FileTree(src)])
    assert from_git.policies == from_disk.policies


@pytest.mark.parametrize(
    ("check", "persona", "expected"),
    [
        ("@", READER, True),
        ("!", SYSTEM_ADMIN, False),
        ("", MEMBER, True),  # an empty check string allows anyone
        ("role:reader and project_id:%(project_id)s", READER, True),
        ("role:member and project_id:%(project_id)s", READER, False),
        ("(role:admin and system_scope:all) or role:member", MEMBER, True),
        ("role:admin and system_scope:all", SYSTEM_ADMIN, True),
        ("is_admin:True or project_id:%(project_id)s", PROJECT_ADMIN, True),
        ("is_admin:True or project_id:%(project_id)s", SERVICE, False),
        ("not role:service", SERVICE, False),
        ("user_id:%(user_id)s", READER, True),
        ("is_admin:True", READER, False),
        ("http://example.invalid/check", READER, None),
        ("rule:undefined", READER, None),
        ("project_id:%(target.server.owner)s", READER, None),
        ("role:reader and", READER, False),  # oslo.policy: a bad string denies
    ],
)
def test_check_strings(check: str, persona, expected) -> None:
    """oslo.policy's grammar, three-valued: unknown where no persona can tell."""
    assert evaluate(parse(check), persona, lambda name: None, []) is expected


def test_a_check_string_bomb_is_bounded() -> None:
    """Thousands of nested parentheses or tokens deny (as a bad string does), fast."""
    assert evaluate(parse("(" * 5000 + "@" + ")" * 5000), READER, lambda n: None, []) is False
    assert evaluate(parse(" or ".join(["role:x"] * 5000)), READER, lambda n: None, []) is False


def test_ledger(tmp_path: Path) -> None:
    """The maximum with its line, the history in the code and in the .rst, the notes."""
    src = write(
        tmp_path / "p",
        {
            "pkg/api/openstack/api_version_request.py": (
                'REST_API_VERSION_HISTORY = """History:\n\n    * 2.1 - Initial\n'
                '    * 2.2 - Adds x\n"""\n'
                "_MIN_API_VERSION = '2.1'\n_MAX_API_VERSION = '2.2'\n"
            ),
            "pkg/api/openstack/rest_api_version_history.rst": (
                "2.1\n---\n\nInitial.\n\n2.2\n---\n\nAdds x.\n"
            ),
            "releasenotes/notes/x-1.yaml": "features:\n  - |\n    Adds x.\n",
            "pkg/tests/api_version_request.py": "_MAX_API_VERSION = '9.9'\n",
        },
    )
    ledger = read_ledger(src)
    assert ledger is not None
    assert ledger.max_where is not None
    assert (ledger.max_version, ledger.max_where.line) == ("2.2", 7)
    assert [(e.version, e.where.line) for e in ledger.code_entries] == [("2.1", 3), ("2.2", 4)]
    assert [(e.version, e.where.line) for e in ledger.history_entries] == [
        ("2.1", 1),
        ("2.2", 6),
    ]
    assert ledger.notes == frozenset({"releasenotes/notes/x-1.yaml"})
    assert (tmp_path / "nothing-here").mkdir() is None
    assert read_ledger(tmp_path / "nothing-here") is None


def test_a_broken_ledger_is_a_problem(tmp_path: Path) -> None:
    src = write(tmp_path / "p", {"pkg/api/openstack/api_version_request.py": "_MAX = (\n"})
    ledger = read_ledger(src)
    assert ledger is not None and ledger.max_version is None
    assert [(p.code, p.line) for p in ledger.problems] == [("ARF010", 1)]


LIB = '''\
def policy_or(*args):
    """Joins check strings with or."""
    return ' or '.join(args)


def run_me(*args):
    import os
    return ' or '.join(args)


ADMIN_OR_OWNER = 'rule:context_is_admin or project_id:%(project_id)s'
'''
NETWORKS = """\
from lib import policy as lib_policy
from oslo_policy import policy
rules = [
    policy.DocumentedRuleDefault(
        name='get_network',
        check_str=lib_policy.policy_or(lib_policy.ADMIN_OR_OWNER, 'rule:shared'),
        description='Get a network',
        operations=[{'method': 'GET', 'path': '/networks/{id}'}],
        deprecated_rule=lib_policy.ProjectDeprecatedRule('get_network', ''),
    ),
    policy.DocumentedRuleDefault(
        name='delete_network',
        check_str=lib_policy.run_me('role:admin', 'role:member'),
        description='Delete a network',
        operations=[{'method': 'DELETE', 'path': '/networks/{id}'}],
    ),
]
"""


def test_rules_kept_in_another_project(tmp_path: Path) -> None:
    """neutron's defaults use neutron-lib's constants and its ``policy_or``: a function
    whose whole body joins its arguments is evaluated as that join, any other call is
    unresolved; a project's DeprecatedRule subclass is a deprecated rule ("" lets anyone in)."""
    lib = write(tmp_path / "lib", {"lib/__init__.py": "", "lib/policy/__init__.py": LIB})
    project = write(
        tmp_path / "project",
        {
            "net/__init__.py": "",
            "net/policies/__init__.py": "",
            "net/policies/networks.py": NETWORKS,
        },
    )
    defaults = load_policy_defaults([project, lib])
    get = defaults.policies["get_network"]
    assert get.check_str == "rule:context_is_admin or project_id:%(project_id)s or rule:shared"
    assert get.deprecated_check_str == ""
    assert "delete_network" not in defaults.policies
    assert [s.where.line for s in defaults.unresolved] == [11]
    assert not load_policy_defaults([project]).policies  # without the library: unresolved
