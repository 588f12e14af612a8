"""The git mirror fetches with the credentials of its URL and never stores them.

A deployment may give the Gerrit URL with its HTTP password inside
(``https://govbot:PASSWORD@review.example.org``). The mirror must fetch with it, yet no
file under the mirror directory may hold it: a backup or a copy of the cache must not
leak the bot's password. The server here is git's own smart-HTTP server (``git
http-backend``, run as CGI) over the sandbox's repositories, refusing requests without
the right Basic credentials, as Gerrit's ``/a/`` URLs do.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import git
import pytest
from gerrit_support import PROJECT, SPEC, SPEC_V2, new_change

from govbot.gerrit.mirror import GitMirror, MirrorError, fetch_env, split_credentials
from govbot.sandbox import Sandbox

USER = "govbot"
PASSWORD = "s3cret:p@ss/word"  # every character a URL must encode


class GitHTTP(http.server.ThreadingHTTPServer):
    """git http-backend under ``root``, for ``user``/``password`` only."""

    daemon_threads = True

    def __init__(self, root: Path, user: str, password: str) -> None:
        super().__init__(("127.0.0.1", 0), _GitHandler)
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.user = user
        self.authorized = 0
        self.refused = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _GitHandler(http.server.BaseHTTPRequestHandler):
    server: GitHTTP

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        return

    def _serve(self) -> None:
        if self.headers.get("Authorization") != self.server.expected:
            self.server.refused += 1
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.authorized += 1
        parts = urlsplit(self.path)
        env = {
            "PATH": "/usr/bin:/bin",
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "REMOTE_USER": self.server.user,
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        body = self._body()
        env["CONTENT_LENGTH"] = str(len(body))
        done = subprocess.run(
            [shutil.which("git") or "git", "http-backend"],
            input=body,
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        head, payload = _cgi_split(done.stdout)
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if not size:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


def _cgi_split(output: bytes) -> tuple[bytes, bytes]:
    """A CGI response's header block and body (headers end at the first blank line)."""
    ends = [(output.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if sep in output]
    if not ends:
        return b"", output
    at, sep = min(ends)
    return output[:at], output[at + len(sep) :]


@contextlib.contextmanager
def git_http(root: Path) -> Iterator[GitHTTP]:
    server = GitHTTP(root, USER, PASSWORD)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def secrets_in(directory: Path) -> list[str]:
    """Files under ``directory`` holding the password in any form git could write it."""
    forms = [
        PASSWORD.encode(),
        quote(PASSWORD, safe="").encode(),
        base64.b64encode(f"{USER}:{PASSWORD}".encode()),
    ]
    return [
        str(path.relative_to(directory))
        for path in sorted(directory.rglob("*"))
        if path.is_file() and any(form in path.read_bytes() for form in forms)
    ]


def credentialed(base: str) -> str:
    netloc = base.removeprefix("http://")
    return f"http://{USER}:{quote(PASSWORD, safe='')}@{netloc}/{{project}}.git"


@pytest.fixture
def git_root(gerrit: Sandbox) -> Path:
    return Path(gerrit.git_url_template.removeprefix("file://")).parent


def test_a_fetch_uses_the_url_credentials_and_the_mirror_never_holds_them(
    gerrit: Sandbox, git_root: Path, tmp_path: Path
) -> None:
    change = new_change(gerrit)
    directory = tmp_path / "mirror"
    with git_http(git_root) as server:
        template = credentialed(server.base)
        mirror = GitMirror(directory, lambda project: template.replace("{project}", project))
        reader = mirror.fetch(PROJECT, change.current.ref, branch="master")
        assert reader.read(SPEC).decode() == SPEC_V2
        assert server.authorized and mirror.fetches == 1
    assert secrets_in(directory) == []
    origin = mirror.repo(PROJECT).remotes.origin.url
    assert origin == f"{server.base}/{PROJECT}.git"  # the URL, without its credentials


def test_without_the_credentials_the_server_refuses(
    gerrit: Sandbox, git_root: Path, tmp_path: Path
) -> None:
    """The server above is no pushover: the fetch works only because of the header."""
    change = new_change(gerrit)
    with git_http(git_root) as server:
        mirror = GitMirror(tmp_path / "mirror", lambda project: f"{server.base}/{project}.git")
        with pytest.raises(MirrorError, match="git fetch"):
            mirror.fetch(PROJECT, change.current.ref)
        assert server.refused and not server.authorized


def test_a_mirror_that_stored_credentials_before_is_cleaned(
    gerrit: Sandbox, git_root: Path, tmp_path: Path
) -> None:
    """A mirror made by an older govbot, with the password in ``remote.origin.url``: the
    next use writes the URL without it."""
    directory = tmp_path / "mirror"
    with git_http(git_root) as server:
        template = credentialed(server.base)
        mirror = GitMirror(directory, lambda project: template.replace("{project}", project))
        old = git.Repo.init(mirror.path(PROJECT), bare=True)
        old.create_remote("origin", template.replace("{project}", PROJECT))
        assert secrets_in(directory)  # the old mirror leaks
        change = new_change(gerrit)
        mirror.fetch(PROJECT, change.current.ref)
    assert secrets_in(directory) == []


def test_the_credentials_travel_in_the_environment_of_one_fetch() -> None:
    clean, found = split_credentials("https://bot:pa%40ss@review.example.org/a/nova")
    assert (clean, found) == ("https://review.example.org/a/nova", ("bot", "pa@ss"))
    env = fetch_env("https://bot:pa%40ss@review.example.org/a/nova")
    index = int(env["GIT_CONFIG_COUNT"]) - 1
    assert env[f"GIT_CONFIG_KEY_{index}"] == "http.https://review.example.org/a/nova.extraHeader"
    assert env[f"GIT_CONFIG_VALUE_{index}"] == "Authorization: Basic " + (
        base64.b64encode(b"bot:pa@ss").decode()
    )
    # A user name alone is no secret (a credential helper may need it); other schemes
    # and URLs without a password are left as they are.
    for url in ("https://bot@review.example.org/a/nova", "file:///srv/git/nova.git"):
        assert split_credentials(url) == (url, None)
        assert fetch_env(url) == {"GIT_TERMINAL_PROMPT": "0"}
