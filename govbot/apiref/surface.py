"""The one place this package imports the engine's surface model and findings from.

The engine is being reorganised (the surface model may move out of ``govbot.openapi``);
every other module of :mod:`govbot.apiref` imports these names from here, so retargeting
the package is one edit.
"""

from __future__ import annotations

from typing import Any

from govbot.findings import Audience, Finding, Severity
from govbot.openapi.audience import Classification, Decision, classify
from govbot.openapi.load import FileReader, OutsideRoot, Reader, parse_document
from govbot.openapi.model import (
    LineLookup,
    Node,
    Operation,
    Spec,
    escape,
    join,
    normalize_path,
    operations,
)
from govbot.policy import AudienceConfig


def parse_yaml_document(file: str, data: bytes) -> tuple[Any, LineLookup] | str:
    """A YAML document parsed by the engine's bounded parser (aliases counted, never
    expanded past its limit; depth bounded): its value and line lookup, or the one-line
    reason it was refused."""
    try:
        doc = parse_document(file, data, max_bytes=4 * 1024 * 1024)
    except Exception as exc:  # the loader's refusal type is private to it
        message = getattr(exc, "message", None)
        if isinstance(message, str):
            return message
        raise
    return doc.data, doc.lines


__all__ = [
    "Audience",
    "AudienceConfig",
    "Classification",
    "Decision",
    "FileReader",
    "Finding",
    "LineLookup",
    "Node",
    "Operation",
    "OutsideRoot",
    "Reader",
    "Severity",
    "Spec",
    "classify",
    "escape",
    "join",
    "normalize_path",
    "operations",
    "parse_yaml_document",
]
