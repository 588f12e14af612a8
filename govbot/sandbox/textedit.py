"""Edits of real files for the seeds: each anchor must be unique, so a seed that no longer
fits its data fails loudly instead of editing the wrong place."""

from __future__ import annotations


def insert_after(text: str, anchor: str, addition: str) -> str:
    if text.count(anchor) != 1:
        raise ValueError(f"seed anchor not unique: {anchor[:60]!r}")
    index = text.index(anchor) + len(anchor)
    return text[:index] + addition + text[index:]


def insert_before_in_block(text: str, block: str, marker: str, addition: str) -> str:
    """Insert ``addition`` before the first ``marker`` that follows the unique ``block``."""
    if text.count(block) != 1:
        raise ValueError(f"seed anchor not unique: {block[:60]!r}")
    index = text.index(marker, text.index(block) + len(block))
    return text[:index] + addition + text[index:]


def cut_in_block(text: str, block: str, start: str, end: str) -> str:
    """Remove from ``start`` through ``end`` (inclusive), both after the unique ``block``."""
    if text.count(block) != 1:
        raise ValueError(f"seed anchor not unique: {block[:60]!r}")
    begin = text.index(start, text.index(block))
    finish = text.index(end, begin) + len(end)
    return text[:begin] + text[finish:]
