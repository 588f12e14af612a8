"""A Gerrit look-alike over real HTTP, for govbot's tests and ``govbot demo``.

In tests::

    with running_sandbox(seed="demo") as gerrit:
        change = lifecycle.create_change(gerrit, "openstack/compute-api", subject="...", files={...})
        rest = GerritRestAPI(gerrit.url, auth=HTTPBasicAuth("govbot", "govbot-demo"))
        rest.get(f"/changes/{change.number}/detail")

From a shell: ``python -m govbot.sandbox --port 8081 --seed demo``.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from govbot.sandbox import lifecycle, people, reviews
from govbot.sandbox.entities import Change, Clock, LabelType, PatchSet, RestError
from govbot.sandbox.faults import Fault, FaultError, parse_faults
from govbot.sandbox.seed import SEEDS, SeedInfo
from govbot.sandbox.server import RequestRecord, Sandbox

__all__ = [
    "SEEDS",
    "Change",
    "Clock",
    "Fault",
    "FaultError",
    "LabelType",
    "PatchSet",
    "RequestRecord",
    "RestError",
    "Sandbox",
    "SeedInfo",
    "lifecycle",
    "parse_faults",
    "people",
    "reviews",
    "running_sandbox",
    "serve",
]


@contextlib.contextmanager
def running_sandbox(seed: str = "empty", port: int = 0, **options: Any) -> Iterator[Sandbox]:
    """A started sandbox with ``seed`` applied; stopped and its files removed on exit.

    ``options`` go to ``Sandbox`` (``clock=``, ``root=``, ``webhook_url=``,
    ``strict_labels=``, ``reject_outdated_votes=``, ...).
    """
    sandbox = Sandbox(port=port, **options).start()
    try:
        sandbox.seed(seed)
        yield sandbox
    finally:
        sandbox.close()


def serve(
    port: int,
    seed: str,
    *,
    stop: threading.Event | None = None,
    faults: list[Fault] | None = None,
) -> None:
    """Run the sandbox on 127.0.0.1:``port`` until Ctrl-C (or ``stop`` is set), with
    ``faults`` (:mod:`govbot.sandbox.faults`) active from the start."""
    with running_sandbox(seed=seed, port=port) as sandbox:
        sandbox.add_faults(list(faults or ()))
        info = sandbox.seed_info or SeedInfo()
        lines = [
            f"Gerrit sandbox (seed {seed}) at {sandbox.url}",
            f"  bot account: {info.bot_username} / HTTP password {info.bot_password}",
        ]
        for project in sorted(sandbox.projects):
            lines.append(f"  git: {project} at {sandbox.git_url(project)}")
        lines += [
            "  to point govbot at it:",
            f"    export GOVBOT_GERRIT_URL={sandbox.url}",
            f"    export GOVBOT_GERRIT_USERNAME={info.bot_username}",
            f"    export GOVBOT_GERRIT_PASSWORD={info.bot_password}",
            f"    export GOVBOT_GIT_URL={sandbox.git_url_template}",
            # The mirror lets `govbot serve` record every watched API at start-up.
            f"    export GOVBOT_GIT_MIRROR_DIR={(sandbox.root / 'mirror').resolve()}",
            f"  fault control (loopback only): {sandbox.url}__faults "
            f"({len(sandbox.faults.describe())} active)",
            "Press Ctrl-C to stop.",
        ]
        waiter = stop or threading.Event()
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            # Ctrl-C and SIGTERM (a process manager, `kill`) stop it cleanly, even one
            # arriving the moment the lines below are printed.
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: waiter.set())
        try:
            print("\n".join(lines), flush=True)
            while not waiter.wait(0.2):
                pass
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        print("Stopping the sandbox.", file=sys.stderr)
