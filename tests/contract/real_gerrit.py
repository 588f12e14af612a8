"""A real Gerrit 3.10 for the tests: fetched from Maven Central, started once per session.

The WAR (``com.google.gerrit:gerrit-war``) is not served by every Maven Central mirror
(this project's machines get 404 for it); Gerrit's published server classes are: the
``gerrit-acceptance-framework`` jar holds ``Init`` and ``Daemon`` (its acceptance tests
run the real daemon), ``gerrit-plugin-api`` the server, sshd, httpd, Lucene and JGit, and
Bouncy Castle the crypto. ``GerritLauncher`` runs them as the WAR would. All Apache-2.0
(Bouncy Castle: MIT). The jars are cached in ``~/.cache/govbot/gerrit`` (or
``$GOVBOT_GERRIT_CACHE``) and checked against Maven Central's SHA-1 files.

The site is initialised in batch dev mode (``DEVELOPMENT_BECOME_ANY_ACCOUNT``; the admin's
HTTP password is ``secret``) on 127.0.0.1 with free HTTP and SSH ports; accounts, groups
and projects are made over REST as admin, commits are pushed over git's smart HTTP
(:class:`Workspace`). The webhooks plugin ships only inside the WAR and is not published
on its own: the webhook path is covered against the sandbox only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

VERSION = "3.10.2"
CENTRAL = "https://repo1.maven.org/maven2"
JARS = (
    ("com.google.gerrit", "gerrit-acceptance-framework", VERSION),
    ("com.google.gerrit", "gerrit-plugin-api", VERSION),
    ("org.bouncycastle", "bcprov-jdk18on", "1.77"),
    ("org.bouncycastle", "bcpkix-jdk18on", "1.77"),
    ("org.bouncycastle", "bcutil-jdk18on", "1.77"),
    ("org.bouncycastle", "bcpg-jdk18on", "1.77"),
)
ADMIN = ("admin", "secret")
MAX_FILE_SIZE_DOWNLOAD = 262144
START_TIMEOUT = 600.0  # seconds; a loaded 2-core machine takes minutes


def cache_dir() -> Path:
    return Path(os.environ.get("GOVBOT_GERRIT_CACHE") or Path.home() / ".cache/govbot/gerrit")


def fetch_jars(directory: Path) -> list[Path]:
    """The jars, downloaded once (SHA-1 checked) and reused."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for group, artifact, version in JARS:
        name = f"{artifact}-{version}.jar"
        path = directory / name
        if not path.is_file():
            url = f"{CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{name}"
            with urllib.request.urlopen(url + ".sha1", timeout=60) as response:
                expected = response.read().decode().split()[0]
            partial = path.with_suffix(".part")
            with urllib.request.urlopen(url, timeout=600) as response, partial.open("wb") as out:
                shutil.copyfileobj(response, out)
            digest = hashlib.sha1(partial.read_bytes()).hexdigest()
            if digest != expected:
                partial.unlink()
                raise RuntimeError(f"{url}: SHA-1 {digest} is not the published {expected}")
            partial.rename(path)
        paths.append(path)
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RealGerrit:
    """A running Gerrit: its URLs, the admin's REST session, and the daemon process."""

    url: str
    ssh_port: int
    site: Path
    process: subprocess.Popen[bytes]
    started_in: float  # seconds from launch to "ready"

    @property
    def admin(self) -> requests.Session:
        session = requests.Session()
        session.auth = ADMIN
        return session

    def rest(self, method: str, path: str, **kwargs: object) -> requests.Response:
        response = self.admin.request(method, self.url + "a/" + path, timeout=60, **kwargs)
        if response.status_code >= 400 and response.status_code != 409:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}: {response.text}")
        return response

    def json(self, method: str, path: str, **kwargs: object) -> Any:
        """The JSON body of a REST call as admin (Gerrit's ``)]}'`` prefix stripped)."""
        text = self.rest(method, path, **kwargs).text
        return json.loads(text.split("\n", 1)[1] if text.startswith(")]}'") else text)

    def add_account(self, username: str, password: str, *, ssh_key: str | None = None) -> None:
        body: dict[str, object] = {"name": username.title(), "http_password": password}
        body["email"] = f"{username}@example.org"
        if ssh_key:
            body["ssh_key"] = ssh_key
        self.rest("PUT", f"accounts/{username}", json=body)

    def add_group(self, name: str, members: list[str], *, visible: bool = True) -> None:
        self.rest("PUT", f"groups/{name}", json={"visible_to_all": visible})
        self.rest("POST", f"groups/{name}/members", json={"members": members})
        # Gerrit makes the creator a member: take the admin out again.
        self.rest("POST", f"groups/{name}/members.delete", json={"members": [ADMIN[0]]})

    def add_project(self, name: str) -> None:
        quoted = requests.utils.quote(name, safe="")
        self.rest("PUT", f"projects/{quoted}", json={"create_empty_commit": True})

    def add_email(self, username: str, email: str) -> None:
        quoted = urllib.parse.quote(email, safe="")
        self.rest("PUT", f"accounts/{username}/emails/{quoted}", json={"no_confirmation": True})

    def known_hosts(self) -> str:
        """known_hosts lines for every host key of the site (ssh_host_*_key.pub)."""
        lines = []
        for pub in sorted((self.site / "etc").glob("ssh_host_*_key.pub")):
            kind, key = pub.read_text().split()[:2]
            lines.append(f"[127.0.0.1]:{self.ssh_port} {kind} {key}\n")
        return "".join(lines)

    def git_url(self, project: str, user: tuple[str, str]) -> str:
        name, password = (urllib.parse.quote(part, safe="") for part in user)
        host = self.url.split("://", 1)[1]
        return f"http://{name}:{password}@{host}a/{project}"

    def workspace(self, path: Path, project: str, user: tuple[str, str]) -> Workspace:
        """A bare clone of ``project`` under ``path``, pushing as ``user``."""
        return Workspace.clone(path, self.git_url(project, user), f"{user[0]}@example.org")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start(site: Path, java: str = "java", overrides: Mapping[str, str] | None = None) -> RealGerrit:
    """Init a throw-away site under ``site`` and start the daemon; wait until it answers.
    ``overrides``: gerrit.config settings over the tests' (``section.key`` -> value)."""
    jars = fetch_jars(cache_dir())
    classpath = os.pathsep.join(str(j) for j in jars)
    launcher = [java, "-Xmx1g", "-cp", classpath, "com.google.gerrit.launcher.GerritLauncher"]
    subprocess.run(
        [*launcher, "init", "--batch", "--dev", "--no-auto-start", "-d", str(site)],
        check=True,
        capture_output=True,
        timeout=START_TIMEOUT,
    )
    http, ssh = free_port(), free_port()
    config = site / "etc" / "gerrit.config"
    for key, value in (
        ("sshd.listenAddress", f"127.0.0.1:{ssh}"),
        ("httpd.listenUrl", f"http://127.0.0.1:{http}/"),
        ("gerrit.canonicalWebUrl", f"http://127.0.0.1:{http}/"),
        ("sendemail.enable", "false"),
        ("index.batchThreads", "1"),
        # /content refuses bigger files with 400 (gerrit-fidelity #9); specs stay far below.
        ("change.maxFileSizeDownload", str(MAX_FILE_SIZE_DOWNLOAD)),
        *(overrides or {}).items(),
    ):
        subprocess.run(["git", "config", "-f", str(config), key, value], check=True)
    began = time.monotonic()
    with (site / "daemon.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [*launcher, "daemon", "--headless", "--console-log", "-d", str(site)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{http}/"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"Gerrit exited ({process.returncode}); see {site}/daemon.log")
        try:
            with urllib.request.urlopen(url + "config/server/version", timeout=5):
                break
        except (urllib.error.URLError, OSError):
            if time.monotonic() - began > START_TIMEOUT:
                process.kill()
                raise RuntimeError(f"Gerrit did not start in {START_TIMEOUT:.0f}s") from None
            time.sleep(0.5)
    return RealGerrit(url, ssh, site, process, time.monotonic() - began)


