"""Entry points: is this directory an api-ref tree, and read it as one API.

``read_api_ref(path)`` gives the :class:`~govbot.openapi.model.Spec` the rules read;
``read_tree(path)`` the typed facts behind it. Like the OpenAPI loader, both read
through a :class:`Reader` (the filesystem under a root, or a git revision), so nothing
outside the root is ever opened.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from pathlib import Path

from govbot.apiref import problems
from govbot.apiref.facts import ApiRef, Where
from govbot.apiref.operations import build_operations
from govbot.apiref.reader import MAX_DOC_BYTES, Walker
from govbot.apiref.spec import to_spec
from govbot.apiref.surface import FileReader, Reader, Spec

INDEX = "index.rst"
_MARKER = b".. rest_method::"
_SUFFIXES = (".inc", ".rst")


def default_root(directory: Path) -> Path:
    """The bound for reads from ``directory``: its git work tree, else the Sphinx source
    directory holding it (the nearest ``conf.py``, which is never run), else itself."""
    directory = directory.resolve()
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    for candidate in (directory, *directory.parents):
        if (candidate / "conf.py").is_file():
            return candidate
    return directory


def is_api_ref_tree(path: str | Path) -> bool:
    """A directory whose documents (or those one level down) hold ``rest_method`` directives."""
    p = Path(path)
    if not p.is_dir():
        return False
    candidates = [f for f in p.iterdir() if f.suffix in _SUFFIXES and f.is_file()]
    if not candidates:
        return False
    for sub in sorted(p.iterdir()):
        if sub.is_dir() and not sub.name.startswith("."):
            candidates.extend(f for f in sub.iterdir() if f.suffix in _SUFFIXES and f.is_file())
    return any(_has_marker(f) for f in candidates)


def _has_marker(file: Path) -> bool:
    try:
        with file.open("rb") as fh:
            return _MARKER in fh.read(MAX_DOC_BYTES)
    except OSError:
        return False


def find_api_ref_trees(path: str | Path) -> list[Path]:
    """The api-ref trees at or under ``path`` (a tree's own subdirectories are its own)."""
    top = Path(path)
    found: list[Path] = []
    for dirpath, dirnames, _ in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        if is_api_ref_tree(here):
            found.append(here)
            dirnames[:] = []
    return found


def _roots(directory: str, files: Iterable[str]) -> list[str]:
    names = sorted(f for f in files if posixpath.dirname(f) == directory)
    index = posixpath.join(directory, INDEX) if directory else INDEX
    if index in names:
        return [index]
    return [f for f in names if f.endswith(_SUFFIXES)]


def read_tree(
    path: str | Path,
    *,
    reader: Reader | None = None,
    root: str | Path | None = None,
    files: Iterable[str] | None = None,
    max_bytes: int = MAX_DOC_BYTES,
) -> ApiRef:
    """The facts of the api-ref tree in the directory ``path``.

    Without a reader, ``path`` is a filesystem directory and reads are bounded by
    ``root`` (default :func:`default_root`). With a reader, ``path`` is relative to its
    root and ``files`` lists the files there (needed only when the directory has no
    ``index.rst``). Problems with the input are findings in ``ApiRef.problems``.
    """
    if reader is None:
        directory_path = Path(path)
        bound = Path(root).resolve() if root is not None else default_root(directory_path)
        rel = directory_path.resolve().relative_to(bound).as_posix()
        directory = "" if rel == "." else rel
        reader = FileReader(bound)
        if files is None and directory_path.is_dir():
            files = [
                posixpath.join(directory, f.name) if directory else f.name
                for f in directory_path.iterdir()
                if f.is_file()
            ]
    else:
        directory = posixpath.normpath(str(path).replace(os.sep, "/"))
        directory = "" if directory == "." else directory
    display = directory or "."
    walker = Walker(reader.read, directory, max_bytes)
    roots = _roots(directory, files or [posixpath.join(directory, INDEX)])
    if not roots:
        walker.problem(
            problems.UNREADABLE,
            f"{display}: no index.rst and no .inc or .rst file: not an api-ref tree",
            Where(display, 1),
        )
    for doc in roots:
        walker.walk_root(doc)
    surface, obsolete = build_operations(
        walker.drafts,
        walker.page_texts,
        lambda code, message, where: walker.problem(code, message, where),
        walker.skip,
    )
    return ApiRef(
        directory=display,
        title=walker.title,
        operations=surface,
        obsolete=obsolete,
        documents=tuple(dict.fromkeys(walker.documents)),
        page_texts=walker.page_texts,
        problems=tuple(dict.fromkeys(walker.problems)),
        skipped=tuple(dict.fromkeys(walker.skipped)),
    )


def read_api_ref(
    path: str | Path,
    *,
    reader: Reader | None = None,
    root: str | Path | None = None,
    files: Iterable[str] | None = None,
    version: str | None = None,
    max_bytes: int = MAX_DOC_BYTES,
) -> Spec:
    """The api-ref tree in ``path`` as the surface model the rules read (one API).

    ``version``: the maximum microversion from the project's ledger
    (:func:`govbot.apiref.ledger.read_ledger`), the API's ``info.version``.
    """
    api = read_tree(path, reader=reader, root=root, files=files, max_bytes=max_bytes)
    spec = to_spec(api, version=version)
    # Kept on the (frozen) spec like the model's own operation cache, for rules that
    # need the facts behind the surface (parameters.yaml lines, mark evidence).
    spec.__dict__["_api_ref"] = api
    return spec


def api_ref_of(spec: Spec) -> ApiRef | None:
    """The api-ref facts a spec was built from (None for an OpenAPI spec)."""
    found = spec.__dict__.get("_api_ref")
    return found if isinstance(found, ApiRef) else None
