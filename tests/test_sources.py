"""Files at a revision (GitReader), changed specs in a range, and `check --git` on a real repository."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path
from typing import Any

import git
import pytest

from govbot import sources
from govbot.errors import FileTooLarge, OutsideRoot, SpecError
from govbot.findings import Severity
from govbot.policy import Policy
from govbot.rules.catalog import CATALOG
from govbot.rules.registry import Hit, rule
from govbot.services.check_git import check_git
from govbot.sources import ChangedFile, GitReader, changed_specs
from govbot.surface import operations, properties

GLOBS = ("api-specs/**/*.yaml",)


def spec(title: str, paths: dict[str, str]) -> str:
    """A small OpenAPI document: one GET per path, its 200 response schema given as YAML."""
    out = [f"openapi: 3.0.3\ninfo: {{title: {title}, version: '1.0'}}\npaths:"]
    for path, schema in paths.items():
        out.append(
            f"  {path}:\n    get:\n      operationId: get-{path.strip('/').replace('/', '-') or 'root'}\n"
            "      responses:\n        '200':\n          description: ok\n          content:\n"
            "            application/json:\n              schema:\n"
            + textwrap.indent(schema, " " * 16)
        )
    return "\n".join(out) + "\n"


COMPUTE = spec("compute", {"/servers": "$ref: 'schemas/server.yaml#/Server'\n"})
SERVER_V1 = (
    "Server:\n  type: object\n  properties:\n    id: {type: string}\n    name: {type: string}\n"
)
SERVER_V2 = "Server:\n  type: object\n  properties:\n    id: {type: string}\n"  # name removed
VOLUME_V1 = spec("volume", {"/volumes": "type: object\n", "/snapshots": "type: object\n"})
VOLUME_V2 = spec("volume", {"/volumes": "type: object\n"})
IMAGE = spec("image", {"/images": "type: object\n"})
LEGACY = spec("legacy", {"/old-things": "type: object\n", "/older-things": "type: object\n"})
NETWORK = spec("network", {"/networks": "type: object\n"})


class Repo:
    """A real git repository in a temporary directory, committed to with gitpython."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repo = git.Repo.init(path)
        with self.repo.config_writer() as cfg:
            cfg.set_value("user", "name", "Test Author")
            cfg.set_value("user", "email", "author@example.org")
            cfg.set_value("commit", "gpgsign", "false")

    def write(self, rel: str, text: str) -> None:
        file = self.path / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        self.repo.index.add([rel])

    def rm(self, rel: str) -> None:
        self.repo.index.remove([rel], working_tree=True)

    def mv(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.repo.git.mv(old, new)

    def commit(self, message: str) -> str:
        return self.repo.index.commit(message).hexsha


@pytest.fixture
def history(tmp_path) -> tuple[Repo, str, str]:
    """Two commits: add, modify, rename, delete a spec, and change a file another spec $refs."""
    r = Repo(tmp_path / "repo")
    r.write("api-specs/compute.yaml", COMPUTE)
    r.write("api-specs/schemas/server.yaml", SERVER_V1)
    r.write("api-specs/volume.yaml", VOLUME_V1)
    r.write("api-specs/image.yaml", IMAGE)
    r.write("api-specs/legacy.yaml", LEGACY)
    r.write("README.md", "specs\n")
    first = r.commit("first")
    r.write("api-specs/network.yaml", NETWORK)  # A
    r.write("api-specs/volume.yaml", VOLUME_V2)  # M: GET /snapshots removed
    r.mv("api-specs/image.yaml", "api-specs/image/v2.yaml")  # R
    r.rm("api-specs/legacy.yaml")  # D
    r.write("api-specs/schemas/server.yaml", SERVER_V2)  # compute.yaml itself unchanged
    r.write("README.md", "specs, changed\n")
    second = r.commit("second")
    # The work tree differs from both revisions: --git must never read it.
    (r.path / "api-specs/schemas/server.yaml").write_text("Server: [not, what, git, has]\n")
    (r.path / "api-specs/volume.yaml").write_text("{{{ broken")
    return r, first, second


def test_git_reader_reads_blobs_at_a_revision(history):
    """GitReader returns each revision's content, not the work tree's."""
    r, first, second = history
    assert GitReader(r.path, first).read("api-specs/volume.yaml").decode() == VOLUME_V1
    assert GitReader(r.path, second).read("api-specs/volume.yaml").decode() == VOLUME_V2
    assert GitReader(r.path, second).read("api-specs/schemas/server.yaml").decode() == SERVER_V2
    reader = GitReader(r.repo, first)
    assert reader.exists("api-specs/legacy.yaml") and not GitReader(r.repo, second).exists(
        "api-specs/legacy.yaml"
    )
    assert reader.size("api-specs/image.yaml") == len(IMAGE)
    assert "api-specs/schemas/server.yaml" in set(reader.files())
    with pytest.raises(FileNotFoundError):
        reader.read("api-specs/nope.yaml")
    with pytest.raises(OutsideRoot):
        reader.read("../outside.yaml")
    with pytest.raises(FileNotFoundError):
        reader.read("api-specs")  # a directory is not a file


def test_git_reader_follows_symlinks_inside_the_tree(tmp_path):
    """A symlinked spec (OpenStack's v2.yaml -> v2.96.yaml) reads as its target."""
    r = Repo(tmp_path / "repo")
    r.write("api-specs/v2.96.yaml", IMAGE)
    (r.path / "api-specs/v2.yaml").symlink_to("v2.96.yaml")
    (r.path / "api-specs/escape.yaml").symlink_to("../../outside.yaml")
    r.repo.index.add(["api-specs/v2.yaml", "api-specs/escape.yaml"])
    rev = r.commit("links")
    reader = GitReader(r.path, rev)
    assert reader.read("api-specs/v2.yaml").decode() == IMAGE
    # Out of the tree: the loader's OAS010 (outside-root), not a missing file.
    with pytest.raises(OutsideRoot):
        reader.read("api-specs/escape.yaml")
    assert not reader.exists("api-specs/escape.yaml")


def test_git_reader_refuses_a_blob_over_its_limit_unread(history):
    """The object's size (its header, as ``git cat-file -s``) decides before any byte is
    read: FileTooLarge names the file, its size and the limit."""
    r, first, _ = history
    reader = GitReader(r.repo, first, max_bytes=len(IMAGE) - 1)
    assert reader.size("api-specs/image.yaml") == len(IMAGE)
    with pytest.raises(FileTooLarge) as caught:
        reader.read("api-specs/image.yaml")
    assert str(caught.value) == (
        f"api-specs/image.yaml: {len(IMAGE)} bytes, over the limit of {len(IMAGE) - 1} bytes; "
        "not read"
    )
    assert GitReader(r.repo, first, max_bytes=len(IMAGE)).read("api-specs/image.yaml") == (
        IMAGE.encode()
    )


def test_unknown_revision_and_not_a_repository(history, tmp_path):
    """A bad revision or a directory that is not a repository is a one-line SpecError."""
    r, _, _ = history
    with pytest.raises(SpecError, match="unknown revision 'no-such-branch'"):
        GitReader(r.path, "no-such-branch")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SpecError, match="not a git repository"):
        GitReader(plain, "HEAD")


