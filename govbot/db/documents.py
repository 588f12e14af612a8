"""The spec documents the index keeps (``spec_documents``), read back whole.

A version is kept whole or as its difference from another version (its ``base``: the
first ``head`` and last ``tail`` bytes are the base's, ``content`` the bytes between);
:func:`contents` puts each back together, reading each base once.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from govbot.db.models import SpecDocument

# How many bases a version may stand on; deeper chains are a corrupt table, not read.
MAX_DEPTH = 64


def contents(session: Session, digests: Iterable[str]) -> dict[str, bytes]:
    """The bytes of each stored document of ``digests`` (absent ones left out)."""
    asked = list(dict.fromkeys(digests))
    rows: dict[str, tuple[bytes, str | None, int, int]] = {}
    wanted = set(asked)
    for _ in range(MAX_DEPTH + 1):
        if not wanted:
            break
        found = session.execute(
            select(
                SpecDocument.digest,
                SpecDocument.content,
                SpecDocument.base,
                SpecDocument.head,
                SpecDocument.tail,
            ).where(SpecDocument.digest.in_(wanted))
        ).all()
        for digest, content, base, head, tail in found:
            rows[digest] = (content, base, head, tail)
        wanted = {base for _, base, _, _ in rows.values() if base is not None} - rows.keys()
    out: dict[str, bytes] = {}
    for digest in rows:
        whole = _whole(digest, rows, out, 0)
        if whole is not None:
            out[digest] = whole
    return {d: out[d] for d in asked if d in out}


def _whole(
    digest: str,
    rows: dict[str, tuple[bytes, str | None, int, int]],
    done: dict[str, bytes],
    depth: int,
) -> bytes | None:
    if digest in done:
        return done[digest]
    row = rows.get(digest)
    if row is None or depth > MAX_DEPTH:
        return None
    content, base, head, tail = row
    if base is None:
        return content
    under = _whole(base, rows, done, depth + 1)
    if under is None:
        return None
    whole = under[:head] + content + under[len(under) - tail :]
    done[base] = under
    return whole


__all__ = ["MAX_DEPTH", "contents"]
