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
and projects are made over REST as admin. Without a plugin WAR the webhooks plugin is not
available: the webhook path is covered against the sandbox only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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

    def host_key_line(self) -> str:
        key = (self.site / "etc" / "ssh_host_ed25519_key.pub").read_text().split()
        return f"[127.0.0.1]:{self.ssh_port} {key[0]} {key[1]}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start(site: Path, java: str = "java") -> RealGerrit:
    """Init a throw-away site under ``site`` and start the daemon; wait until it answers."""
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
