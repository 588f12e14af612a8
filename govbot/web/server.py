"""The WSGI server that hosts the app: werkzeug's threaded server on a background thread.

Its access log goes to govbot's logger at DEBUG, without query strings: Gerrit's
webhooks plugin can only send the shared secret in the URL (``/hooks/gerrit?secret=``),
and a secret must never reach a log.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

from govbot.redact import redact_url

LOG = logging.getLogger("govbot.web")


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, logging to govbot's logger (DEBUG) instead of colouring stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]  # the query may hold the webhook secret
        self.log("info", '"%s %s %s" %s %s', self.command, path, self.request_version, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        level = logging.ERROR if type == "error" else logging.DEBUG
        # Whatever werkzeug logs on its own (errors) names the URL through the one redaction.
        text = message % args if args else message
        path = getattr(self, "path", "")
        if "?" in path:
            text = text.replace(path, redact_url(path))
        LOG.log(level, "%s %s", self.address_string(), text)


def _unmounted(environ: dict[str, Any], start_response: Any) -> Any:
    return Response("starting up\n", 503, mimetype="text/plain")(environ, start_response)


class WebServer:
    """An app on a threaded werkzeug WSGI server, served from a background thread.

    ``app`` may be given later (:meth:`mount`): the demo binds the port first, to put the
    real address in the settings the app is made from.
    """

    def __init__(self, app: Flask | None, host: str, port: int) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app or _unmounted, threaded=True, request_handler=_RequestHandler
        )
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
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"govbot-web-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting requests; requests in flight finish on their own threads."""
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


__all__ = ["WebServer"]
