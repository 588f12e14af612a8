"""The JSON API, ``/api/...``: read-only, described by ``api-specs/govbot.yaml``.

Conventions are the OpenStack API-SIG's, which govbot enforces on others: collections are
objects holding one plural array and ``links``; lists are paginated with ``limit`` and
``marker``; fields are snake_case; times are ISO 8601 in UTC; errors are
``{"errors": [...]}`` (:mod:`govbot.web.errors`).

:func:`make_blueprint` serves each operation of the description (:mod:`.contract`) with
its function of :mod:`.views`, the parameters checked against the description first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from govbot.web.api.contract import Contract, InvalidParameter, Operation, load_contract
from govbot.web.api.views import HANDLERS, Handler
from govbot.web.errors import ApiError
from govbot.web.queries import BadQuery, UnknownMarker

NAME = "api_v1"


def make_blueprint(contract: Contract | None = None) -> Blueprint:
    """A blueprint serving every operation of ``contract`` (default: the packaged one)."""
    contract = contract or load_contract()
    missing = sorted(set(contract.operations) ^ set(HANDLERS))
    if missing:
        raise ValueError(f"described and implemented operations differ: {', '.join(missing)}")
    bp = Blueprint(NAME, __name__)
    for op in contract.operations.values():
        view = _view(op, HANDLERS[op.id])
        bp.add_url_rule(op.rule, endpoint=op.endpoint, view_func=view, methods=[op.method.upper()])
    return bp


def _view(op: Operation, handler: Handler) -> Callable[..., Response]:
    def view(**path: Any) -> Response:
        try:
            args = op.parse(path, request.args)
        except InvalidParameter as exc:
            if exc.location == "path":
                raise ApiError(404, "govbot.item.not_found", "Not found", str(exc)) from None
            raise ApiError(400, "govbot.query.invalid", "Invalid query", str(exc)) from None
        try:
            return handler(args)
        except UnknownMarker as exc:
            raise ApiError(404, "govbot.marker.not_found", "Unknown marker", str(exc)) from None
        except BadQuery as exc:
            raise ApiError(400, "govbot.query.invalid", "Invalid query", str(exc)) from None

    view.__name__ = op.endpoint
    return view


__all__ = ["NAME", "make_blueprint"]
