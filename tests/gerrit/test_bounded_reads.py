"""Sizes are checked before bytes are read, over real HTTP to the sandbox Gerrit.

A file the file list says is over the limit is never downloaded; any other download is
read in chunks and stops at the limit; the review still reviews the rest of the change
and reports the big file (OAS002, naming it and its size). The last test runs
``govbot review --dry-run`` as its own process on a change with a 200 MB spec and reads
that process's peak memory from ``wait4`` (so this test's own memory does not count).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from gerrit_support import PROJECT, SPEC, SPEC_TEXT, SPEC_V2, new_change, small_world

from govbot.errors import FileTooLarge
from govbot.gerrit.bounded import ContentTooLarge, encoded_limit
from govbot.gerrit.client import GerritClient
from govbot.gerrit.mirror import GitMirror, MirrorError
from govbot.gerrit.sources import RevisionReader, change_specs
from govbot.openapi.load import load_spec
from govbot.openapi.problems import FILE_TOO_LARGE
from govbot.policy.model import DEFAULT_SPEC_GLOBS
from govbot.sandbox import Sandbox
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME

GOVBOT = str(Path(sys.executable).with_name("govbot"))
BIG = "api-specs/big.yaml"


def _client(sandbox: Sandbox) -> GerritClient:
    return GerritClient(sandbox.url, BOT_USERNAME, BOT_PASSWORD, timeout=30, retries=0)


class CountingClient(GerritClient):
    """The real client, counting the ``/content`` downloads it makes."""

    downloads: list[str]

    def content(self, *args: object, **kwargs: object) -> bytes:
        self.downloads.append(str(args[2]))
        return super().content(*args, **kwargs)  # type: ignore[arg-type]


def test_a_download_stops_at_the_limit() -> None:
    with small_world() as sandbox:
        change = new_change(sandbox)
        with _client(sandbox) as client:
            size = len(SPEC_V2.encode())
            assert client.content(change.number, "current", SPEC, max_bytes=size) == (
                SPEC_V2.encode()
            )
            with pytest.raises(ContentTooLarge, match=f"{SPEC}: .* over the limit of 100 bytes"):
                client.content(change.number, "current", SPEC, max_bytes=100)
    assert encoded_limit(3, "base64") >= 4 and encoded_limit(300, "base64") >= 400


def test_a_listed_file_over_the_limit_is_never_downloaded() -> None:
    """The file list's size decides; an unlisted file (a $ref target) is read bounded."""
    with small_world() as sandbox:
        change = new_change(sandbox, files={SPEC: SPEC_V2})
        with CountingClient(
            sandbox.url, BOT_USERNAME, BOT_PASSWORD, timeout=30, retries=0
        ) as client:
            client.downloads = []
            info = client.change(change.number, options=["CURRENT_REVISION", "CURRENT_COMMIT"])
            specs = change_specs(client, info, globs=DEFAULT_SPEC_GLOBS, max_bytes=100)
            assert client.downloads == []  # both sides of the spec are over 100 bytes
            spec = load_spec(SPEC, reader=specs.head, max_bytes=100)
            (problem,) = spec.problems
            assert problem.code == FILE_TOO_LARGE
            size = len(SPEC_V2.encode())
            assert problem.message == f"{SPEC}: {size} bytes, over the limit of 100 bytes; not read"
            assert client.downloads == []
            # Not in the file list (unchanged): read in chunks, and no further than the limit.
            reader = RevisionReader(
                client, change.number, info.current.sha, parent=False, max_bytes=100
            )
            with pytest.raises(FileTooLarge, match="more than 100 bytes"):
                reader.size("api-specs/old.yaml")
            assert len(SPEC_TEXT.encode()) > 100 and client.downloads == ["api-specs/old.yaml"]


# Started from this (large) test process, the command's own peak would count the pages
# it shared with it until exec (Linux keeps the high-water mark across exec): a small
# launcher process starts it instead and reports the peak that wait4 gives for it.
LAUNCHER = """\
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _peak_rss_mb(args: list[str], env: dict[str, str], out: Path) -> tuple[int, float]:
    """Run a command; its exit code and its peak resident memory (MB), from wait4."""
    peak = out / "peak-kib"
    with (out / "stdout").open("wb") as stdout, (out / "stderr").open("wb") as stderr:
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(peak), *args],
            env=env,
            stdout=stdout,
            stderr=stderr,
            timeout=600,
            check=False,
        )
    return done.returncode, int(peak.read_text()) / 1024  # KiB on Linux


def test_a_200_mb_spec_keeps_the_review_under_300_mb(tmp_path: Path) -> None:
    """The probe's case (issue 16, item 5): the 200 MB spec used to be downloaded whole
    (1.1 GB peak). Now the review reports it from the file list's size, and reviews the
    other spec of the change."""
    header = b"openapi: 3.0.3\ninfo: {title: Big, version: '1'}\npaths: {}\nx-padding: '"
    big = header + b"a" * (200 * 1024 * 1024 - len(header) - 2) + b"'\n"
    with small_world() as sandbox:
        change = new_change(sandbox, files={SPEC: SPEC_V2, BIG: big})
        del big
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
        env.update(
            GOVBOT_GERRIT_URL=sandbox.url,
            GOVBOT_GERRIT_USERNAME=BOT_USERNAME,
            GOVBOT_GERRIT_PASSWORD=BOT_PASSWORD,
            GOVBOT_GERRIT_PROJECTS=PROJECT,
            GOVBOT_GERRIT_TIMEOUT="60",
            GOVBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'govbot.db'}",
            GOVBOT_CACHE_DIR=str(tmp_path / "cache"),
            NO_COLOR="1",
        )
        args = [GOVBOT, "review", str(change.number), "--dry-run"]
        status, peak = _peak_rss_mb(args, env, tmp_path)
    out = (tmp_path / "stdout").read_text()
    err = (tmp_path / "stderr").read_text()
    assert status in (0, 1), err
    assert "Traceback" not in err
    assert "OAS002" in out and BIG in out and "209715200 bytes" in out, out
    assert "showPet" in out or SPEC in out, out  # the other spec was reviewed
    assert peak < 300, f"peak memory {peak:.0f} MB"


@pytest.mark.parametrize(
    ("ref", "branch", "commit", "named"),
    [
        ("--upload-pack=touch x", None, None, "--upload-pack=touch x"),
        ("refs/changes/01/1/1:refs/heads/master", None, None, "master"),
        ("refs/changes/01/1/1", "-x ../y", None, "-x ../y"),
        ("refs/changes/01/1/1", None, "HEAD:../../outside", "HEAD:../../outside"),
        ("refs/changes/01/1/1", None, "--all", "--all"),
    ],
)
def test_the_mirror_takes_only_ref_names_and_shas_from_gerrit(
    tmp_path: Path, ref: str, branch: str | None, commit: str | None, named: str
) -> None:
    """What Gerrit answers is checked before git sees it: a one-line MirrorError naming
    it, and no git command run."""
    with small_world() as sandbox:
        mirror = GitMirror(tmp_path / "mirror", sandbox.git_url)
        with pytest.raises(MirrorError, match=re.escape(named)):
            mirror.fetch(PROJECT, ref, branch=branch, commit=commit)
        assert mirror.fetches == 0 and not (tmp_path / "mirror").exists()