# --- pushing over git -------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A commit pushed for review: its SHA, Change-Id and change number."""

    sha: str
    change_id: str
    number: int


@dataclass
class Workspace:
    """A bare repository that builds commits with git's plumbing (any parents: none for a
    root commit, two for a merge) and pushes them to the real server over HTTP."""

    path: Path
    url: str
    email: str

    @classmethod
    def clone(cls, path: Path, url: str, email: str) -> Workspace:
        subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
        workspace = cls(path, url, email)
        workspace.fetch()
        return workspace

    def git(self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] = {}) -> str:
        name = self.email.split("@")[0].title()
        environ = {
            **os.environ,
            "GIT_DIR": str(self.path),
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": self.email,
            "GIT_TERMINAL_PROMPT": "0",
            **env,
        }
        done = subprocess.run(
            ["git", *args], input=stdin, env=environ, capture_output=True, timeout=300
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"git {args[0]} failed ({done.returncode}): {output}")
        return (done.stdout + done.stderr).decode(errors="replace").strip()

    def fetch(self, ref: str = "+refs/heads/*:refs/heads/*") -> None:
        self.git("fetch", "-q", self.url, ref)

    def rev(self, name: str) -> str:
        return self.git("rev-parse", name)

    def commit(
        self,
        files: Mapping[str, str | bytes | None],
        subject: str,
        *,
        parents: Sequence[str] | None = None,
        body: str = "",
        change_id: str | None = None,
    ) -> tuple[str, str]:
        """A commit of ``files`` (None deletes) on the first parent's tree; (SHA, Change-Id).

        ``parents`` defaults to master's head; ``[]`` makes a root commit."""
        parents = [self.rev("refs/heads/master")] if parents is None else list(parents)
        index = {"GIT_INDEX_FILE": str(self.path / f"index-{secrets.token_hex(4)}")}
        try:
            if parents:
                self.git("read-tree", parents[0], env=index)
            else:
                self.git("read-tree", "--empty", env=index)
            for path, text in files.items():
                if text is None:
                    self.git("update-index", "--force-remove", path, env=index)
                    continue
                data = text.encode() if isinstance(text, str) else text
                blob = self.git("hash-object", "-w", "--stdin", stdin=data)
                self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
            tree = self.git("write-tree", env=index)
        finally:
            Path(index["GIT_INDEX_FILE"]).unlink(missing_ok=True)
        change_id = change_id or "I" + secrets.token_hex(20)
        paragraphs = [subject, body.strip(), f"Change-Id: {change_id}"]
        message = "\n\n".join(p for p in paragraphs if p) + "\n"
        args = ["commit-tree", tree, "-F", "-"]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, stdin=message.encode()), change_id

    def push(self, sha: str, ref: str) -> str:
        return self.git("push", self.url, f"{sha}:{ref}")

    def upload(
        self,
        files: Mapping[str, str | bytes | None],
        subject: str,
        *,
        branch: str = "master",
        options: Sequence[str] = (),
        **commit: object,
    ) -> Upload:
        """Push a new commit to ``refs/for/branch`` (``options`` such as ``wip``)."""
        sha, change_id = self.commit(files, subject, **commit)  # type: ignore[arg-type]
        return self.push_for_review(sha, change_id, branch=branch, options=options)

    def push_for_review(
        self, sha: str, change_id: str, *, branch: str = "master", options: Sequence[str] = ()
    ) -> Upload:
        ref = f"refs/for/{branch}" + ("%" + ",".join(options) if options else "")
        output = self.push(sha, ref)
        found = re.search(r"/\+/(\d+)", output)
        if found is None:
            raise RuntimeError(f"no change number in the push output: {output}")
        return Upload(sha, change_id, int(found.group(1)))
