"""Design specs of a merged commit: their use-case verdicts for the dashboard.

The policy's ``blueprints.specs`` globs name the design specs; each one whose content
changed since its recorded verdict is judged again (``blueprint_verdicts``, the latest
version per file: an older commit indexed later does not replace a newer verdict).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from govbot.db.models import BlueprintVerdict
from govbot.db.session import insert_ignore, session_scope
from govbot.services.index_snapshot import CommitAt, IndexResult, TreeReader, content_digest
from govbot.services.spec_review import review_specs

_UNDERLINE = re.compile(r"([=\-~^#*])\1{2,}")


def index_blueprints(
    engine: Engine,
    reader: TreeReader,
    at: CommitAt,
    design: Sequence[str],
    listing: Sequence[str],
    result: IndexResult,
) -> None:
    """Judge the design specs of ``design`` whose content changed, and keep the verdicts."""
    contents, digests = _changed(engine, reader, at, design)
    if not contents:
        return
    reports = review_specs(
        contents, at.policy, paths=listing, read=reader.read, today=at.now.date()
    )
    with session_scope(engine) as session:
        for report in reports:
            v = report.verdict
            values = _verdict_row(at, report, contents.get(v.file, b""), digests.get(v.file))
            if not insert_ignore(
                session, BlueprintVerdict, values, conflict=["project", "branch", "file"]
            ):
                session.execute(
                    update(BlueprintVerdict)
                    .where(
                        BlueprintVerdict.project == at.project,
                        BlueprintVerdict.branch == at.branch,
                        BlueprintVerdict.file == v.file,
                        BlueprintVerdict.merged_at <= at.when,
                    )
                    .values(**values)
                )
            result.blueprints.append(v.file)


def _changed(
    engine: Engine, reader: TreeReader, at: CommitAt, design: Sequence[str]
) -> tuple[dict[str, bytes], dict[str, str]]:
    """The design specs whose content differs from their recorded verdict's: path ->
    bytes, and path -> digest."""
    with session_scope(engine) as session:
        known = {
            file: (data or {}).get("digest")
            for file, data in session.execute(
                select(BlueprintVerdict.file, BlueprintVerdict.findings).where(
                    BlueprintVerdict.project == at.project, BlueprintVerdict.branch == at.branch
                )
            )
        }
    contents: dict[str, bytes] = {}
    digests: dict[str, str] = {}
    for path in design:
        try:
            data = reader.read(path)
        except (FileNotFoundError, PermissionError, OSError):
            continue
        digest = content_digest(data)
        if known.get(path) == digest:
            continue
        contents[path] = data
        digests[path] = digest
    return contents, digests


def _verdict_row(at: CommitAt, report: Any, data: bytes, digest: str | None) -> dict[str, Any]:
    v = report.verdict
    return {
        "project": at.project,
        "branch": at.branch,
        "file": v.file,
        "title": design_title(data) or Path(v.file).stem,
        "commit": at.commit,
        "merged_at": at.when,
        "indexed_at": at.now,
        "verdict": v.verdict,
        "strength": v.strength,
        "section": v.section,
        "line": v.line,
        "evidence": v.evidence,
        "words": v.words,
        "rest_api_impact": v.rest_api.declared,
        "findings": {"digest": digest, "items": [f.to_json() for f in report.findings]},
    }


def design_title(data: bytes) -> str | None:
    """The first heading of an RST or Markdown design spec (its title), if any."""
    text = data.decode("utf-8", "replace")
    lines = text.splitlines()
    for i, line in enumerate(lines[:80]):
        stripped = line.strip()
        if stripped.startswith("# "):
            return stripped[2:].strip()[:300]
        if (
            stripped
            and i + 1 < len(lines)
            and _UNDERLINE.fullmatch(lines[i + 1].strip())
            and not _UNDERLINE.fullmatch(stripped)
            and not stripped.startswith(("..", ":"))
        ):
            return stripped[:300]
    return None


__all__ = ["design_title", "index_blueprints"]
