"""Cut a real subset of nova's api-ref, policy defaults and ledger for the sandbox demo.

For each release, from its sdist on PyPI (tests/realdata/sdists.py; nova is Apache-2.0):

* ``api-ref/source``: the ``.inc`` files of :data:`PAGES` as released, ``index.rst`` with
  only the includes of those pages (its parts and prose as released), ``parameters.yaml``
  with only the entries those pages use (each entry's text as released, in its order);
* ``nova/policies``: ``base.py`` and the modules naming those pages' operations, as released;
* the ledger: ``nova/api/openstack/api_version_request.py`` and
  ``nova/api/openstack/compute/rest_api_version_history.rst``, as released.

Usage: python tests/realdata/nova_subset.py OUT_DIR nova==20.0.0 nova==21.0.0 ...
(the sandbox's copy is govbot/sandbox/data/nova-api/, see its README).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from tests.realdata.sdists import fetch

PAGES = (
    "flavors.inc",
    "os-flavor-access.inc",
    "os-keypairs.inc",
    "limits.inc",
    "os-availability-zone.inc",
    "os-server-groups.inc",
    "os-aggregates.inc",
    "os-consoles.inc",
    "os-security-group-default-rules.inc",
    "os-hosts.inc",
    "os-server-external-events.inc",
)
POLICIES = (
    "__init__.py",
    "base.py",
    "flavor_access.py",
    "flavor_manage.py",
    "flavor_extra_specs.py",
    "keypairs.py",
    "limits.py",
    "availability_zone.py",
    "server_groups.py",
    "aggregates.py",
    "consoles.py",
    "security_group_default_rules.py",
    "hosts.py",
    "server_external_events.py",
)
LEDGER = (
    "nova/api/openstack/api_version_request.py",
    "nova/api/openstack/compute/rest_api_version_history.rst",
)
_INCLUDE = re.compile(r"^\.\. include:: (\S+)\s*$")
_USE = re.compile(r"^\s*-\s*\S.*?:\s+(\S+?)\s*$")
_ENTRY = re.compile(r"^([^\s#].*?):(?:\s|$)")


def _index(text: str, pages: set[str]) -> str:
    out = []
    for line in text.splitlines():
        m = _INCLUDE.match(line)
        if m and m.group(1) not in pages:
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _used_keys(texts: list[str]) -> set[str]:
    keys: set[str] = set()
    for text in texts:
        inside = False
        for line in text.splitlines():
            if line.startswith(".. rest_parameters::"):
                inside = True
                continue
            if inside and line and not line[0].isspace():
                inside = False
            m = _USE.match(line) if inside else None
            if m:
                keys.add(m.group(1))
    return keys


def _parameters(text: str, keys: set[str]) -> str:
    """The entries named by ``keys`` (and those they merge from), as written."""
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = _ENTRY.match(line)
        if m:
            blocks.append((m.group(1).strip(), [line]))
        elif blocks:
            blocks[-1][1].append(line)
    anchors = {a: key for key, lines in blocks for a in re.findall(r"&(\w+)", lines[0])}
    wanted = set(keys)
    for key, lines in blocks:
        if key in keys:
            wanted.update(
                anchors[a] for a in re.findall(r"\*(\w+)", "\n".join(lines)) if a in anchors
            )
    kept = ["\n".join(lines).rstrip() for key, lines in blocks if key in wanted]
    return "\n".join(kept) + "\n"


def cut(tree: Path, out: Path) -> None:
    source = tree / "api-ref" / "source"
    pages = {p for p in PAGES if (source / p).exists()}
    target = out / "api-ref" / "source"
    target.mkdir(parents=True)
    texts = []
    for page in sorted(pages):
        text = (source / page).read_text()
        texts.append(text)
        (target / page).write_text(text)
    (target / "index.rst").write_text(_index((source / "index.rst").read_text(), pages))
    params = _parameters((source / "parameters.yaml").read_text(), _used_keys(texts))
    (target / "parameters.yaml").write_text(params)
    (out / "nova" / "policies").mkdir(parents=True)
    for name in POLICIES:
        if (tree / "nova" / "policies" / name).exists():
            shutil.copy(tree / "nova" / "policies" / name, out / "nova" / "policies" / name)
    for path in LEDGER:
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tree / path, out / path)


def main(out: Path, requirements: list[str]) -> None:
    for requirement in requirements:
        version = requirement.partition("==")[2]
        target = out / version
        if target.exists():
            shutil.rmtree(target)
        cut(fetch(requirement), target)
        print(target)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
