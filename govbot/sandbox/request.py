"""One REST call to the sandbox, as the route functions of ``rest_*.py`` see it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from govbot.sandbox import render
from govbot.sandbox.entities import RestError
from govbot.sandbox.state import GerritState
from govbot.sandbox.wire import Response, json_response


class Request:
    """The caller, the path segments and the body, with Gerrit's input rules."""

    def __init__(
        self,
        sandbox: GerritState,
        method: str,
        segments: list[str],
        params: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        viewer: int | None,
    ) -> None:
        self.sb = sandbox
        self.method = method
        self.segments = segments
        self.params = params
        self.headers = headers
        self.body = body
        self.viewer = viewer

    def param(self, *names: str) -> str | None:
        for name in names:
            if name in self.params:
                return self.params[name][-1]
        return None

    def json(self, data: object, status: int = 200) -> Response:
        return json_response(data, status, pretty=self.param("pp") == "1")

    def input(self) -> dict[str, Any]:
        """The JSON request body; Gerrit's 400s for wrong content type or bad JSON."""
        if not self.body.strip():
            return {}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RestError(400, "Expected Content-Type: application/json")
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise RestError(400, "Invalid application/json in request") from None
        if not isinstance(data, dict):
            raise RestError(400, "Invalid application/json in request")
        return data

    def require_user(self) -> int:
        if self.viewer is None:
            raise RestError(403, "Authentication required")
        return self.viewer

    def only(self, *methods: str) -> None:
        if self.method not in methods:
            raise RestError(405, "Method Not Allowed")

    def options(self, preset: frozenset[str] = frozenset()) -> frozenset[str]:
        """The ``o=`` options of a change query or view, on top of ``preset``."""
        options = set(preset)
        for value in self.params.get("o", []):
            if value not in render.LIST_OPTIONS:
                raise RestError(400, f'"{value}" is not a valid value for "-o"')
            options.add(value)
        return frozenset(options)
