"""Paths: the one glob dialect, the same for Python matching and Gerrit's file: queries."""

from __future__ import annotations

import re

import pytest

from govbot.paths import glob_match, glob_regex, packaged_policy_dir


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("api-specs/**/*.yaml", "api-specs/a.yaml", True),
        ("api-specs/**/*.yaml", "api-specs/x/y/a.yaml", True),
        ("api-specs/**/*.yaml", "other/a.yaml", False),
        ("api-specs/*.yaml", "api-specs/x/a.yaml", False),
        ("**", "anything/at/all", True),
        ("**/placement/**", "specs/placement/v1.yaml", True),
        ("**/placement/**", "placement/v1.yaml", True),
        ("a/?.json", "a/b.json", True),
        ("a/[!x].json", "a/x.json", False),
    ],
)
def test_glob_match(pattern, path, expected):
    """`*` stays in one directory, `**` spans any number of them."""
    assert glob_match(pattern, path) is expected


def test_the_gerrit_regex_has_no_anchor_and_no_non_capturing_group() -> None:
    """Gerrit's automaton knows neither ``^``/``$`` inside the term nor ``(?:``."""
    regex = glob_regex("api-specs/**/*.yaml")
    assert regex == "api-specs/(.*/)?[^/]*[.]yaml"
    assert "(?:" not in glob_regex("a/**/b/**") and not regex.startswith("^")


@pytest.mark.parametrize("glob", ["a#b/*.json", "x+y/[!ab]?.yml", "a.b/**", "c~d&e@f<g>"])
def test_python_and_gerrit_read_the_same_regex(glob: str) -> None:
    """Every Lucene metacharacter is escaped in a way Python reads the same, and without
    the backslash Gerrit's query lexer would eat."""
    assert "\\" not in glob_regex(glob)
    compiled = re.compile(glob_regex(glob) + r"\Z")
    for path in ("a#b/x.json", "x+y/c1.yml", "a.b/q/r", "c~d&e@f<g>", "other"):
        assert (compiled.match(path) is not None) is glob_match(glob, path)


def test_the_packaged_policy_is_there() -> None:
    assert (packaged_policy_dir() / "schema.json").is_file()