def test_changed_specs_lists_adds_modifications_renames_and_deletions(history):
    """Renames and deletions are included; files outside the globs are not."""
    r, first, second = history
    changes = changed_specs(r.path, first, second, GLOBS)
    assert changes == [
        ChangedFile("R", "api-specs/image.yaml", "api-specs/image/v2.yaml"),
        ChangedFile("D", "api-specs/legacy.yaml", None),
        ChangedFile("A", None, "api-specs/network.yaml"),
        ChangedFile("M", "api-specs/schemas/server.yaml", "api-specs/schemas/server.yaml"),
        ChangedFile("M", "api-specs/volume.yaml", "api-specs/volume.yaml"),
    ]


def test_renames_across_the_globs(history):
    """A spec renamed out of the globs counts as deleted; one renamed into them as added."""
    r, first, second = history
    only_top = ("api-specs/*.yaml",)
    changes = {c.path: c.status for c in changed_specs(r.path, first, second, only_top)}
    assert changes["api-specs/image.yaml"] == "D"
    only_sub = ("api-specs/image/*.yaml",)
    assert changed_specs(r.path, first, second, only_sub) == [
        ChangedFile("A", None, "api-specs/image/v2.yaml")
    ]


@pytest.fixture
def probe_rules():
    """Throwaway rules that show what the pipeline saw on each side."""

    @rule("TST041", "removed-operation", kind="diff", severity=Severity.ERROR)
    def removed(ctx):
        """Every removed operation."""
        for d in ctx.diff.removed:
            yield Hit(f"{d.label} removed", d.op.node.pointer, side="base", file=d.op.node.file)

    @rule("TST042", "changed-operation", kind="diff", severity=Severity.WARNING)
    def changed(ctx):
        """Every changed operation, with the fields of its 200 response on both sides."""
        base_ops = {op.key: op for op in operations(ctx.base)}
        for d in ctx.diff.changed:
            head_op = d.op
            base_op = base_ops[d.key]

            def fields(spec, op):
                schema = next(iter(op.responses["200"].content.values()))
                return ",".join(sorted(properties(spec, schema)))

            yield Hit(
                f"{d.label} changed: {fields(ctx.base, base_op)} -> {fields(ctx.head, head_op)}",
                head_op.node.pointer,
            )

    @rule("TST043", "checked-spec", kind="spec", severity=Severity.INFO)
    def checked(ctx):
        """One line per checked spec."""
        yield Hit(f"checked {ctx.spec.file}", "/info")

    return CATALOG.with_rules(removed, changed, checked)


