"""Real OpenStack releases through the api-ref reader, the policy defaults and the ledger.

The services' sdists come from PyPI in the test run (tests/realdata/sdists.py) and are
never committed. Release pairs: nova 20.0.0 (Train) -> 21.0.0 (Ussuri), which removed
os-consoles (never marked deprecated in the api-ref) and os-security-group-default-rules
(listed under "Deprecated APIs"); cinder 18.0.0 (Wallaby) -> 19.0.0 (Xena), which removed
the deprecated v2 API.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from govbot.apiref.policy_audience import audience_from_policies, path_key
from govbot.openapi.model import Spec, operations

from govbot.apiref.ledger import read_ledger
from govbot.apiref.operations import version_key
from govbot.apiref.policies import load_policy_defaults
from govbot.apiref.tree import api_ref_of, read_api_ref
from govbot.findings import Finding
from govbot.openapi.load import load_spec
from govbot.policy import load_policy
from govbot.services.check import SpecSource, check_pairs

pytestmark = pytest.mark.realdata

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 21)
CORPUS = ROOT / "tests" / "data" / "corpus" / "openstack"


def _check(base: Spec, head: Spec) -> list[Finding]:
    path = "api-ref/source"
    report = check_pairs(
        [(SpecSource(path), SpecSource(path))],
        policy=load_policy(ROOT / "policies"),
        today=TODAY,
        preloaded={("base", path): base, ("head", path): head},
    )
    return list(report.findings)


def _read(tree: Path, sub: str = "api-ref/source") -> Spec:
    ledger = read_ledger(tree, notes=False)
    # Bounded by the release's source tree, so both sides name files alike (api-ref/...).
    return read_api_ref(tree / sub, root=tree, version=ledger.max_version if ledger else None)


@pytest.fixture(scope="module")
def nova_pair(sdist) -> tuple[Spec, Spec, list[Finding]]:
    base, head = _read(sdist("nova==20.0.0")), _read(sdist("nova==21.0.0"))
    return base, head, _check(base, head)


def test_nova_ussuri_removals(nova_pair) -> None:
    _base, head, findings = nova_pair
    errors = {f.message.split(" was removed")[0] for f in findings if f.rule == "DEP001"}
    lawful = {f.message.split(" was removed")[0] for f in findings if f.rule == "DEP003"}
    assert "DELETE /servers/{server_id}/consoles/{console_id}" in errors
    assert "GET /os-security-group-default-rules" in lawful
    assert not errors & lawful
    for f in findings:
        if f.rule in ("DEP001", "DEP003"):
            assert f.file.endswith(".inc") and f.line and f.side == "base"
    # the moved pages are obsolete in the head: history, not surface
    obsolete = {op.label for op in api_ref_of(head).obsolete}
    assert "GET /os-security-group-default-rules" in obsolete


def test_nova_new_microversions_recognised(sdist, nova_pair) -> None:
    _base, head, findings = nova_pair
    old = read_ledger(sdist("nova==20.0.0"))
    new = read_ledger(sdist("nova==21.0.0"))
    assert (old.max_version, new.max_version) == ("2.79", "2.87")
    assert [e.version for e in new.history_entries][-8:] == [f"2.{n}" for n in range(80, 88)]
    assert any(n.sections.get("features") for n in new.notes)
    assert head.data["info"]["version"] == "2.87"
    # parameters the head documents as new in 2.80 .. 2.87 are new surface
    facts = api_ref_of(head)
    new_params = {
        (op.label, p.name)
        for op in facts.operations
        for p in op.parameters
        if version_key(p.min_version) and (2, 79) < version_key(p.min_version) <= (2, 87)
    }
    assert new_params
    assert not any(f.rule.startswith("POL002") for f in findings)


def test_cinder_v2_removed_after_deprecation(sdist) -> None:
    base = _read(sdist("cinder==18.0.0"))
    head = _read(sdist("cinder==19.0.0"))
    findings = _check(base, head)
    v2_removed = [f for f in findings if f.rule in ("DEP001", "DEP003") and "/v2/" in f.message]
    assert len(v2_removed) > 50
    assert all(f.rule == "DEP003" for f in v2_removed)
    assert all(f.file.startswith("api-ref/source/v2/") for f in v2_removed)


# --- audience from policy defaults against the corpus specs --------------------------

_ADMIN_TEXT = re.compile(
    r"only users with the administrative role(?! or)|\badministrators? only\b", re.IGNORECASE
)


def _gold(spec: Spec, internal: set[tuple[str, str]]) -> dict[str, str]:
    """Labels from what the specs' own text says (not from policy files): admin-only
    descriptions, nova's api-ref "Internal Service APIs" part; otherwise external."""
    tag_text = {
        t["name"]: t.get("description") or ""
        for t in (spec.data or {}).get("tags", [])
        if isinstance(t, dict) and "name" in t
    }
    out = {}
    for op in operations(spec):
        text = " ".join(
            [str(op.value.get("description") or ""), str(op.value.get("summary") or "")]
            + [tag_text.get(t, "") for t in op.tags]
        )
        if (op.method.upper(), path_key(op.path)) in internal:
            out[op.key] = "internal"
        elif _ADMIN_TEXT.search(text):
            out[op.key] = "external-admin"
        else:
            out[op.key] = "external"
    return out


