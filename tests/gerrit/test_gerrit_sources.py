"""Changed specs of a Gerrit patch set, read over REST content or from a git mirror."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from gerrit_support import SPEC, SPEC_TEXT, SPEC_V2, new_change

from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritNotFound
from govbot.gerrit.mirror import GitMirror
from govbot.gerrit.revisions import FileInfo
from govbot.gerrit.sources import (
    EmptyReader,
    RevisionReader,
    change_ref,
    change_specs,
    has_external_refs,
)
from govbot.openapi.load import load_spec
from govbot.openapi.problems import REF_FILE_MISSING
from govbot.policy import DEFAULT_SPEC_GLOBS
from govbot.sandbox import Sandbox, lifecycle
from govbot.sources import ChangedFile, GitReader

COMMON = "api-specs/common.yaml"
COMPUTE = "api-specs/compute.yaml"
COMMON_TEXT = """\
components:
  schemas:
    Server:
      type: object
      properties:
        id: {type: string}
"""
COMPUTE_TEXT = """\
openapi: 3.0.3
info: {title: Compute, version: '1.0'}
paths:
  /servers:
    get:
      operationId: listServers
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: 'common.yaml#/components/schemas/Server'
"""


def content_requests(gerrit: Sandbox) -> int:
    return gerrit.count_requests("GET", r"/content$")


def test_added_modified_deleted_specs_at_a_patch_set(gerrit: Sandbox, client: GerritClient) -> None:
    """Only spec files count; each side reads its own revision; the magic files are skipped."""
    change = new_change(
        gerrit,
        files={
            SPEC: SPEC_V2,
            "api-specs/old.yaml": None,
            "api-specs/new.yaml": SPEC_TEXT,
            "README.rst": "More pets\n",
        },
    )
    [info], _ = client.query(f"change:{change.number}")  # no revisions in it: fetched
    specs = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS)
    assert specs.source == "rest" and specs.revision == change.current.sha
    assert (specs.patch_set, specs.ref) == (1, change.current.ref)
    assert specs.parent == change.current.parent_sha
    assert specs.files == (
        ChangedFile("A", None, "api-specs/new.yaml"),
        ChangedFile("D", "api-specs/old.yaml", None),
        ChangedFile("M", SPEC, SPEC),
    )
    assert sorted(specs.changed) == ["README.rst", "api-specs/new.yaml", "api-specs/old.yaml", SPEC]
    assert specs.head.read(SPEC) == SPEC_V2.encode()
    assert specs.base.read(SPEC) == SPEC_TEXT.encode()
    with pytest.raises(FileNotFoundError):
        specs.head.read("api-specs/old.yaml")
    with pytest.raises(FileNotFoundError):
        specs.base.read("api-specs/new.yaml")
    with pytest.raises(FileNotFoundError):
        specs.head.read("/COMMIT_MSG")


def test_base_is_the_parent_at_a_later_patch_set(gerrit: Sandbox, client: GerritClient) -> None:
    """Patch set 2's base is its parent commit (the branch), not patch set 1."""
    change = new_change(gerrit)
    v3 = SPEC_V2.replace("'1.0'", "'1.1'")
    lifecycle.add_patchset(gerrit, change, {SPEC: v3})
    info = client.change(change.number, options=["CURRENT_REVISION", "CURRENT_COMMIT"])
    specs = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS)
    assert specs.patch_set == 2
    assert specs.head.read(SPEC) == v3.encode()
    assert specs.base.read(SPEC) == SPEC_TEXT.encode()
    first = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS, revision=1)
    assert (first.patch_set, first.revision) == (1, change.patch_set(1).sha)
    assert first.head.read(SPEC) == SPEC_V2.encode()


def test_revision_reader_caches_and_maps_absence(gerrit: Sandbox, client: GerritClient) -> None:
    """One REST call per file and side; absent files (and magic paths) are FileNotFoundError."""
    change = new_change(gerrit)
    reader = RevisionReader(client, change.number, change.current.sha, parent=False)
    gerrit.clear_requests()
    assert reader.read(SPEC) == reader.read("api-specs/../" + SPEC) == SPEC_V2.encode()
    assert not reader.exists("nope.yaml") and not reader.exists("nope.yaml")
    assert content_requests(gerrit) == 2
    for bad in ("/COMMIT_MSG", "../etc/passwd"):
        with pytest.raises(FileNotFoundError):
            reader.read(bad)
    assert content_requests(gerrit) == 2