def test_check_git_sees_each_side_at_its_revision(history, probe_rules, today):
    """`check --git`: added, modified, renamed, deleted specs and a $ref'd file changed in the range."""
    r, first, second = history
    policy = Policy(source="test", digest="0", spec_globs=GLOBS, catalog=probe_rules)
    report = check_git(r.path, first, second, policy=policy, today=today)
    messages = {(f.rule, f.file, f.message) for f in report.findings}
    checked = {m for code, _, m in messages if code == "TST043"}
    # compute.yaml did not change, but the schema file it references did
    assert checked == {
        "checked api-specs/compute.yaml",
        "checked api-specs/volume.yaml",
        "checked api-specs/network.yaml",
        "checked api-specs/image/v2.yaml",
    }
    assert ("TST042", "api-specs/compute.yaml", "GET /servers changed: id,name -> id") in messages
    # the modified spec: the removal points into the base side
    assert ("TST041", "api-specs/volume.yaml", "GET /snapshots removed") in messages
    # the deleted spec: every operation removed, pointing into the old file
    assert ("TST041", "api-specs/legacy.yaml", "GET /old-things removed") in messages
    assert ("TST041", "api-specs/legacy.yaml", "GET /older-things removed") in messages
    removal = next(f for f in report.findings if f.message == "GET /old-things removed")
    assert removal.side == "base" and removal.line == 5  # the `get:` of the old file
    # the renamed spec is compared with its old path: nothing removed
    assert not any(f.rule == "TST041" and "image" in f.file for f in report.findings)
    # the fragment is checked through compute.yaml, never on its own
    assert "api-specs/schemas/server.yaml" not in report.files
    assert report.exit_code == 1


def test_check_git_with_nothing_changed(history, probe_rules, today):
    """A range that touches no spec checks nothing and passes."""
    r, first, _ = history
    policy = Policy(source="test", digest="0", spec_globs=GLOBS, catalog=probe_rules)
    report = check_git(r.path, first, first, policy=policy, today=today)
    assert report.findings == () and report.summary.specs == 0 and report.exit_code == 0


