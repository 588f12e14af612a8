"""REST routes of the server, accounts, groups and projects (all read-only)."""

from __future__ import annotations

from urllib.parse import quote

from govbot.sandbox import render
from govbot.sandbox.entities import Group, not_found
from govbot.sandbox.request import Request
from govbot.sandbox.wire import Response


def config(req: Request) -> Response:
    """``GET /config/server/version`` (``?verbose``: with the NoteDb version)."""
    if req.segments[1:] == ["server", "version"]:
        req.only("GET")
        if "verbose" in req.params:
            return req.json({"gerrit_version": req.sb.version, "note_db_version": 185})
        return req.json(req.sb.version)
    raise not_found("/".join(req.segments))


def accounts(req: Request) -> Response:
    """``GET /accounts/{id}``, ``.../detail``, ``.../groups``."""
    s = req.segments
    req.only("GET")
    if len(s) == 2:
        account = req.sb.resolve_account(s[1], req.viewer)
        return req.json(render.account(req.sb, account.id, True))
    if len(s) == 3 and s[2] == "detail":
        account = req.sb.resolve_account(s[1], req.viewer)
        return req.json(render.account_detail(req.sb, account.id))
    if len(s) == 3 and s[2] == "groups":
        account = req.sb.resolve_account(s[1], req.viewer)
        groups = [
            render.group_info(req.sb, g)
            for g in req.sb.groups.values()
            if account.id in [a.id for a in req.sb.group_members(g)]
        ]
        return req.json(groups)
    raise not_found("/".join(s))


def groups(req: Request) -> Response:
    """``GET /groups/``, ``/groups/{id}`` (``o=MEMBERS``), ``/groups/{id}/members``."""
    s = req.segments
    req.only("GET")
    if len(s) < 2:
        visible = {
            g.name: render.group_info(req.sb, g)
            for g in sorted(req.sb.groups.values(), key=lambda g: g.name)
            if can_see_group(req, g)
        }
        return req.json(visible)
    group = req.sb.find_group(s[1])
    if group is None or not can_see_group(req, group):
        raise not_found(s[1])
    if len(s) == 2:
        members = "MEMBERS" in req.params.get("o", [])
        return req.json(render.group_info(req.sb, group, members=members))
    if len(s) == 3 and s[2] == "members":
        recursive = "recursive" in req.params
        members = req.sb.group_members(group, recursive=recursive)
        return req.json([render.account(req.sb, a.id, True) for a in members])
    raise not_found("/".join(s))


def can_see_group(req: Request, group: Group) -> bool:
    """GroupControl.isVisible: visible to all, or the caller is a member or an
    administrator (gerrit-fidelity #10); any other group is a 404."""
    if group.visible_to_all:
        return True
    viewer = req.viewer
    return viewer is not None and (
        req.sb.is_admin(viewer) or any(a.id == viewer for a in req.sb.group_members(group))
    )


def projects(req: Request) -> Response:
    """``GET /projects/{name}``: a ProjectInfo (404 for an unknown project)."""
    s = req.segments
    req.only("GET")
    if len(s) != 2:
        raise not_found("/".join(s))
    project = req.sb.projects.get(s[1])
    if project is None:
        raise not_found(s[1])
    return req.json(
        {
            "id": quote(project.name, safe=""),
            "name": project.name,
            "parent": "All-Projects",
            "description": project.description,
            "state": "ACTIVE",
        }
    )
