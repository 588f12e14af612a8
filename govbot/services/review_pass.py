"""What a review pass is: its input, its result, and what one review did.

A :class:`ReviewPass` is one kind of review govbot posts on a change (its purpose and
tag, the title of its summary, and how it finds its findings): the API review of
:mod:`govbot.services.review_api` and the spec review of
:mod:`govbot.services.spec_review`. :func:`govbot.services.review.run_review` runs one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from govbot.audience import Classification
from govbot.findings import Finding
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.mirror import GitMirror
from govbot.gerrit.revisions import RevisionInfo
from govbot.gerrit.sources import ChangeSpecs, change_specs
from govbot.policy import API_REVIEW, Policy, ReviewConfig


class ReviewStatus(StrEnum):
    POSTED = "posted"
    SKIPPED_WIP = "skipped-wip"
    SKIPPED_PRIVATE = "skipped-private"
    SKIPPED_CLOSED = "skipped-closed"
    ALREADY_POSTED = "already-posted"
    NO_SPECS = "no-specs"  # nothing this pass reviews in the patch set
    QUIET = "quiet"  # reviewed, nothing found, nothing posted (no noise)
    DRY_RUN = "dry-run"


@dataclass(frozen=True)
class ReviewOutcome:
    """What :func:`review_change` did for one change."""

    change: int
    patch_set: int | None
    status: ReviewStatus
    review_input: Mapping[str, Any] | None = None
    findings: tuple[Finding, ...] = ()
    reason: str = ""
    revision: str | None = None  # the commit SHA reviewed
    purpose: str = API_REVIEW
    title: str = "API review"

    @property
    def posted(self) -> bool:
        return self.status is ReviewStatus.POSTED


@dataclass
class PatchSetReads:
    """What the passes of one patch set read, kept so that each is read and parsed once:
    the changed files with their readers, and the loaded specs by (side, path)."""

    specs: ChangeSpecs | None = None
    loads: dict[tuple[str, str], Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PassInput:
    """What a pass reads to find its findings on one patch set."""

    client: GerritClient
    info: ChangeInfo
    target: RevisionInfo
    policy: Policy
    now: dt.datetime
    revision: str | None  # the SHA when a patch set was asked for; None: the current one
    mirror: GitMirror | None = None
    reads: PatchSetReads = field(default_factory=PatchSetReads)

    def change_specs(self) -> ChangeSpecs:
        """The OpenAPI specs the patch set changed, read once for every pass."""
        if self.reads.specs is None:
            self.reads.specs = change_specs(
                self.client,
                self.info,
                globs=self.policy.spec_globs,
                mirror=self.mirror,
                revision=self.revision,
                max_bytes=self.policy.max_file_bytes,
            )
        return self.reads.specs


@dataclass(frozen=True)
class PassResult:
    """A pass's findings on one patch set, and where its comments may go."""

    findings: tuple[Finding, ...]
    # The revision's files that may carry inline comments (path -> FileInfo, or paths).
    files: Mapping[str, Any] | Sequence[str] = field(default_factory=dict)
    audiences: Mapping[str, Classification] | None = None
    notes: tuple[str, ...] = ()
    # Lines of Gerrit's header above the message in /COMMIT_MSG (None: no comments there).
    commit_msg_offset: int | None = None


@dataclass(frozen=True)
class ReviewPass:
    """One kind of review on a change: its purpose (and tag), title, and findings.

    ``collect`` returns the findings, or a string saying why the patch set has nothing
    for this pass (recorded, so the patch set is not looked at again under this policy).
    With ``quiet_when_clean`` a result without findings posts nothing, unless this pass
    already posted on the change (then a short summary says the findings are gone).
    """

    title: str
    config: Callable[[Policy], ReviewConfig]
    collect: Callable[[PassInput], PassResult | str]
    quiet_when_clean: bool = False
