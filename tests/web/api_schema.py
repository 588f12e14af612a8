"""Validating the JSON API's answers against ``api-specs/govbot.yaml``.

:func:`check` takes a Flask test response, or the :class:`HttpResponse` that
:func:`http_get` returns from a running server (the integration tests import this module
as ``tests.web.api_schema``).
"""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import REPO

SPEC_URI = "urn:govbot:api-specs/govbot.yaml"


@functools.cache
def spec() -> dict[str, Any]:
    return yaml.safe_load((REPO / "api-specs" / "govbot.yaml").read_text(encoding="utf-8"))


@functools.cache
def registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def check(template: str, response: Any, method: str = "get") -> Any:
    """Validate ``response`` against the spec's response for ``template`` and its status."""
    operation = spec()["paths"][template][method]
    status = str(response.status_code)
    responses = operation["responses"]
    key = status if status in responses else "default"
    assert key in responses, f"{template} does not document status {status}"
    pointer = f"/paths/{_escape(template)}/{method}/responses/{key}"
    declared = responses[key]
    if "$ref" in declared:
        pointer = declared["$ref"].removeprefix("#")
        declared = spec()["components"]["responses"][pointer.rsplit("/", 1)[1]]
    assert response.mimetype == "application/json"
    schema = {"$ref": f"{SPEC_URI}#{pointer}/content/application~1json/schema"}
    validator = Draft202012Validator(schema, registry=registry(), format_checker=FormatChecker())
    body = response.get_json()
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    if response.status_code == 200:
        assert response.headers["Cache-Control"] == "no-cache"
    return body


@dataclass
class HttpResponse:
    """The part of a Flask test response :func:`check` reads, from a real HTTP answer."""

    status_code: int
    mimetype: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def get_json(self) -> Any:
        return json.loads(self.body)

    def get_data(self, as_text: bool = False) -> Any:
        return self.body.decode("utf-8") if as_text else self.body


def http_get(url: str, timeout: float = 30) -> HttpResponse:
    """GET ``url`` from a running govbot; error statuses are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            status, headers, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as err:
        status, headers, body = err.code, err.headers, err.read()
    mimetype = (headers.get("Content-Type") or "").split(";")[0].strip()
    return HttpResponse(status, mimetype, dict(headers.items()), body)
