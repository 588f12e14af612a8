"""The WSGI server that hosts the app: werkzeug's server on a background thread, with a
fixed pool of worker threads.

The pool (``threads``, ``GOVBOT_WEB_THREADS``, 4) rather than a thread per connection:
the pages are CPU work under one GIL, so more threads than a few serve no faster, and
each extra one makes all of them slower: they take the GIL from each other (the CPU of a
dashboard page was a third higher with 8 concurrent requests than one at a time, and
its slowest requests waited twice as long). Connections beyond the pool wait in the
listen backlog, in their order, and are served as a worker frees. So that an idle
connection cannot hold a worker, a response closes its connection (HTTP/1.0, no
keep-alive) and a client that stops sending is dropped after ``REQUEST_TIMEOUT_S``.

When it starts serving, the objects made so far (modules, the app, settings, policy,
caches) are moved out of the cyclic garbage collector's sight (``gc.freeze``, after one
collection so that no garbage is kept): they live as long as the process, and a full
collection under load then reads what the requests left, not the whole start-up heap
(150,000 objects: each full collection held the GIL for 100 ms, a stall of every
request in flight).

Its access log goes to govbot's logger at DEBUG, without query strings: Gerrit's
webhooks plugin can only send the shared secret in the URL (``/hooks/gerrit?secret=``),
and a secret must never reach a log.
"""

from __future__ import annotations

import gc
import logging
import queue
import socket
import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Response

from govbot.redact import redact_url

LOG = logging.getLogger("govbot.web")

DEFAULT_THREADS = 4  # Settings.web_threads
# A client that sends nothing for this long loses its connection (and frees its worker).
REQUEST_TIMEOUT_S = 30


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging to govbot's logger (DEBUG) instead of colouring stderr;
    one request per connection (see the module's docstring)."""

    protocol_version = "HTTP/1.0"
    timeout = REQUEST_TIMEOUT_S

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]  # the query may hold the webhook secret
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.DEBUG
        if not LOG.isEnabledFor(level):  # the access log is off unless debugging
            return
        # Whatever werkzeug logs on its own (errors) names the URL through the one redaction.
        text = message % args if args else message
        path = getattr(self, "path", "")
        if "?" in path:
            text = text.replace(path, redact_url(path))
        LOG.log(level, "%s %s", self.address_string(), text)


class _PooledWSGIServer(BaseWSGIServer):
    """werkzeug's WSGI server handing each accepted connection to one of ``threads``
    daemon workers (what ``socketserver.ThreadingMixIn`` does on a new thread each)."""

    multithread = True

    def __init__(self, host: str, port: int, app: Any, threads: int) -> None:
        super().__init__(host, port, app, handler=_RequestHandler)
        self._connections: queue.SimpleQueue[tuple[socket.socket, Any] | None]
        self._connections = queue.SimpleQueue()
        self._workers = [
            threading.Thread(target=self._work, name=f"govbot-web-{self.server_port}-{i}")
            for i in range(threads)
        ]
        for worker in self._workers:
            # Daemons, as ThreadingMixIn's: a client that hangs cannot hold up the exit.
            worker.daemon = True
            worker.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        self._connections.put((request, client_address))

    def _work(self) -> None:
        while (item := self._connections.get()) is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception:  # the edge: socketserver's own handling (logged, not raised)
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        for _ in self._workers:  # each worker ends after the connections before it
            self._connections.put(None)


def _unmounted(environ: dict[str, Any], start_response: Any) -> Any:
    return Response("starting up\n", 503, mimetype="text/plain")(environ, start_response)


class WebServer:
    """An app on a werkzeug WSGI server with ``threads`` workers, served from a background
    thread.

    ``app`` may be given later (:meth:`mount`): the demo binds the port first, to put the
    real address in the settings the app is made from.
    """

    def __init__(
        self, app: Flask | None, host: str, port: int, *, threads: int = DEFAULT_THREADS
    ) -> None:
        if threads < 1:
            raise ValueError(f"the web server needs at least 1 thread, not {threads}")
        self.app = app
        self._server: BaseWSGIServer = _PooledWSGIServer(host, port, app or _unmounted, threads)
        self.host = host
        self.port = self._server.server_port
        self._thread: threading.Thread | None = None

    def mount(self, app: Flask) -> None:
        self.app = app
        self._server.app = app

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> WebServer:
        gc.collect()
        gc.freeze()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"govbot-web-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting requests; requests in flight finish on their workers."""
        if self._thread is None:
            self._server.server_close()
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["DEFAULT_THREADS", "REQUEST_TIMEOUT_S", "WebServer"]
