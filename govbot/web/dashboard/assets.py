"""Static assets, all served by govbot itself: a deployment behind a firewall has no CDN.

* ``/assets/plotly-<version>.min.js``: plotly.js as shipped inside the ``plotly`` Python
  package (``plotly/package_data/plotly.min.js``), read from the installed package, never
  copied into this repository. The version is in the URL, so it is cached for a year.
* ``/assets/<name>``: the dashboard's own CSS and JS (``static/``).

Both are sent gzip-compressed when the client accepts it (plotly.js shrinks from about
4.8 MB to 1.4 MB), with an ETag and ``Cache-Control``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from dataclasses import dataclass
from importlib import metadata, resources

from flask import Blueprint, Response, abort, request

bp = Blueprint("assets", __name__, url_prefix="/assets")

OWN = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    mimetype: str


def _asset(body: bytes, mimetype: str) -> Asset:
    return Asset(
        body,
        gzip.compress(body, compresslevel=6, mtime=0),
        hashlib.sha256(body).hexdigest()[:20],
        mimetype,
    )


@functools.cache
def plotly_version() -> str:
    """The installed plotly package's version (the URL of its plotly.js carries it)."""
    return metadata.version("plotly")


@functools.cache
def _plotly() -> Asset:
    body = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return _asset(body, "text/javascript")


@functools.cache
def _own(name: str) -> Asset:
    body = (resources.files("govbot.web.dashboard") / "static" / name).read_bytes()
    return _asset(body, OWN[name])


def own_version(name: str) -> str:
    """A content hash of one of our assets, for cache-busting URLs (``?v=``)."""
    return _own(name).etag[:10]


def _send(asset: Asset, max_age: int, *, immutable: bool = False) -> Response:
    if request.if_none_match.contains(asset.etag):
        response = Response(status=304)
    elif "gzip" in (request.accept_encodings or ()):
        response = Response(asset.gzipped, mimetype=asset.mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(asset.body, mimetype=asset.mimetype)
    response.set_etag(asset.etag)
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = f"public, max-age={max_age}" + (
        ", immutable" if immutable else ""
    )
    return response


@bp.get("/plotly-<version>.min.js")
def plotly_js(version: str) -> Response:
    if version != plotly_version():
        abort(404, f"plotly.js {version} is not the installed version ({plotly_version()})")
    return _send(_plotly(), YEAR, immutable=True)


@bp.get("/<name>")
def own(name: str) -> Response:
    if name not in OWN:
        abort(404, f"no asset {name}")
    # A day, revalidated by ETag; the page links carry ?v=<hash> so a new release is seen.
    return _send(_own(name), 86400)


__all__ = ["bp", "own_version", "plotly_version"]
