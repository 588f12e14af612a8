"""The web server `govbot serve` runs: a fixed pool of workers over werkzeug, on real
sockets (port 0)."""

from __future__ import annotations

import gc
import socket
import threading
import urllib.request

import pytest
from flask import Flask

from govbot.web import WebServer


def _app(release: threading.Event, inside: threading.Semaphore) -> Flask:
    app = Flask(__name__)

    @app.get("/slow")
    def slow() -> str:
        inside.release()
        release.wait(timeout=30)
        return "slow"

    @app.get("/fast")
    def fast() -> str:
        return "fast"

    return app


def _get(url: str) -> tuple[int, str, str | None]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read().decode(), response.headers.get("Connection")


def test_requests_beyond_the_workers_wait_their_turn_and_are_all_served() -> None:
    """with 2 workers busy, further requests queue (none refused) and are answered as
    soon as a worker frees, each on a connection closed after its response"""
    release, inside = threading.Event(), threading.Semaphore(0)
    with WebServer(_app(release, inside), "127.0.0.1", 0, threads=2) as server:
        results: list[tuple[int, str, str | None]] = []
        slow = [
            threading.Thread(target=lambda: results.append(_get(server.url + "/slow")))
            for _ in range(2)
        ]
        for t in slow:
            t.start()
        for _ in slow:  # both workers are now inside a request
            assert inside.acquire(timeout=30)
        waiting = [
            threading.Thread(target=lambda: results.append(_get(server.url + "/fast")))
            for _ in range(6)
        ]
        for t in waiting:
            t.start()
        assert len(results) == 0  # all eight still waiting: the workers are held
        release.set()
        for t in slow + waiting:
            t.join(timeout=30)
    assert sorted(body for _, body, _ in results) == ["fast"] * 6 + ["slow"] * 2
    assert {status for status, _, _ in results} == {200}
    assert {connection for _, _, connection in results} == {"close"}


def test_an_idle_connection_holds_one_worker_not_the_server() -> None:
    """a client that connects and sends nothing does not keep others waiting"""
    release, inside = threading.Event(), threading.Semaphore(0)
    release.set()
    with (
        WebServer(_app(release, inside), "127.0.0.1", 0, threads=2) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=30),
    ):
        for _ in range(3):
            assert _get(server.url + "/fast")[:2] == (200, "fast")


def test_the_server_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least 1 thread"):
        WebServer(None, "127.0.0.1", 0, threads=0)


def test_starting_moves_the_start_up_heap_out_of_the_collectors_sight() -> None:
    """the objects alive when serving starts are frozen (gc.freeze): full collections
    under load no longer read them"""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with WebServer(None, "127.0.0.1", 0, threads=1):
        assert gc.get_freeze_count() > 1000
