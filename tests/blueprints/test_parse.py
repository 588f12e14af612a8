"""Design specs parsed into titled sections: RST with docutils, Markdown with markdown-it-py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import govbot.blueprints.document as bp
from govbot.blueprints import Document, Judgement, justify, parse_spec, read_spec
from govbot.errors import SpecError

RST = textwrap.dedent(
    """\
    ..
     This work is licensed under a Creative Commons Attribution 3.0 Unported
     License.

    ==========================
    Example: a spec's title
    ==========================

    https://blueprints.launchpad.net/nova/+spec/example

    Problem description
    ===================

    Operators cannot see why a boot failed.

    Use Cases
    ---------

    .. a comment left by the template

    * As an operator, I want the fault reason in the API.

    ::

        openstack server show --fault

    .. note:: Notes are prose too.

    Proposed change
    ===============

    .. code-block:: python

       print("code is not prose")

    .. toctree::

       unknown-sphinx-directive

    Text with a :ref:`sphinx-role` and a `link <https://example.org>`_.
    """
)


def _titles(doc: Document) -> list[tuple[str, int, int]]:
    return [(s.title, s.level, s.line) for s in doc.walk()]


def test_rst_sections_have_titles_levels_and_heading_lines() -> None:
    """Each heading becomes a section at its depth, with the line of its title text."""
    doc = parse_spec("spec.rst", RST)
    assert doc.ok and doc.format == "rst"
    assert _titles(doc) == [
        ("Example: a spec's title", 1, 6),
        ("Problem description", 2, 11),
        ("Use Cases", 3, 16),
        ("Proposed change", 2, 29),
    ]
    assert doc.title == "Example: a spec's title"
    assert [s.title for s in doc.find(["use cases"])] == ["Use Cases"]


def test_rst_blocks_tell_prose_from_comments_code_and_directives() -> None:
    """Comments and code blocks are kept but marked; admonitions and list items are prose."""
    doc = parse_spec("spec.rst", RST)
    (use_cases,) = doc.find(["Use Cases"])
    kinds = [(b.kind, b.text) for b in use_cases.blocks]
    assert ("comment", "a comment left by the template") in kinds
    assert ("item", "As an operator, I want the fault reason in the API.") in kinds
    assert ("code", "openstack server show --fault") in kinds
    assert ("admonition", "Notes are prose too.") in kinds
    assert "openstack server show" not in use_cases.text
    assert "comment" not in use_cases.text
    (proposed,) = doc.find(["Proposed change"])
    assert proposed.text == "Text with a :ref:`sphinx-role` and a link."
    assert [b.kind for b in proposed.blocks if b.kind == "code"] == ["code"]
    # the unknown directive's system message is dropped, not turned into text
    assert "toctree" not in proposed.text and "unknown-sphinx-directive" not in proposed.text


def test_rst_never_reads_files_nor_passes_raw_html(tmp_path: Path, capsys) -> None:
    """include/raw are disabled for specs under review, and docutils writes nothing to stderr."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET CONTENT")
    text = (
        f"Use Cases\n=========\n\n.. include:: {secret}\n\n.. raw:: html\n\n   <script>x</script>\n\n"
        f".. literalinclude:: {secret}\n\nEnd users need it.\n"
    )
    doc = parse_spec("spec.rst", text)
    everything = " ".join(b.text for s in doc.walk() for b in s.all_blocks())
    assert "TOP SECRET" not in everything and "<script>" not in everything
    assert doc.find(["use cases"])[0].text == "End users need it."
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_rst_with_broken_markup_still_parses() -> None:
    """docutils recovers from bad markup; only the readable parts are kept."""
    text = "Title\n=====\n\n*unclosed emphasis and `bad role\n\n+---+\n| x |\n\nUse Cases\n---------\n\nUsers.\n"
    doc = parse_spec("spec.rst", text)
    assert doc.ok
    assert [s.title for s in doc.walk()] == ["Title", "Use Cases"]


def test_rst_crlf_and_bom_are_accepted() -> None:
    """Windows line ends and a UTF-8 BOM do not change sections or lines."""
    doc = parse_spec(
        "spec.rst", b"\xef\xbb\xbfTitle\r\n=====\r\n\r\nUse Cases\r\n---------\r\n\r\nOk.\r\n"
    )
    assert _titles(doc) == [("Title", 1, 1), ("Use Cases", 2, 4)]


MARKDOWN = textwrap.dedent(
    """\
    ---
    title: front matter is not a heading
    ---
    # KEP-42: Example

    ## Summary

    One paragraph.

    ## Motivation

    <!--
    Describe why the change is important.
    -->

    Users cannot do X today. <!-- inline guidance -->

    ### Goals

    - operators get Y

    ```yaml
    fenced: code
    ```

    Non-Goals
    ---------

        indented code

    ## Proposal
    """
)


def test_markdown_sections_nest_by_heading_level() -> None:
    """ATX and setext headings nest by level; front matter is skipped, lines are kept."""
    doc = parse_spec("README.md", MARKDOWN)
    assert doc.format == "md"
    assert _titles(doc) == [
        ("KEP-42: Example", 1, 4),
        ("Summary", 2, 6),
        ("Motivation", 2, 10),
        ("Goals", 3, 18),
        ("Non-Goals", 2, 26),
        ("Proposal", 2, 31),
    ]


