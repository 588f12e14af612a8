"""A project's specs repository: where blueprint names resolve to judged design specs.

The spec review (:mod:`govbot.services.spec_review`) asks it for the spec files of a
blueprint a change references: merged ones from the git mirror's copy of its branch
(over REST without a mirror: the merged changes that added the file), and those still
in review from its open changes (README.md, Blueprints).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence

import git

from govbot.blueprints import BlueprintConfig, ResolvedSpec, resolve_specs, spec_candidates
from govbot.errors import GerritError
from govbot.gerrit.bounded import ContentTooLarge
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritNotFound
from govbot.gerrit.mirror import GitMirror, MirrorError
from govbot.gerrit.sources import first_parent_files
from govbot.sources import GitReader

LOG = logging.getLogger(__name__)

# Branches a specs repository's merged specs are read from, first found wins.
SPECS_BRANCHES = ("master", "main")


def _updated(change: ChangeInfo) -> dt.datetime:
    return change.updated or dt.datetime.min.replace(tzinfo=dt.UTC)


def _name_regex(name: str) -> str:
    """``file:`` regex of a blueprint's spec files (Gerrit matches the whole path)."""
    escaped = re.sub(r"([.+\\])", r"\\\1", name)
    return f"specs/[^/]+/(approved|implemented)/{escaped}\\.(rst|md)"


class SpecsRepository:
    """Blueprint specs of one specs repository: merged ones (the git mirror's copy of its
    branch, else the merged changes that added them, over REST) and those still in
    review (open changes adding them)."""

    def __init__(
        self,
        client: GerritClient,
        name: str,
        config: BlueprintConfig,
        *,
        mirror: GitMirror | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.config = config
        self.mirror = mirror
        self._merged: GitReader | None = None
        self._listing: list[str] = []
        self.problem: str | None = None
        self._checked = False

    def available(self) -> bool:
        """Whether the repository can be read; ``problem`` says why not."""
        if self._checked:
            return self.problem is None
        self._checked = True
        errors = []
        if self.mirror is not None:
            for branch in SPECS_BRANCHES:
                try:
                    self._merged = self.mirror.fetch(self.name, f"refs/heads/{branch}")
                except (MirrorError, OSError, git.GitError, KeyError) as error:
                    errors.append(str(error))
                    continue
                self._listing = list(self._merged.files())
                return True
            LOG.info("specs repository %s not in the git mirror: %s", self.name, errors[-1])
        try:
            exists = self.client.project_exists(self.name)
        except GerritError as error:
            self.problem = f"specs repository {self.name} could not be read: {error}"
            return False
        if not exists:
            self.problem = f"specs repository {self.name} does not exist on Gerrit"
            return False
        return True

    def lookup(self, name: str) -> list[ResolvedSpec]:
        """The spec files of blueprint ``name``, judged: merged first, then in review."""
        found = self._merged_specs(name)
        found.extend(self._specs_in_review(name, found))
        return found

    def _merged_specs(self, name: str) -> list[ResolvedSpec]:
        if self._merged is not None:
            return resolve_specs(name, self._listing, self._merged.read, self.config)
        # Over REST: the merged changes that touched a file of that name; each path read
        # at the newest such change (a later move to implemented/ wins by its own path).
        query = f'status:merged project:{self.name} file:"^{_name_regex(name)}"'
        newest: dict[str, tuple[ChangeInfo, str]] = {}
        for change in self.client.query_all(query, options=["CURRENT_REVISION"]):
            revision = change.current
            if revision is None:
                continue
            for path in spec_candidates(name, self._files(change, revision.sha)):
                seen = newest.get(path)
                if seen is None or _updated(change) > _updated(seen[0]):
                    newest[path] = (change, revision.sha)
        contents: dict[str, bytes] = {}
        for path, (change, sha) in newest.items():
            try:
                contents[path] = self.client.content(
                    change, sha, path, max_bytes=self.config.max_bytes
                )
            except GerritNotFound:
                continue  # deleted (moved) by that change
            except ContentTooLarge as error:  # never downloaded whole
                LOG.warning("blueprint %s: %s", name, error)
        return self._judge(name, contents, merged=True)

    def _specs_in_review(self, name: str, merged: Sequence[ResolvedSpec]) -> list[ResolvedSpec]:
        known = {s.path for s in merged}
        query = f'status:open project:{self.name} file:"^{_name_regex(name)}"'
        out: list[ResolvedSpec] = []
        for change in self.client.query_all(query, options=["CURRENT_REVISION"]):
            revision = change.current
            if revision is None:
                continue
            contents = {}
            for path in spec_candidates(name, self._files(change, revision.sha)):
                if path in known:
                    continue  # the merged version is what the project agreed to
                try:
                    contents[path] = self.client.content(
                        change, revision.sha, path, max_bytes=self.config.max_bytes
                    )
                except GerritNotFound:
                    continue
                except ContentTooLarge as error:  # never downloaded whole
                    LOG.warning("blueprint %s: %s", name, error)
            out.extend(self._judge(name, contents, merged=False))
        return out

    def _files(self, change: ChangeInfo, sha: str) -> list[str]:
        files = first_parent_files(self.client, change, sha)  # gerrit-fidelity #1
        return [p for p, info in files.items() if not info.is_magic and info.status != "D"]

    def _judge(
        self, name: str, contents: Mapping[str, bytes], *, merged: bool
    ) -> list[ResolvedSpec]:
        if not contents:
            return []
        listing = [*self._listing, *contents]

        def read(path: str) -> bytes:
            if path in contents:
                return contents[path]
            if self._merged is not None:
                return self._merged.read(path)
            raise FileNotFoundError(path)

        out = []
        for path in contents:
            out.extend(
                s
                for s in resolve_specs(name, listing, read, self.config, merged=merged)
                if s.path == path
            )
        return out
