"""The proof of issue 4: the use-case verdicts against 61 real nova specs and their labels.

``tests/data/specs/nova/`` is a byte-for-byte copy of ``shared/corpus/specs/nova/``
(openstack/nova-specs at 23297f9, CC BY 3.0; see its README and LICENSE).

How the manifest's ``label`` maps to what govbot must say:

* ``unjustified`` (None, empty, "N/A, refactoring", cleanup only): the positive class,
  govbot must say ``unjustified``;
* ``justified`` (an actor and a need, even if short or only in the problem
  description): the negative class, govbot must not say ``unjustified``;
* ``weak`` (thin on the actor or the need; careful readers split on them): left out of
  precision and recall, as the corpus README asks; how govbot rates them is printed;
* ``template``: the three templates; govbot must recognise them (verdict ``template``).

Each spec is judged with the templates found next to it (``specs/*-template.rst``),
exactly as ``govbot blueprint`` does; nothing here is tuned per file.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pytest

import govbot.blueprints as bp
from govbot.blueprints import BlueprintConfig, Verdict, judge_file

ROOT = Path(__file__).parents[1] / "data" / "specs" / "nova"
TEMPLATES = {"specs/2027.1-template.rst", "specs/juno-template.rst", "specs/kilo-template.rst"}


def _rows() -> list[dict[str, str]]:
    with (ROOT / "manifest.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def judged() -> list[tuple[dict[str, str], Verdict, float]]:
    """Every spec of the manifest with govbot's verdict, timed without import costs.

    The time is CPU time of this process, so that other work on the machine (parallel
    test runs, CI neighbours) does not make the speed test flaky.
    """
    bp.parse_spec("warm.rst", "Warm\n====\n\nUp.\n")  # import docutils outside the timing
    bp._parse_cached.cache_clear()
    bp._load_template_cached.cache_clear()
    config = BlueprintConfig()
    out = []
    start = time.process_time()
    for row in _rows():
        _, verdict = judge_file(ROOT / row["path"], config, display=row["path"])
        out.append((row, verdict))
    elapsed = time.process_time() - start
    return [(row, verdict, elapsed) for row, verdict in out]


def test_the_corpus_is_complete() -> None:
    """61 files: 35 justified, 13 weak, 10 unjustified, 3 templates."""
    labels = Counter(r["label"] for r in _rows())
    assert labels == {"justified": 35, "weak": 13, "unjustified": 10, "template": 3}
    assert all((ROOT / r["path"]).is_file() for r in _rows())


def test_precision_and_recall_of_unjustified(judged, capsys) -> None:
    """At least 0.9 precision and recall of "unjustified" against the labels (weak left out)."""
    tp = fp = fn = tn = 0
    wrong = []
    for row, verdict, _ in judged:
        label, said = row["label"], verdict.verdict == "unjustified"
        if label == "unjustified":
            tp += said
            fn += not said
        elif label == "justified":
            fp += said
            tn += not said
        if label in ("justified", "unjustified") and said != (label == "unjustified"):
            wrong.append(
                f"  {row['path']}: labelled {label}, {verdict.strength}: {verdict.evidence}"
            )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    weak = Counter(v.strength for row, v, _ in judged if row["label"] == "weak")
    with capsys.disabled():
        print(
            f"\nnova corpus: precision {precision:.2f}, recall {recall:.2f} of 'unjustified' "
            f"(tp {tp}, fp {fp}, fn {fn}, tn {tn}); weak specs rated {dict(sorted(weak.items()))}"
        )
        for line in wrong:
            print(line)
    assert precision >= 0.9, wrong
    assert recall >= 0.9, wrong


def test_the_templates_are_recognised(judged) -> None:
    """The three templates get the verdict "template", and only they do."""
    templates = {row["path"] for row, v, _ in judged if v.verdict == "template"}
    assert templates == TEMPLATES
    assert {row["path"] for row, _, _ in judged if row["label"] == "template"} == TEMPLATES


def test_specs_are_compared_with_their_templates(judged) -> None:
    """Every spec found the three templates of specs/ (text copied from any never counts)."""
    for _, verdict, _ in judged:
        if verdict.verdict != "template":
            assert {Path(t).name for t in verdict.templates} == {Path(t).name for t in TEMPLATES}


def test_section_evidence_and_lines(judged) -> None:
    """Verdicts point at the judged section's heading, as a reviewer would comment."""
    by_path = {row["path"]: v for row, v, _ in judged}
    v = by_path["specs/pike/implemented/remove-nova-cert.rst"]
    assert (v.strength, v.section) == ("missing-empty", "Use Cases")
    lines = (ROOT / "specs/pike/implemented/remove-nova-cert.rst").read_text().splitlines()
    assert lines[v.line - 1] == "Use Cases"
    juno = by_path["specs/juno/approved/clean-logs.rst"]
    assert (juno.strength, juno.section) == ("good", "Problem description")


def test_rest_api_impact_follows_the_manifest(judged) -> None:
    """Specs whose REST API impact section has a single word (None) declare no impact."""
    for row, verdict, _ in judged:
        if row["label"] == "template" or not row["rest_api_impact_words"]:
            continue
        words = int(row["rest_api_impact_words"])
        if words <= 1:
            assert not verdict.rest_api.declared, row["path"]
        elif words >= 10:
            assert verdict.rest_api.declared, row["path"]


def test_the_corpus_is_judged_fast(judged, capsys) -> None:
    """All 61 specs (and their templates) are parsed and judged in well under 2 s."""
    elapsed = judged[0][2]
    with capsys.disabled():
        print(f"\nnova corpus: 61 specs judged in {elapsed:.2f} s of CPU time")
    assert elapsed < 2.0
