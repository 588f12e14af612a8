"""REST routes of one revision: review (get and set), commit, comments, files, content."""

from __future__ import annotations

import base64

from govbot.paths import COMMIT_MSG
from govbot.sandbox import render, reviews
from govbot.sandbox.entities import Change, PatchSet, RestError, not_found
from govbot.sandbox.request import Request
from govbot.sandbox.wire import Response, json_response, mime_type


def revisions(req: Request, change: Change, ps: PatchSet, rest: list[str]) -> Response:
    """``/changes/{id}/revisions/{rev}/{view}``."""
    if not rest:
        raise not_found(ps.sha)
    view = rest[0]
    if view == "review" and len(rest) == 1:
        return review(req, change, ps)
    if view == "commit" and len(rest) == 1:
        req.only("GET")
        return req.json(render.commit(req.sb, ps, include_sha=True))
    if view == "comments" and len(rest) == 1:
        req.only("GET")
        mine = [c for c in change.comments if c.patch_set == ps.number]
        return req.json(render.comments_by_path(req.sb, mine, include_ps=False))
    if view == "files":
        req.only("GET")
        return files(req, change, ps, rest[1:])
    raise not_found("/".join(rest))


def review(req: Request, change: Change, ps: PatchSet) -> Response:
    """``GET .../review`` (the change with its current revision) or set-review (POST)."""
    if req.method == "GET":
        options = req.options(render.DETAIL_OPTIONS | {"CURRENT_REVISION"})
        return req.json(render.change_info(req.sb, change, options, req.viewer))
    req.only("POST")
    user = req.require_user()
    result = reviews.post_review(req.sb, change, ps, user, req.input())
    if "reviewers" in result:
        result["reviewers"] = {
            key: render.reviewer_result(req.sb, change, value)
            for key, value in result["reviewers"].items()
        }
    result["change_info"] = render.change_info(req.sb, change, frozenset(), req.viewer)
    return req.json(result)


def files(req: Request, change: Change, ps: PatchSet, rest: list[str]) -> Response:
    """``.../files/`` (against the parent or ``base``) and ``.../files/{path}/content``."""
    if not rest:
        base = None
        base_text = req.param("base")
        parent_text = req.param("parent")
        if base_text and parent_text:
            raise RestError(400, "cannot specify base and parent")
        if base_text:
            base = req.sb.resolve_revision(change, base_text)
        elif parent_text and parent_text != "1":
            raise RestError(400, f"invalid parent number: {parent_text}")
        return req.json(render.files(req.sb, change, ps, base))
    path = rest[0]
    if len(rest) == 2 and rest[1] == "content":
        return content(req, ps, path)
    raise not_found("/".join(rest))


def content(req: Request, ps: PatchSet, path: str) -> Response:
    """A file's content, base64 (or a JSON string when the client asks for exactly JSON)."""
    data = _file_bytes(req, ps, path)
    accept = (req.headers.get("Accept") or "").strip()
    if accept == "application/json":
        # Gerrit answers a JSON string when the client asks for exactly JSON.
        response = json_response(data.decode("utf-8", errors="replace"))
        response.headers["X-FYI-Content-Encoding"] = "json"
    else:
        response = Response(200, base64.b64encode(data), "text/plain; charset=ISO-8859-1")
        response.headers["X-FYI-Content-Encoding"] = "base64"
    response.headers["X-FYI-Content-Type"] = mime_type(path, data)
    return response


def _file_bytes(req: Request, ps: PatchSet, path: str) -> bytes:
    """The bytes of ``path`` in the revision (``?parent=1``: in its parent), or Gerrit's
    error for a directory, a missing file or one over ``max_file_size_download``."""
    parent = req.param("parent")
    if path == COMMIT_MSG:
        if parent:
            raise not_found(path)
        return render.commit_msg_text(req.sb, ps).encode()
    tree = ps.parent_files if parent else ps.files
    if parent and parent != "1":
        raise RestError(400, f"invalid parent number: {parent}")
    if path not in tree and any(p.startswith(path.rstrip("/") + "/") for p in tree):
        raise RestError(400, "cannot retrieve content of directories")
    if path not in tree:
        raise not_found(path)
    data = tree[path]
    limit = req.sb.max_file_size_download
    if limit > 0 and len(data) > limit:
        raise RestError(
            400,
            f"File too big. File size: {len(data)} bytes. Max file size: {limit} bytes.",
        )
    return data
