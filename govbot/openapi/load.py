"""Loading specs (MINIMAL BOOTSTRAP VERSION: to be replaced by the full loader).

Public contract (keep it):

    class Reader(Protocol):
        def read(self, relpath: str) -> bytes   # raises FileNotFoundError

    FileReader(root)                            # reads files under a directory
    load_spec(path, *, reader=None, root=None, max_bytes=64 MiB, validate=True) -> Spec

``path`` is relative to the reader's root when a reader is given; otherwise it is a
filesystem path and ``root`` (default: the git work tree containing it, else its
directory) bounds where ``$ref``s may point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import yaml

from govbot.openapi.model import Spec, join


class Reader(Protocol):
    def read(self, relpath: str) -> bytes: ...


class FileReader:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def read(self, relpath: str) -> bytes:
        return (self.root / relpath).read_bytes()


def load_spec(
    path: str | Path,
    *,
    reader: Reader | None = None,
    root: str | Path | None = None,
    max_bytes: int = 64 * 1024 * 1024,
    validate: bool = True,
) -> Spec:
    if reader is None:
        p = Path(path).resolve()
        root_dir = Path(root).resolve() if root else p.parent
        reader = FileReader(root_dir)
        rel = str(p.relative_to(root_dir))
    else:
        rel = str(path)
    text = reader.read(rel).decode("utf-8")
    node = yaml.compose(text, Loader=yaml.CSafeLoader)
    lines: dict[str, int] = {}
    data = _build(node, "", lines)
    refs: dict[tuple[str, str], tuple[str, str]] = {}
    _collect_refs(data, rel, refs)
    version = str(data.get("openapi") or data.get("swagger") or "")[:3]
    return Spec(
        file=rel,
        data=data,
        version=version,
        documents={rel: data},
        refs=refs,
        lines={rel: lines.get},
    )


def _build(node: yaml.Node, pointer: str, lines: dict[str, int]) -> Any:
    lines[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            key = yaml.load(yaml.serialize(k), Loader=yaml.CSafeLoader) if not isinstance(k, yaml.ScalarNode) else k.value
            out[key] = _build(v, join(pointer, str(key)), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, join(pointer, i), lines) for i, v in enumerate(node.value)]
    return yaml.constructor.SafeConstructor().construct_object(node)


def _collect_refs(value: Any, file: str, refs: dict[tuple[str, str], tuple[str, str]]) -> None:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            refs[(file, ref)] = (file, ref[1:])
        for v in value.values():
            _collect_refs(v, file, refs)
    elif isinstance(value, list):
        for v in value:
            _collect_refs(v, file, refs)
