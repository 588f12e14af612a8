"""The verdict cache: a second check of the same bytes reuses the first one's report.

The work is counted (how often the rules are evaluated), never timed; every reused
report must be the one a fresh check gives, down to lines, JSON and SARIF.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from govbot import render
from govbot.cli import cli
from govbot.openapi.files import FileReader
from govbot.policy import Policy
from govbot.rules.catalog import all_rules
from govbot.services import check as check_module
from govbot.services import verdicts
from govbot.services.check import SpecSource, check_files, check_pairs

DATA = Path(__file__).parent / "data"
RULES = Path(__file__).parent / "rules"
TODAY = dt.date(2026, 12, 3)
# (base or None, head): pairs with line numbers in YAML, a deprecation, a multi-file
# spec, a refused document.
FIXTURES = [
    (DATA / "demo" / "compute-base.yaml", DATA / "demo" / "compute-head.yaml"),
    (
        RULES / "DEP001" / "removed-not-deprecated" / "base.yaml",
        RULES / "DEP001" / "removed-not-deprecated" / "revision.yaml",
    ),
    (None, RULES / "CON001" / "camel-case-fields" / "base.yaml"),
    (None, DATA / "load" / "multi" / "api" / "openapi.yaml"),
    (None, DATA / "load" / "malformed.yaml"),
]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("GOVBOT_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per evaluation of the rules."""
    runs: list[int] = []
    real = check_module.evaluate

    def counted(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(check_module, "evaluate", counted)
    return runs


def _check(base: Path | None, head: Path, policy: Policy, **kw) -> object:
    return check_files(
        [head], base_files=[base] if base else None, policy=policy, today=TODAY, **kw
    )


def _outputs(report) -> tuple[str, str, str]:
    return (
        render.render_json(report, "https://docs.invalid/"),
        render.render_sarif(report, all_rules(), docs_base="https://docs.invalid/"),
        render.render_text(report),
    )


@pytest.mark.parametrize(("base", "head"), FIXTURES, ids=lambda p: p and p.name)
def test_a_second_check_reuses_the_verdict_and_says_the_same(
    base, head, default_policy, cache_dir, evaluations
):
    fresh = _check(base, head, default_policy, cache=False)
    first = _check(base, head, default_policy)
    assert len(evaluations) == 2
    again = _check(base, head, default_policy)
    assert len(evaluations) == 2  # read back, not evaluated
    assert again == first == fresh
    assert [f.line for f in again.findings] == [f.line for f in fresh.findings]
    assert _outputs(again) == _outputs(fresh)
    assert list((cache_dir / "verdicts").rglob("*.json"))


def test_a_changed_file_reached_by_ref_is_checked_again(
    tmp_path, default_policy, cache_dir, evaluations
):
    shutil.copytree(DATA / "load" / "multi", tmp_path / "multi")
    head = tmp_path / "multi" / "api" / "openapi.yaml"
    _check(None, head, default_policy)
    params = tmp_path / "multi" / "api" / "params.json"
    params.write_text(params.read_text().replace('"minimum": 1', '"minimum": "one"'))
    second = _check(None, head, default_policy)
    assert len(evaluations) == 2  # the entry of the first bytes is not reused
    assert second == _check(None, head, default_policy, cache=False)


def test_what_decides_the_verdict_is_in_the_key(default_policy, cache_dir, evaluations):
    base, head = FIXTURES[1]
    _check(base, head, default_policy)
    check_files([head], base_files=[base], policy=default_policy, today=TODAY.replace(year=2030))
    _check(base, head, default_policy.with_profile("generic"))
    _check(head, head, default_policy)
    _check(base, head, default_policy, max_bytes=10_000_000)
    assert len(evaluations) == 5
    _check(base, head, default_policy.with_profile("generic"))
    assert len(evaluations) == 5


def test_a_corrupt_or_foreign_entry_is_a_miss(default_policy, cache_dir, evaluations):
    base, head = FIXTURES[1]
    fresh = _check(base, head, default_policy)
    (entry,) = (cache_dir / "verdicts").rglob("*.json")
    for garbage in (b"", b"{not json", b'{"key": "other"}', b"[1, 2]", entry.read_bytes()[:-9]):
        entry.write_bytes(garbage)
        assert _check(base, head, default_policy) == fresh
    assert len(evaluations) == 6
    assert not list((cache_dir / "verdicts").rglob("*.tmp"))


def test_no_cache_dir_means_no_cache(default_policy, monkeypatch, evaluations):
    monkeypatch.setenv("GOVBOT_CACHE_DIR", "")
    base, head = FIXTURES[1]
    _check(base, head, default_policy)
    _check(base, head, default_policy)
    assert len(evaluations) == 2


def test_the_review_path_reuses_verdicts_through_its_reader(default_policy, cache_dir, evaluations):
    """The Gerrit review calls check_pairs with its readers (here one over a directory)."""
    reader = FileReader(RULES / "DEP001" / "removed-not-deprecated")
    pairs = [(SpecSource("base.yaml", reader), SpecSource("revision.yaml", reader))]
    loads: dict = {}
    first = check_pairs(pairs, policy=default_policy, today=TODAY, loads=loads)
    again = check_pairs(pairs, policy=default_policy, today=TODAY, loads={})
    assert len(evaluations) == 1
    assert again == first and first.findings


def test_govbot_check_no_cache_checks_again(cache_dir, evaluations):
    base, head = FIXTURES[1]
    args = ["check", "--format", "json", "--today", "2026-12-03", "--base", str(base), str(head)]
    outputs = []
    for extra in ([], [], ["--no-cache"]):
        result = CliRunner().invoke(cli, [*args, *extra])
        assert result.exit_code == 1, result.output
        outputs.append(result.stdout)
    assert len(evaluations) == 2
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_directory_is_kept_under_its_bound(tmp_path: Path):
    root = tmp_path / "verdicts"
    for i in range(20):
        (root / f"{i:02x}").mkdir(parents=True)
        (root / f"{i:02x}" / f"{i:02x}.json").write_bytes(b"x" * 1000)
    verdicts.prune(root, max_bytes=5000)
    assert sum(p.stat().st_size for p in root.rglob("*.json")) <= 5000
    assert len(list(root.rglob("*.json"))) == 5


def test_the_key_is_the_same_in_every_process(tmp_path: Path):
    """Nothing of one process (string hashing, addresses) enters the key: a second
    ``govbot check`` finds the first one's verdict."""
    base, head = FIXTURES[1]
    script = (
        "import datetime as dt, sys\n"
        "from govbot.policy import load_policy\n"
        "from govbot.services import verdicts\n"
        "from govbot.services.check import SpecSource\n"
        f"pairs = [(SpecSource({str(base)!r}), SpecSource({str(head)!r}))]\n"
        "lookup = verdicts.prepare(pairs, policy=load_policy(), today=dt.date(2026, 12, 3),"
        " limit=10**7, drop=())\n"
        "print(lookup.key)\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(keys) == 1 and len(keys.pop().strip()) == 64


def test_a_process_prunes_at_its_first_write_then_after_so_many_bytes(tmp_path, monkeypatch):
    """A scan of the directory per write made hundreds of writes in a row (a backfill's)
    quadratic: a process scans at its first write, then once it wrote PRUNE_AFTER_BYTES."""
    scans: list[Path] = []
    monkeypatch.setattr(verdicts, "prune", lambda root: scans.append(root))
    monkeypatch.setattr(verdicts, "_unpruned", None)
    monkeypatch.setattr(verdicts, "PRUNE_AFTER_BYTES", 1000)
    for _ in range(10):
        verdicts._written(tmp_path, 300)
    # the first write, then the writes that reach 1000 bytes since: the 5th and the 9th
    assert len(scans) == 3


def test_the_catalogue_digest_is_worked_out_once_per_catalogue() -> None:
    """A backfill asks for it at every commit: the same catalogue object gives the same
    digest without hashing its rules again; another catalogue, with one more rule, its own."""
    catalog = all_rules()
    first = verdicts.catalog_digest(catalog)
    assert verdicts.catalog_digest(catalog) == first
    assert verdicts._CATALOG_DIGESTS[id(catalog)] == (catalog, first)
    extra = next(iter(catalog))
    other = type(catalog)(tuple(r for r in catalog if r is not extra))
    assert verdicts.catalog_digest(other) != first


def test_a_check_without_columns_stays_out_of_the_cache(
    default_policy, cache_dir, evaluations, tmp_path
):
    """``columns=False`` (the index's history): the findings less their columns, never
    read from nor written to the verdict cache, whose reports are whole."""
    head = FIXTURES[0][1]
    minified = tmp_path / "compute.json"
    minified.write_text(json.dumps(yaml.safe_load(head.read_text()), separators=(",", ":")))
    reader = FileReader(tmp_path)
    pairs = [(None, SpecSource("compute.json", reader))]
    whole = check_pairs(pairs, policy=default_policy, today=TODAY, loads={})
    assert whole.findings and any(f.column for f in whole.findings)
    assert {f.line for f in whole.findings} == {1}  # minified: placed by column
    lines_only = check_pairs(pairs, policy=default_policy, today=TODAY, loads={}, columns=False)
    assert lines_only.findings == tuple(
        dataclasses.replace(
            f,
            column=None,
            locations=tuple(dataclasses.replace(at, column=None) for at in f.locations),
        )
        for f in whole.findings
    )
    again = check_pairs(pairs, policy=default_policy, today=TODAY, loads={})
    assert again == whole and len(evaluations) == 2  # the cached report is the whole one