def test_cross_file_refs_resolve_at_both_sides_via_the_mirror(
    gerrit: Sandbox, client: GerritClient, tmp_path: Path
) -> None:
    """A spec that $refs an unchanged common.yaml: the mirror reads both sides locally."""
    lifecycle.add_project(gerrit, "demo/compute", {COMPUTE: COMPUTE_TEXT, COMMON: COMMON_TEXT})
    change = lifecycle.create_change(
        gerrit,
        "demo/compute",
        subject="List servers by name",
        files={COMPUTE: COMPUTE_TEXT.replace("listServers", "listServersByName")},
        owner="alice",
    )
    mirror = GitMirror(tmp_path / "mirror", gerrit.git_url)
    info = client.change(change.number, options=["CURRENT_REVISION", "CURRENT_COMMIT"])
    specs = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS, mirror=mirror)
    assert specs.source == "git" and mirror.fetches == 1
    assert [c.path for c in specs.files] == [COMPUTE]  # common.yaml is unchanged
    assert isinstance(specs.head, GitReader) and isinstance(specs.base, GitReader)
    assert specs.parent == change.current.parent_sha
    before = content_requests(gerrit)
    for side, operation in ((specs.head, "listServersByName"), (specs.base, "listServers")):
        spec = load_spec(COMPUTE, reader=side, validate=False)
        assert spec.ok and COMMON in spec.documents
        assert not [p for p in spec.problems if p.code == REF_FILE_MISSING]
        assert spec.data is not None
        assert spec.data["paths"]["/servers"]["get"]["operationId"] == operation
    assert content_requests(gerrit) == before  # read from git, not REST
    again = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS, mirror=mirror)
    assert again.source == "git" and mirror.fetches == 1  # the commit is already there
    refs = mirror.repo("demo/compute").git.for_each_ref("--format=%(refname)").split()
    assert change.current.ref in refs and "refs/heads/master" in refs


def test_cross_file_refs_also_resolve_over_rest(gerrit: Sandbox, client: GerritClient) -> None:
    """Without a mirror the same refs resolve through /content (one call per file and side)."""
    lifecycle.add_project(gerrit, "demo/compute", {COMPUTE: COMPUTE_TEXT, COMMON: COMMON_TEXT})
    change = lifecycle.create_change(
        gerrit,
        "demo/compute",
        files={COMPUTE: COMPUTE_TEXT.replace("'1.0'", "'1.1'")},
        owner="alice",
    )
    info = client.change(change.number, options=["CURRENT_REVISION"])
    gerrit.clear_requests()
    # change_specs reads the changed spec on both sides (is it readable? does it refer to
    # other files?); the loader finds those reads cached.
    specs = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS)
    assert specs.source == "rest"
    for side in (specs.head, specs.base):
        spec = load_spec(COMPUTE, reader=side, validate=False)
        assert spec.ok and COMMON in spec.documents
        assert not [p for p in spec.problems if p.code == REF_FILE_MISSING]
    assert content_requests(gerrit) == 4


def test_self_contained_spec_stays_on_rest_even_with_a_mirror(
    gerrit: Sandbox, client: GerritClient, tmp_path: Path
) -> None:
    """No $ref to another file: no git fetch, the REST reads are reused by the loader."""
    change = new_change(gerrit)
    mirror = GitMirror(tmp_path / "mirror", gerrit.git_url)
    info = client.change(change.number, options=["CURRENT_REVISION"])
    specs = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS, mirror=mirror)
    assert specs.source == "rest" and mirror.fetches == 0
    before = content_requests(gerrit)
    assert load_spec(SPEC, reader=specs.head, validate=False).ok
    assert content_requests(gerrit) == before  # cached by the $ref probe


def test_failing_mirror_falls_back_to_rest(
    gerrit: Sandbox, client: GerritClient, tmp_path: Path
) -> None:
    """A mirror that cannot fetch is a warning, not a failure: the change is read over REST."""
    lifecycle.add_project(gerrit, "demo/compute", {COMPUTE: COMPUTE_TEXT, COMMON: COMMON_TEXT})
    change = lifecycle.create_change(
        gerrit,
        "demo/compute",
        files={COMPUTE: COMPUTE_TEXT.replace("'1.0'", "'1.1'")},
        owner="alice",
    )
    missing = (tmp_path / "no-such-repo.git").as_uri()
    mirror = GitMirror(tmp_path / "mirror", lambda _project: missing)
    info = client.change(change.number, options=["CURRENT_REVISION"])
    specs = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS, mirror=mirror)
    assert specs.source == "rest" and "git mirror failed" in specs.notes[0]
    assert load_spec(COMPUTE, reader=specs.head, validate=False).ok


