"""Helpers of the api-ref tests: files written into a directory, a real git repository."""

from __future__ import annotations

from pathlib import Path

import git

WIDGET = Path(__file__).parents[1] / "data" / "apiref" / "widget"


def write(tree: Path, files: dict[str, str]) -> Path:
    """``files`` (relative path -> text) written under ``tree``; returns ``tree``."""
    for name, text in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tree


def widget_files() -> dict[str, str]:
    """The widget project of tests/data/apiref (api-ref, policies, ledger, notes)."""
    return {
        p.relative_to(WIDGET).as_posix(): p.read_text() for p in WIDGET.rglob("*") if p.is_file()
    }


def git_init(path: Path) -> git.Repo:
    """A git repository in ``path`` (created if needed) with a committer configured."""
    path.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(path)
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test Author")
        cfg.set_value("user", "email", "author@example.org")
        cfg.set_value("commit", "gpgsign", "false")
    return repo


def git_commit_all(repo: git.Repo, message: str) -> str:
    """Every file of the work tree committed; the commit's SHA."""
    repo.git.add("-A")
    return repo.index.commit(message).hexsha