def _internal_part(index: Path) -> set[tuple[str, str]]:
    """(method, path) of the rest_methods in files included under "Internal Service APIs"."""
    found: set[tuple[str, str]] = set()
    part = ""
    lines = index.read_text().splitlines()
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and re.fullmatch(r"=+", lines[i + 1].strip() or "x"):
            part = line.strip()
        m = re.match(r"\.\. include:: (\S+)", line)
        if m and part.lower().startswith("internal"):
            text = (index.parent / m.group(1)).read_text()
            for method, path in re.findall(r"rest_method::\s+(\w+)\s+(\S+)", text):
                found.add((method.upper(), path_key(path)))
    return found


def _agreement(spec: Spec, trees: list[Path], internal: set[tuple[str, str]]) -> dict:
    defaults = load_policy_defaults(trees)
    decided = audience_from_policies(operations(spec), defaults)
    gold = _gold(spec, internal)
    table: dict[str, Counter] = {}
    for key, label in gold.items():
        d = decided.get(key)
        got = "no policy" if d is None else str(d.audience) if d.audience else "undecided"
        table.setdefault(label, Counter())[got] += 1
    return table


def _report(name: str, table: dict) -> float:
    """Prints the table; returns the agreement on the operations the defaults decided."""
    total = sum(sum(c.values()) for c in table.values())
    decided = total - sum(c["no policy"] + c["undecided"] for c in table.values())
    agree = sum(c[label] for label, c in table.items())
    print(
        f"\n{name}: {agree} of {total} operations agree with the gold "
        f"({agree}/{decided} of those the defaults decide)"
    )
    for label, c in sorted(table.items()):
        print(
            f"  gold {label:15} {sum(c.values()):4}: "
            + ", ".join(f"{k} {v}" for k, v in c.most_common())
        )
    return agree / decided if decided else 0.0


def test_policy_defaults_classify_the_corpus_specs(sdist) -> None:
    nova_internal = _internal_part(sdist("nova==32.0.0") / "api-ref" / "source" / "index.rst")
    assert ("POST", "/os-server-external-events") in nova_internal
    compute = load_spec(CORPUS / "compute" / "v2.96.yaml", validate=False)
    block = load_spec(CORPUS / "block-storage" / "v3.70.yaml", validate=False)
    c = _report(
        "compute v2.96 vs nova 28.0.0 policy defaults",
        _agreement(compute, [sdist("nova==28.0.0")], nova_internal),
    )
    b = _report(
        "block-storage v3.70 vs cinder 22.0.0 policy defaults",
        _agreement(block, [sdist("cinder==22.0.0")], set()),
    )
    # A floor, not a target: the gold is the documents' own prose, which omits many
    # admin-only operations (see the printed tables).
    assert c > 0.6 and b > 0.6
