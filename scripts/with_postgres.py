"""Run a command with a PostgreSQL for the tests: the one that answers, or a throw-away one.

    python scripts/with_postgres.py COMMAND [ARG...]

The tests find PostgreSQL at ``GOVBOT_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). When a server answers there (a
login and a query), COMMAND runs as it is. Otherwise this script starts a cluster of its
own: Debian's ``postgresql`` is installed first if it is missing (as root, through
``scripts/system-deps``), ``initdb`` makes a data directory in a new temporary directory,
the server listens on 127.0.0.1 at a free port (never 5432, so parallel runs do not
collide), and COMMAND runs with ``GOVBOT_TEST_POSTGRES_URL`` pointing at it. The server
is stopped and the directory removed when COMMAND ends, whether it passed, failed or was
interrupted. PostgreSQL refuses to run as root, so as root the cluster belongs to the
``postgres`` user. Exits with COMMAND's exit status.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from sqlalchemy import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCRIPTS = Path(__file__).resolve().parent
# Several test processes (queue workers, the web app) hold connections at once.
SERVER_OPTIONS = (
    "-c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)


def say(message: str) -> None:
    print(f"with_postgres: {message}", file=sys.stderr, flush=True)


def unreachable(url: str) -> str | None:
    """Why no usable server answers at ``url`` (a SQLAlchemy URL), or None when one does."""
    parsed = make_url(url)
    try:
        with psycopg.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            dbname=parsed.database or "postgres",
            connect_timeout=3,
        ) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def server_bindir() -> Path | None:
    """The newest installed server's bin directory (Debian's /usr/lib/postgresql/N/bin)."""
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        with contextlib.suppress(ValueError):
            found.append((int(initdb.parent.parent.name.split(".")[0]), initdb.parent))
    if found:
        return max(found)[1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path and shutil.which("pg_ctl") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A throw-away cluster in ``directory``, run by ``user`` when we are root."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.log = directory / "server.log"
        self.port = 0
        self.owner: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = _service_account()
            os.chown(directory, account.pw_uid, account.pw_gid)
            self.owner = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.directory,
            **self.owner,
        )

    def start(self) -> str:
        made = self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        if made.returncode:
            raise RuntimeError(f"initdb failed: {made.stderr.strip() or made.stdout.strip()}")
        problem = ""
        for _ in range(3):  # a free port can be taken between the check and the start
            self.port = free_port()
            options = f"-h 127.0.0.1 -p {self.port} -k {self.directory} {SERVER_OPTIONS}"
            started = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                "-t", "60", "start",
            )  # fmt: skip
            if started.returncode == 0:
                break
            problem = self.log.read_text(errors="replace") if self.log.exists() else ""
            problem = problem.strip() or started.stderr.strip()
        else:
            raise RuntimeError(f"the server did not start: {problem}")
        admin = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
            connection.execute("CREATE DATABASE test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/test"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


def _service_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")  # Debian's postgresql package creates it
    except KeyError:
        return pwd.getpwnam("nobody")


@contextlib.contextmanager
def _stopped_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP end the run like Ctrl-C does, so the cleanup below still runs."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def ensure_server_installed() -> Path | None:
    bindir = server_bindir()
    if bindir is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run([str(SCRIPTS / "system-deps"), "install", "postgresql"], check=False)
        bindir = server_bindir()
    return bindir


def run(command: list[str]) -> int:
    url = os.environ.get("GOVBOT_TEST_POSTGRES_URL", DEFAULT_URL)
    problem = unreachable(url)
    if problem is None:
        say(f"using the PostgreSQL that answers at {make_url(url)!r}")
        return subprocess.call(command)
    say(f"no PostgreSQL answers at {make_url(url)!r} ({problem}); starting one for the tests")
    bindir = ensure_server_installed()
    if bindir is None:
        say(
            "no PostgreSQL server is installed, so the PostgreSQL tests will be skipped"
            " (failed on CI); install it with: sudo make system-deps"
        )
        return subprocess.call(command)
    directory = Path(tempfile.mkdtemp(prefix="govbot-test-postgres-"))
    cluster = Cluster(bindir, directory)
    with _stopped_on_signals():
        try:
            test_url = cluster.start()
            say(f"started PostgreSQL ({bindir}) on 127.0.0.1:{cluster.port}, data in {directory}")
            env = {**os.environ, "GOVBOT_TEST_POSTGRES_URL": test_url}
            return subprocess.call(command, env=env)
        except KeyboardInterrupt:
            return 130
        finally:
            cluster.stop()
            shutil.rmtree(directory, ignore_errors=True)


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        return run(sys.argv[1:])
    except (RuntimeError, OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        say(f"cannot start PostgreSQL for the tests: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
