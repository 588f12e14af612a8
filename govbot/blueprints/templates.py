"""Spec templates: finding them, and the text a spec is never credited for.

A template is found, never guessed: ``--template``, the policy's ``blueprints.template``,
or files named like ``blueprints.template_names`` in the spec's directory or a parent
(the nearest directory that has any; all of its templates are used, so that text copied
from a spec-lite template counts as little as text copied from the full one).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from govbot.blueprints.config import BlueprintConfig
from govbot.blueprints.document import WORD, Document, parse_cached, read_spec
from govbot.errors import SpecError
from govbot.paths import glob_match

# Sentence ends: ., ! or ? then space; "e.g." and "i.e." do not end one.
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """``text`` split into sentences."""
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def norm_words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, markup and punctuation ignored."""
    return [w.lower().replace("\u2019", "'") for w in WORD.findall(text)]


def sentence_key(sentence: str) -> str:
    """What two copies of one sentence share (words only); "" for very short ones."""
    ws = norm_words(sentence)
    return " ".join(ws) if len(ws) >= 3 else ""


def shingles(ws: Sequence[str], n: int = 3) -> set[tuple[str, ...]]:
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


@dataclass(frozen=True)
class TemplateText:
    """What a project's templates say, for "text copied from the template never counts"."""

    files: tuple[str, ...]
    sentences: frozenset[str]
    shingles: frozenset[tuple[str, ...]]

    @classmethod
    def from_documents(cls, docs: Sequence[Document]) -> TemplateText:
        sents: set[str] = set()
        grams: set[tuple[str, ...]] = set()
        for doc in docs:
            blocks = [*doc.preamble, *(b for s in doc.walk() for b in s.blocks)]
            for block in blocks:
                if not block.kind.prose:
                    continue
                for s in sentences(block.text):
                    key = sentence_key(s)
                    if key:
                        sents.add(key)
                grams.update(shingles(norm_words(block.text)))
        return cls(tuple(d.file for d in docs), frozenset(sents), frozenset(grams))

    def has_sentence(self, sentence: str) -> bool:
        key = sentence_key(sentence)
        return bool(key) and key in self.sentences

    def share(self, text: str) -> float:
        """The share of ``text``'s word 3-grams that the template has."""
        grams = shingles(norm_words(text))
        return len(grams & self.shingles) / len(grams) if grams else 0.0


def template_from_text(file: str, text: str | bytes) -> TemplateText:
    """A template from its content (templates read from git or Gerrit)."""
    return template_from_files([(file, text.encode() if isinstance(text, str) else text)])


_TEMPLATE_CACHE: dict[tuple[tuple[str, str], ...], TemplateText] = {}


def template_from_files(files: Sequence[tuple[str, bytes]]) -> TemplateText:
    """Templates from (path, content) pairs; parsed once per content."""
    key = tuple((name, hashlib.sha256(data).hexdigest()) for name, data in files)
    found = _TEMPLATE_CACHE.get(key)
    if found is None:
        if len(_TEMPLATE_CACHE) > 32:
            _TEMPLATE_CACHE.clear()
        docs = [parse_cached(name, data) for name, data in files]
        found = _TEMPLATE_CACHE[key] = TemplateText.from_documents(docs)
    return found


def find_templates(
    spec: str | Path, config: BlueprintConfig, *, root: str | Path | None = None
) -> list[Path]:
    """Templates next to ``spec``: files named like ``template_names`` in its directory or a parent.

    The walk stops at ``root``, at the top of a git work tree, or after six levels.
    """
    here = Path(spec).resolve().parent
    stop = Path(root).resolve() if root is not None else None
    for _ in range(6):
        found = _templates_in(here, config.template_names)
        if found:
            return [_relative(p) for p in found]
        if here == stop or (here / ".git").exists() or here.parent == here:
            break
        here = here.parent
    return []


def _relative(path: Path) -> Path:
    """``path`` relative to the working directory when it is below it (for messages)."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _templates_in(directory: Path, names: tuple[str, ...]) -> tuple[Path, ...]:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return ()
    return tuple(p for p in entries if p.is_file() and any(glob_match(n, p.name) for n in names))


def load_template(paths: Sequence[str | Path], config: BlueprintConfig) -> TemplateText | None:
    """Parse template files into the text a spec must not be credited for."""
    if not paths:
        return None
    keys = []
    for p in paths:
        try:
            st = Path(p).stat()
        except OSError as exc:
            raise SpecError(f"{p}: cannot read template: {exc.strerror or exc}") from None
        keys.append((str(p), st.st_mtime_ns, st.st_size))
    return _load_template_cached(tuple(keys), config.max_bytes)


@functools.lru_cache(maxsize=32)
def _load_template_cached(keys: tuple[tuple[str, int, int], ...], max_bytes: int) -> TemplateText:
    return TemplateText.from_documents([read_spec(k[0], max_bytes=max_bytes) for k in keys])


def clear_caches() -> None:
    """Forget parsed specs and templates (benchmarks time a cold start)."""
    parse_cached.cache_clear()
    _load_template_cached.cache_clear()
    _TEMPLATE_CACHE.clear()


def template_in_listing(
    spec: str,
    paths: Sequence[str],
    read: Callable[[str], bytes],
    config: BlueprintConfig,
) -> TemplateText | None:
    """The template of ``spec`` in a repository given by its listing and a reader.

    The policy's ``template`` when it names one (None when the repository lacks it),
    else the ``template_names`` files of the nearest directory, from the spec's up.
    """
    if config.template:
        try:
            return template_from_files([(config.template, read(config.template))])
        except (FileNotFoundError, KeyError):
            return None
    directory = PurePosixPath(spec).parent
    by_dir: dict[PurePosixPath, list[str]] = {}
    for p in paths:
        pp = PurePosixPath(p)
        if config.is_template(pp.name):
            by_dir.setdefault(pp.parent, []).append(p)
    for _ in range(6):
        if directory in by_dir:
            return template_from_files([(p, read(p)) for p in sorted(by_dir[directory])])
        if directory == directory.parent:
            break
        directory = directory.parent
    return None
