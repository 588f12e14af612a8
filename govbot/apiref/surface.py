"""The one place this package imports the engine from: the surface model, problems, files.

Every other module of :mod:`govbot.apiref` imports these names from here, so that what
the api-ref reader needs of the engine is visible in one list.
"""

from __future__ import annotations

from typing import Any

from govbot.findings import Problem
from govbot.openapi.files import FileReader, OutsideRoot, Reader
from govbot.openapi.parse import parse_document
from govbot.openapi.problems import Refused
from govbot.surface import (
    Dialect,
    LineLookup,
    Node,
    Operation,
    Spec,
    escape,
    join,
    normalize_path,
    operations,
)


def parse_yaml_document(file: str, data: bytes, max_bytes: int) -> tuple[Any, LineLookup] | str:
    """A YAML document parsed by the engine's bounded parser (aliases counted, never
    expanded past its limit; depth bounded): its value and line lookup, or the one-line
    reason it was refused."""
    try:
        doc = parse_document(file, data, max_bytes=max_bytes)
    except Refused as refused:
        return refused.message
    return doc.data, doc.lines


__all__ = [
    "Dialect",
    "FileReader",
    "LineLookup",
    "Node",
    "Operation",
    "OutsideRoot",
    "Problem",
    "Reader",
    "Spec",
    "escape",
    "join",
    "normalize_path",
    "operations",
    "parse_yaml_document",
]
