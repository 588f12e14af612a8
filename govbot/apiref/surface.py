"""The one place this package imports the engine's surface model and findings from.

The engine is being reorganised (the surface model may move out of ``govbot.openapi``);
every other module of :mod:`govbot.apiref` imports these names from here, so retargeting
the package is one edit.
"""

from __future__ import annotations

from govbot.findings import Audience, Finding, Severity
from govbot.openapi.audience import Classification, Decision, classify
from govbot.openapi.load import FileReader, OutsideRoot, Reader
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
]
