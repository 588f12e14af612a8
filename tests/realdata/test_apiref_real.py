"""Real OpenStack releases through the whole pipeline: api-ref, policy defaults, ledger.

The services' sdists come from PyPI in the test run (tests/realdata/sdists.py; Apache-2.0)
and are never committed. Release pairs: nova 20.0.0 (Train) -> 21.0.0 (Ussuri), which
removed os-consoles (never marked deprecated in the api-ref) and
os-security-group-default-rules (listed under "Deprecated APIs") and added microversions
2.80 to 2.87; cinder 18.0.0 (Wallaby) -> 19.0.0 (Xena), which removed the deprecated v2
API. Audience: nova 28.0.0's and cinder 22.0.0's policy defaults classify the corpus
compute 2.96 and block-storage 3.70 specs (tests/data/corpus, Apache-2.0), measured
against what the specs' own text says.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from govbot.apiref.operations import version_key
from govbot.apiref.policies import load_policy_defaults
from govbot.apiref.project import facts_of
from govbot.apiref.tree import read_api_ref
from govbot.audience import audience_from_policies
from govbot.audience.policies import path_key
from govbot.findings import Finding, Severity
from govbot.openapi.load import load_spec
from govbot.policy import load_policy
from govbot.services.check import check_files
from govbot.surface import Spec, operations

pytestmark = pytest.mark.realdata

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 21)
CORPUS = ROOT / "tests" / "data" / "corpus" / "openstack"


def _check(base: Path, head: Path) -> list[Finding]:
    report = check_files(
        [head / "api-ref" / "source"],
        base_files=[base / "api-ref" / "source"],
        policy=load_policy(ROOT / "policies"),
        today=TODAY,
    )
    return list(report.findings)


@pytest.fixture(scope="module")
def nova(sdist) -> tuple[Path, Path, list[Finding]]:
    base, head = sdist("nova==20.0.0"), sdist("nova==21.0.0")
    return base, head, _check(base, head)


def _verdicts(name: str, findings: list[Finding]) -> None:
    counts = Counter(f"{f.rule}:{f.severity}" for f in findings if f.rule[:3] != "CON")
    print(f"\n{name}: {len(findings)} findings; outside CON: {dict(sorted(counts.items()))}")


def test_nova_ussuri_removals(nova) -> None:
    """os-consoles went without deprecation: errors at its .inc lines (base side);
    os-security-group-default-rules was deprecated: lawful (DEP003)."""
    _base, _head, findings = nova
    _verdicts("nova 20.0.0 -> 21.0.0", findings)
    errors = {f.message.split(" was removed")[0] for f in findings if f.rule == "DEP001"}
    lawful = {f.message.split(" was removed")[0] for f in findings if f.rule == "DEP003"}
    assert "DELETE /servers/{server_id}/consoles/{console_id}" in errors
    assert "GET /os-security-group-default-rules" in lawful
    assert not errors & lawful
    for f in findings:
        if f.rule in ("DEP001", "DEP003"):
            assert f.file.startswith("api-ref/source/") and f.file.endswith(".inc")
            assert f.line and f.side == "base" and f.operation is not None
    assert not [f for f in findings if f.rule == "POL002"], "a rule crashed"


def test_nova_new_microversions_recognised(sdist, nova) -> None:
    """2.79 -> 2.87 with history entries and release notes: the microversion rules are
    satisfied, and what 2.80-2.87 added is documented at those versions."""
    _base, head, findings = nova
    report = check_files(
        [head / "api-ref" / "source"], policy=load_policy(ROOT / "policies"), today=TODAY
    )
    assert report.files == ("api-ref/source",)
    facts = facts_of(read_api_ref(head / "api-ref" / "source"))
    assert facts is not None and facts.ledger is not None
    assert (facts.ledger.max_version, facts.ledger.max_where.file) == (
        "2.87",
        "nova/api/openstack/api_version_request.py",
    )
    versions = [e.version for e in facts.ledger.history_entries]
    assert versions[-8:] == [f"2.{n}" for n in range(80, 88)]
    new_params = {
        (op.label, p.name)
        for op in facts.api.operations
        for p in op.parameters
        if (v := version_key(p.min_version)) and (2, 79) < v <= (2, 87)
    }
    assert len(new_params) > 10
    rules = Counter(f.rule for f in findings)
    assert rules["MVR001"] == rules["MVR002"] == rules["MVR004"] == 0
    assert rules["MVR003"] == 0


def _spec(tree: Path) -> Spec:
    from govbot.apiref.tree import read_api_ref

    return read_api_ref(tree / "api-ref" / "source")


def test_cinder_v2_removed_after_deprecation(sdist) -> None:
    """cinder's v2 and v3 are two APIs; v2's pages went from "(DEPRECATED)" to "(REMOVED)":
    every v2 removal is lawful, none is an error."""
    base, head = sdist("cinder==18.0.0"), sdist("cinder==19.0.0")
    report = check_files(
        [head / "api-ref" / "source"],
        base_files=[base / "api-ref" / "source"],
        policy=load_policy(ROOT / "policies"),
        today=TODAY,
    )
    assert report.files == ("api-ref/source/v2", "api-ref/source/v3")
    findings = list(report.findings)
    _verdicts("cinder 18.0.0 -> 19.0.0", findings)
    v2 = [
        f
        for f in findings
        if f.rule in ("DEP001", "DEP003") and f.file.startswith("api-ref/source/v2/")
    ]
    assert len(v2) > 50
    assert all(f.rule == "DEP003" and f.severity is Severity.INFO for f in v2)
    assert not [f for f in findings if f.rule == "POL002"], "a rule crashed"


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
    decided = audience_from_policies(operations(spec), load_policy_defaults(trees))
    table: dict[str, Counter] = {}
    for key, label in _gold(spec, internal).items():
        d = decided.get(key)
        got = "no policy" if d is None else str(d.audience) if d.audience else "undecided"
        table.setdefault(label, Counter())[got] += 1
    return table


def _report(name: str, table: dict) -> dict[str, float]:
    """Prints the table; returns the agreement per gold label on the decided operations."""
    print(f"\n{name}:")
    out = {}
    for label, c in sorted(table.items()):
        decided = sum(c.values()) - c["no policy"] - c["undecided"]
        out[label] = c[label] / decided if decided else 0.0
        print(
            f"  gold {label:15} {sum(c.values()):4} ops, {decided:4} decided, agreement "
            f"{out[label]:.0%}: " + ", ".join(f"{k} {v}" for k, v in c.most_common())
        )
    agree = sum(c[label] for label, c in table.items())
    decided = sum(sum(c.values()) - c["no policy"] - c["undecided"] for c in table.values())
    out["all"] = agree / decided if decided else 0.0
    print(f"  overall {agree}/{decided} decided operations agree ({out['all']:.0%})")
    return out


def test_policy_defaults_classify_the_corpus_specs(sdist) -> None:
    """Agreement per label between the policy defaults and the specs' own words."""
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
    # Floors, not targets: the gold is the documents' own prose, which omits many
    # admin-only operations (see the printed tables). What the prose calls admin-only,
    # the defaults must mostly agree with.
    assert c["all"] > 0.6 and b["all"] > 0.6
    assert c["external-admin"] > 0.7 and b["external-admin"] > 0.7