def test_external_ref_detection() -> None:
    """Only a $ref naming another file counts (not a local pointer, not a URL)."""
    assert has_external_refs(b"$ref: common.yaml#/components/schemas/X\n")
    assert has_external_refs(b'{"$ref": "./schemas/server.json"}')
    assert has_external_refs(b"schema:\n  $ref: 'parameters.yaml'\n")
    assert not has_external_refs(b"$ref: '#/components/schemas/X'\n")
    assert not has_external_refs(b'{"$ref":"#/definitions/X"}')
    assert not has_external_refs(b"$ref: https://example.org/schema.json\n")
    assert (
        change_ref(1234, 5) == "refs/changes/34/1234/5"
        and change_ref(7, 1) == "refs/changes/07/7/1"
    )


# --- shapes the sandbox does not produce (renames, copies, merges) -------------------------


class FilesOnly:
    """A stand-in client whose only answer is one revision's file list."""

    def __init__(self, files: Mapping[str, Mapping[str, Any]]) -> None:
        self._files = {path: FileInfo.from_json(path, data) for path, data in files.items()}
        self.calls: list[tuple[str, int | None]] = []

    def files(
        self, change: Any, revision: str = "current", *, parent: int | None = None
    ) -> dict[str, FileInfo]:
        self.calls.append((revision, parent))
        return dict(self._files)

    def content(
        self,
        change: Any,
        revision: str,
        path: str,
        *,
        parent: bool = False,
        max_bytes: int | None = None,
    ) -> bytes:
        raise GerritNotFound(f"{path}: this stand-in has no contents", status=404)


def test_renames_copies_and_magic_files() -> None:
    """R keeps its old path, renames across the globs become A/D, C is an add; magic skipped."""
    info = ChangeInfo.from_json(
        {
            "_number": 42,
            "project": "p",
            "branch": "master",
            "current_revision": "a" * 40,
            "revisions": {"a" * 40: {"_number": 3, "ref": "refs/changes/42/42/3"}},
        }
    )
    stub = FilesOnly(
        {
            "/COMMIT_MSG": {"status": "A"},
            "/MERGE_LIST": {"status": "A"},
            "api-specs/b.yaml": {"status": "R", "old_path": "api-specs/a.yaml"},
            "api-specs/in.yaml": {"status": "R", "old_path": "drafts/in.yaml"},
            "drafts/out.yaml": {"status": "R", "old_path": "api-specs/out.yaml"},
            "api-specs/copy.yaml": {"status": "C", "old_path": "api-specs/b.yaml"},
            "api-specs/rewritten.yaml": {"status": "W"},
        }
    )
    specs = change_specs(stub, info, globs=DEFAULT_SPEC_GLOBS)  # type: ignore[arg-type]
    assert stub.calls == [("a" * 40, 1)]  # against the first parent, merge or not
    assert specs.files == (
        ChangedFile("R", "api-specs/a.yaml", "api-specs/b.yaml"),
        ChangedFile("A", None, "api-specs/copy.yaml"),
        ChangedFile("A", None, "api-specs/in.yaml"),
        ChangedFile("D", "api-specs/out.yaml", None),
        ChangedFile("M", "api-specs/rewritten.yaml", "api-specs/rewritten.yaml"),
    )
    assert not any(p.startswith("/") for p in specs.changed)
    assert specs.paths >= {"api-specs/a.yaml", "api-specs/b.yaml"}
    assert (specs.patch_set, specs.ref, specs.parent) == (3, "refs/changes/42/42/3", None)


def test_missing_revision_is_not_found(gerrit: Sandbox, client: GerritClient) -> None:
    change = new_change(gerrit)
    info = client.change(change.number, options=["CURRENT_REVISION"])
    with pytest.raises(GerritNotFound):
        change_specs(client, info, globs=DEFAULT_SPEC_GLOBS, revision=7)


def test_empty_reader_has_no_files() -> None:
    reader = EmptyReader()
    assert not reader.exists(SPEC) and list(reader.files()) == []
    with pytest.raises(FileNotFoundError):
        reader.read(SPEC)