def test_a_full_commit_id_needs_no_rev_parse_and_other_ids_are_refused(history, monkeypatch):
    """A walk names its commits by full id: they are read from the object database
    directly; the full id of a tree, a blob or no object is still an unknown revision,
    and an annotated tag's is still its commit."""
    r, _, second = history
    calls: list[str] = []
    call = git.cmd.Git._call_process

    def spy(self: git.cmd.Git, method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(method)
        return call(self, method, *args, **kwargs)

    monkeypatch.setattr(git.cmd.Git, "_call_process", spy)
    sha = r.repo.commit(second).hexsha
    assert GitReader(r.repo, sha).read("api-specs/volume.yaml").decode() == VOLUME_V2
    assert "rev_parse" not in calls
    commit = r.repo.commit(sha)
    blob = (commit.tree / "api-specs/volume.yaml").hexsha
    for other in (blob, commit.tree.hexsha, "0" * 40):
        with pytest.raises(SpecError, match="unknown revision"):
            GitReader(r.repo, other)
    tag = r.repo.create_tag("v1", ref=sha, message="a release")
    assert GitReader(r.repo, tag.tag.hexsha).commit.hexsha == sha


def test_the_git_reader_reads_each_file_once(history, monkeypatch):
    """A check hashes a spec, then parses it; indexing keeps its bytes: one read."""
    r, first, _ = history
    reader = GitReader(r.repo, first)
    streams: list[str] = []
    blob_of = reader._blob
    monkeypatch.setattr(reader, "_blob", lambda path: streams.append(path) or blob_of(path))
    assert reader.read("api-specs/volume.yaml") == reader.read("api-specs/volume.yaml")
    assert streams == ["api-specs/volume.yaml"]


def test_the_file_listing_is_git_s_traversal_and_reads_only_the_trees_a_commit_changed(
    tmp_path: Path,
) -> None:
    """Every file (symbolic links included, breadth first, as GitPython traverses); the
    next commit of a history lists its files reading only the trees on the changed path."""
    repo = git.Repo.init(tmp_path)
    for path in ("top.txt", "a/one.txt", "a/b/two.txt", "a/b/c/three.txt", "z/four.txt"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(path)
    (tmp_path / "a" / "link.txt").symlink_to("one.txt")
    repo.index.add(["."])
    actor = git.Actor("Dev", "dev@example.org")
    first = repo.index.commit("first", author=actor, committer=actor).hexsha
    (tmp_path / "a/b/c/three.txt").write_text("changed")
    repo.index.add(["a/b/c/three.txt"])
    second = repo.index.commit("second", author=actor, committer=actor).hexsha

    def traversed(rev: str) -> list[str]:
        tree = repo.commit(rev).tree
        return [str(i.path) for i in tree.traverse() if isinstance(i, git.Blob)]

    sources._LISTINGS.clear()
    assert list(GitReader(repo, first).files()) == traversed(first)
    assert len(sources._LISTINGS) == 5  # the root, a, a/b, a/b/c, z
    assert list(GitReader(repo, second).files()) == traversed(second)
    assert len(sources._LISTINGS) == 9  # a new root, a, a/b, a/b/c: z is the same tree
    assert "a/link.txt" in traversed(second)


def test_a_tree_nested_deeper_than_any_project_is_listed_all_the_same(tmp_path: Path) -> None:
    """A crafted repository nests directories 1,200 deep (past Python's recursion limit;
    made with git's plumbing, no work tree holds it): every file is listed, in order,
    and no recursion error escapes."""
    env = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.org", "HOME": str(tmp_path)}
    env |= {"GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.org"}

    def run(*args: str, given: str = "") -> str:
        done = subprocess.run(
            ["git", "-C", str(tmp_path), *args],
            input=given,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    run("init", "-q")
    blob = run("hash-object", "-w", "--stdin", given="x")
    tree = run("mktree", given=f"100644 blob {blob}\tbottom.txt\n")
    for _ in range(1200):
        tree = run("mktree", given=f"040000 tree {tree}\td\n")
    tree = run("mktree", given=f"040000 tree {tree}\td2\n100644 blob {blob}\ttop.txt\n")
    commit = run("commit-tree", tree, "-m", "deep")
    listed = list(GitReader(tmp_path, commit).files())
    assert listed == ["top.txt", "/".join(["d2", *["d"] * 1200, "bottom.txt"])]