def test_markdown_comments_and_code_are_not_prose() -> None:
    """HTML comments (block and inline) and fenced/indented code are not substance."""
    doc = parse_spec("README.md", MARKDOWN)
    (motivation,) = doc.find(["motivation"])
    assert motivation.text == "Users cannot do X today."
    assert any(b.kind == "comment" for b in motivation.blocks)
    (goals,) = doc.find(["goals"])
    assert [(b.kind, b.text) for b in goals.blocks if b.kind != "code"] == [
        ("item", "operators get Y")
    ]
    (non_goals,) = doc.find(["non goals"])
    assert non_goals.text == "" and non_goals.blocks[0].kind == "code"


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("Use Cases", "use cases"),
        ("Use-cases:", "use cases"),
        ("2.1. User Stories (Optional)", "user stories"),
        ("Problem  Description", "problem description"),
        ("REST_API impact", "rest api impact"),
    ],
)
def test_titles_are_normalised_for_matching(title: str, key: str) -> None:
    """Case, numbering, punctuation and "(Optional)" do not matter when matching titles."""
    assert bp.normalise_title(title) == key


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"Use Cases\n=========\n\n\x00\x01binary", "binary content (a NUL byte at line 4)"),
        (b"Use Cases\n=========\n\nd\xe9ploy", "not UTF-8 text (byte 0xe9 at line 4)"),
    ],
)
def test_unparseable_input_is_a_problem_not_an_exception(data: bytes, problem: str) -> None:
    """Binary and non-UTF-8 files give a Document with the cause and the line."""
    doc = parse_spec("spec.rst", data)
    assert not doc.ok
    assert doc.problem is not None and doc.problem.startswith(problem)
    assert doc.problem_line == 4


def test_too_large_input_is_refused_before_parsing() -> None:
    """Files over max_bytes are not parsed at all."""
    doc = parse_spec("spec.rst", b"x" * 101, max_bytes=100)
    assert doc.problem == "101 bytes, over the limit of 100 bytes"


def test_a_parser_crash_is_contained(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash inside the third-party parser becomes the spec's problem."""

    def boom(file: str, text: str) -> None:
        raise ValueError("parser exploded")

    monkeypatch.setattr(bp, "_parse_rst", boom)
    doc = parse_spec("spec.rst", "Title\n=====\n")
    assert doc.problem == "cannot be parsed: ValueError: parser exploded"


def test_deep_nesting_is_contained() -> None:
    """Pathological nesting (thousands of block quotes) ends as a problem or a parse, never a crash."""
    text = "".join(" " * i + f"level {i}\n\n" for i in range(0, 600, 2))
    doc = parse_spec("spec.rst", "Use Cases\n=========\n\n" + text)
    assert doc.ok or "nested too deeply" in (doc.problem or "")


def test_read_spec_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    """A missing file or a directory is a SpecError (the CLI's exit 2), with the name."""
    with pytest.raises(SpecError, match=r"nope\.rst: no such file"):
        read_spec(tmp_path / "nope.rst", display="nope.rst")
    with pytest.raises(SpecError, match="is a directory"):
        read_spec(tmp_path, display="specs")


def test_read_spec_refuses_large_files_without_reading_them(tmp_path: Path) -> None:
    """The size limit is checked on the file system first."""
    big = tmp_path / "big.rst"
    big.write_bytes(b"a" * 2048)
    doc = read_spec(big, max_bytes=1024)
    assert doc.problem == "2048 bytes, over the limit of 1024 bytes"


SPEC_LITE = textwrap.dedent(
    """\
    ..
     A spec-lite: fields instead of sections.

    Spec Lite: Limit shares per server
    ----------------------------------

    :problem: An administrator is not able to limit how many shares a share
              server holds.

    :solution: Add a configuration option.

    :assignee: someone
    """
)


def test_a_spec_lite_field_list_becomes_sections() -> None:
    """Each field of a field list is a section named after the field, at its line."""
    doc = parse_spec("lite.rst", SPEC_LITE)
    (title,) = doc.sections
    fields = [(s.title, s.line, s.field) for s in title.subsections]
    assert fields == [("problem", 7, True), ("solution", 10, True), ("assignee", 12, True)]
    assert title.subsections[0].text == (
        "An administrator is not able to limit how many shares a share server holds."
    )


def test_sentences_are_located_at_their_first_line() -> None:
    """locate finds a sentence's first line through markup and line breaks."""
    doc = parse_spec("spec.rst", RST)
    assert doc.locate("As an operator, I want the fault reason in the API.", near=20) == 21
    assert doc.locate("Text with a sphinx-role and a link.", near=1) == 40
    assert doc.locate("Not in the spec at all.", near=7) == 7


def test_a_line_longer_than_docutils_default_limit_is_still_read() -> None:
    """docutils drops a whole document with a line over 10,000 characters by default."""
    text = "Title\n=====\n\nProblem description\n-------------------\n\n" + "word " * 5000 + "\n"
    doc = parse_spec("long.rst", text)
    assert [s.title for s in doc.walk()] == ["Title", "Problem description"]


def test_hostile_walls_of_words_are_judged() -> None:
    """Repeated cue words and endless list items give a verdict, not a hang or a crash."""
    for body in ("fail " * 20000, "* Operators cannot boot.\n" * 3000):
        text = "Title\n=====\n\nProblem description\n-------------------\n\n" + body
        verdict = justify(parse_spec("wall.rst", text))
        assert verdict.verdict is Judgement.JUSTIFIED
