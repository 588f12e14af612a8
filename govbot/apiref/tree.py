"""Entry points: which directories are api-ref trees, and each read as one API.

A directory is an api-ref tree when it holds ``index.rst`` and/or ``*.inc`` documents
with ``rest_method`` directives and a parameters file (``parameters.yaml``, or
glance's ``images-parameters.yaml``); a tree's subdirectories belong to it. cinder's
``api-ref/source`` holds no parameters file: its ``v2`` and ``v3`` are two APIs.

:func:`load_api_ref` reads a tree inside a project's :class:`~govbot.apiref.source.Tree`
(a checkout or a git revision) together with the project's microversion ledger and
policy defaults, which become the :class:`~govbot.apiref.project.ProjectFacts` of the
:class:`~govbot.surface.Spec`; :func:`read_api_ref` does the same for a directory on
disk. Nothing outside the project is ever opened.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from govbot.apiref import problems
from govbot.apiref.facts import ApiRef, Where
from govbot.apiref.ledger import read_ledger
from govbot.apiref.operations import build_operations
from govbot.apiref.policies import read_policy_defaults
from govbot.apiref.project import ProjectFacts, attach
from govbot.apiref.reader import MAX_DOC_BYTES, Walker
from govbot.apiref.source import FileTree, Tree, tree_of
from govbot.apiref.spec import to_spec
from govbot.apiref.surface import Reader, Spec

INDEX = "index.rst"
_MARKER = b".. rest_method::"
_DOCUMENTS = (".inc", ".rst")
# How many documents of a candidate directory are opened to find a rest_method.
_MAX_PROBES = 64


def _is_parameters_file(name: str) -> bool:
    return name == "parameters.yaml" or name.endswith("-parameters.yaml")


def api_ref_directories(
    files: Iterable[str], read: Callable[[str], bytes], under: str = ""
) -> list[str]:
    """The api-ref trees among ``files`` (paths relative to one root), at or below ``under``."""
    under = under.strip("/")
    by_dir: dict[str, list[str]] = {}
    for f in files:
        if under and f != under and not f.startswith(under + "/"):
            continue
        by_dir.setdefault(posixpath.dirname(f), []).append(posixpath.basename(f))
    candidates = sorted(
        (
            d
            for d, names in by_dir.items()
            if any(_is_parameters_file(n) for n in names)
            and any(n == INDEX or n.endswith(".inc") for n in names)
        ),
        key=lambda d: (d.count("/") if d else -1, d),
    )
    found: list[str] = []
    for d in candidates:
        if any(d == t or d.startswith(t + "/") or not t for t in found):
            continue
        if _has_marker(d, by_dir, read):
            found.append(d)
    return found


def _has_marker(directory: str, by_dir: dict[str, list[str]], read: Callable[[str], bytes]) -> bool:
    """Whether a document of ``directory`` (or of a directory right below it) has a
    ``rest_method`` directive."""
    docs = [
        posixpath.join(directory, n) for n in by_dir.get(directory, []) if n.endswith(_DOCUMENTS)
    ]
    prefix = directory + "/" if directory else ""
    for d, names in by_dir.items():
        if d.startswith(prefix) and d != directory and "/" not in d[len(prefix) :]:
            docs.extend(posixpath.join(d, n) for n in names if n.endswith(".inc"))
    for doc in sorted(docs)[:_MAX_PROBES]:
        try:
            if _MARKER in read(doc)[:MAX_DOC_BYTES]:
                return True
        except OSError:
            continue
    return False


def is_api_ref_tree(path: str | Path) -> bool:
    """Whether the directory ``path`` is itself an api-ref tree."""
    p = Path(path)
    if not p.is_dir():
        return False
    tree = FileTree(p)
    listed = [f for f in tree.files() if f.count("/") <= 1]
    return api_ref_directories(listed, tree.read) == [""]


def find_api_ref_trees(path: str | Path) -> list[Path]:
    """The api-ref trees at or under the directory ``path``."""
    p = Path(path)
    if not p.is_dir():
        return []
    tree = FileTree(p)
    return [p / d if d else p for d in api_ref_directories(tree.files(), tree.read)]


def project_root(directory: str | Path) -> Path:
    """The project an api-ref directory belongs to: above its ``api-ref`` directory (the
    OpenStack layout, ``<project>/api-ref/source``), else its git work tree, else itself."""
    d = Path(directory).resolve()
    for candidate in (d, *d.parents):
        if candidate.name == "api-ref":
            return candidate.parent
    for candidate in (d, *d.parents):
        if (candidate / ".git").exists():
            return candidate
    return d


def read_tree(
    directory: str,
    reader: Reader,
    files: Iterable[str] = (),
    *,
    max_bytes: int = MAX_DOC_BYTES,
) -> ApiRef:
    """The facts of the api-ref tree in ``directory`` (relative to the reader's root).

    ``files`` lists the files of the root; it is needed only when the directory has no
    ``index.rst`` (every ``*.inc`` and ``*.rst`` of the directory is then a root).
    """
    directory = posixpath.normpath(directory.replace("\\", "/"))
    directory = "" if directory == "." else directory
    display = directory or "."
    walker = Walker(reader.read, directory, max_bytes)
    roots = _roots(directory, files)
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


def _roots(directory: str, files: Iterable[str]) -> list[str]:
    index = posixpath.join(directory, INDEX) if directory else INDEX
    names = sorted(f for f in files if posixpath.dirname(f) == directory)
    if index in names or not names:
        return [index]
    return [f for f in names if f.endswith(_DOCUMENTS)]


def load_api_ref(
    directory: str,
    tree: Tree,
    *,
    policy_trees: Sequence[Tree] = (),
    project: bool = True,
    max_bytes: int = MAX_DOC_BYTES,
) -> Spec:
    """The api-ref tree in ``directory`` of ``tree`` as the surface model (one API).

    With ``project``, the project's microversion ledger (its maximum is the API's
    ``info.version``) and policy defaults (with those of ``policy_trees``, for projects
    whose rules live in another, as neutron's in neutron-lib) are read from ``tree`` too.
    """
    listed = tree.files()
    api = read_tree(directory, tree, listed, max_bytes=max_bytes)
    ledger = read_ledger(tree) if project else None
    trees = [tree, *policy_trees] if project else list(policy_trees)
    defaults = read_policy_defaults(trees) if trees else None
    if defaults is not None and not defaults.files:
        defaults = None  # a project without policy defaults: the descriptions decide
    spec = to_spec(api, version=ledger.max_version if ledger is not None else None)
    return attach(spec, ProjectFacts(api=api, ledger=ledger, policies=defaults))


def read_api_ref(
    path: str | Path,
    *,
    root: str | Path | None = None,
    policy_trees: Sequence[str | Path] = (),
    project: bool = True,
    max_bytes: int = MAX_DOC_BYTES,
) -> Spec:
    """:func:`load_api_ref` of a directory on disk, inside its project (:func:`project_root`,
    or ``root``), whose files are named relative to that root (``api-ref/source/...``)."""
    directory = Path(path).resolve()
    bound = Path(root).resolve() if root is not None else project_root(directory)
    rel = directory.relative_to(bound).as_posix()
    return load_api_ref(
        "" if rel == "." else rel,
        FileTree(bound),
        policy_trees=[tree_of(t) for t in policy_trees],
        project=project,
        max_bytes=max_bytes,
    )
