"""OAS rules: problems a reader met while loading a spec (parsing, ``$ref``, validation).

The loader (:mod:`govbot.openapi.load`) records each problem as a
:class:`~govbot.findings.Problem` in ``Spec.problems``, a fact without a severity; each
rule here reports the problems of its code, so that the policy (selection, severity,
waivers) applies to them like to any other rule. A refused root document has
``Spec.data`` None, and no other rule runs on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from govbot.findings import Problem, Scope, Severity, Side
from govbot.openapi import problems
from govbot.rules.registry import Check, Hit, Kind, LoadContext, Rule, rule


def problem_hits(ctx: LoadContext, code: str) -> Iterator[Hit]:
    """The problems of ``code``: the head's, and the base's when they explain something.

    A head problem the base had already (same code, place and message) is on existing
    surface: a change is not blamed for what it did not introduce. A base that does not
    load explains why there is no compatibility verdict (unless the spec is gone anyway).
    """
    if ctx.deleted:
        return
    head, base = ctx.head, ctx.base
    before = {_key(p, base.file, head.file) for p in base.problems} if base is not None else set()
    for p in head.problems:
        if p.code == code:
            existing = bool(before) and _key(p, "", "") in before
            yield _hit(p, Side.HEAD, Scope.EXISTING if existing else Scope.NEW)
    if base is not None and not base.ok:
        for p in base.problems:
            if p.code == code:
                yield _hit(p, Side.BASE, Scope.NEW)


def _hit(p: Problem, side: Side, scope: Scope) -> Hit:
    # About the file, not about surface of any audience.
    return Hit(p.message, p.pointer, p.file, side, audience=None, scope=scope, line=p.line)


def _key(p: Problem, old_file: str, new_file: str) -> tuple[str, str, str]:
    """What identifies a problem across two versions of a spec (file names aside)."""
    message = p.message.replace(old_file, new_file) if old_file else p.message
    file = new_file if old_file and p.file == old_file else p.file
    return (p.code, f"{file}#{p.pointer}", message)


def _load_rule(code: str, severity: Severity = Severity.ERROR) -> Callable[[Check], Rule]:
    """Register a load rule; load problems are about the file, whatever the audience."""
    return rule(code, problems.PROBLEMS[code], kind=Kind.LOAD, severity=severity, internal=severity)


@_load_rule(problems.SYNTAX_ERROR)
def syntax_error(ctx: LoadContext) -> Iterator[Hit]:
    """The file is not well-formed YAML or JSON.

    What it checks:
        Every file govbot reads (the spec and every file its ``$ref``s reach) must
        parse. JSON is parsed as JSON; anything else as YAML 1.2 (libyaml). The finding
        names the line and the parser's reason. Also reported here: a second YAML
        document in one file, an alias without an anchor, a mapping key that is not a
        scalar, a key that appears twice in one YAML mapping (parsers keep the last
        value, a reader sees the first; in JSON the last wins, as in every JSON
        parser), a merge key (``<<``) whose value is not a mapping, and an integer
        too long to read (more than 4300 digits).

    Why it matters:
        A file that does not parse cannot be reviewed at all: no operation, no
        compatibility verdict. Tools and clients generated from it will fail too.

    Example:
        ``paths:\\n  /servers:\\n    get: {responses: {200: {description: ok}}`` (the
        flow mapping is never closed).

    Fix:
        Correct the syntax at the given line; ``python -c 'import yaml,sys;
        yaml.safe_load(open(sys.argv[1]))' FILE`` or ``jq . FILE`` show the same error.

    References:
        YAML 1.2 (https://yaml.org/spec/1.2.2/), RFC 8259 (JSON).
    """
    return problem_hits(ctx, problems.SYNTAX_ERROR)


@_load_rule(problems.FILE_TOO_LARGE)
def file_too_large(ctx: LoadContext) -> Iterator[Hit]:
    """The file is bigger than the size limit, so it was not read.

    What it checks:
        The size of the spec and of every file its ``$ref``s reach, against the limit
        of the deployment (``max_bytes``, 64 MiB by default).

    Why it matters:
        A size limit keeps one oversized (or hostile) file from exhausting the bot's
        memory and time, which would stop reviews for every other change.

    Example:
        A generated 200 MB spec with every schema inlined.

    Fix:
        Split the spec into files joined by ``$ref``, drop inlined duplicates, or ask
        the operators to raise the limit.

    References:
        ``MAX_BYTES`` in ``govbot/openapi/problems.py``; the policy's ``max_file_bytes``.
    """
    return problem_hits(ctx, problems.FILE_TOO_LARGE)


@_load_rule(problems.BINARY_FILE)
def binary_file(ctx: LoadContext) -> Iterator[Hit]:
    """The file contains NUL bytes: it is binary, not a text document.

    What it checks:
        Whether the spec, or a file a ``$ref`` reaches, contains a NUL byte. UTF-16 and
        UTF-32 files, images and archives all do.

    Why it matters:
        OpenAPI documents are UTF-8 text. A binary file in their place is a mistake
        (a wrong path, a wrong file committed), and parsing it would only produce noise.

    Example:
        ``$ref: ./diagram.png#/components/schemas/Server``.

    Fix:
        Point the ``$ref`` at the right file, or save the spec as UTF-8.

    References:
        OpenAPI 3.1 §4.3 (documents are JSON or YAML, UTF-8).
    """
    return problem_hits(ctx, problems.BINARY_FILE)


@_load_rule(problems.NOT_UTF8)
def not_utf8(ctx: LoadContext) -> Iterator[Hit]:
    """The file is not valid UTF-8 text.

    What it checks:
        Every file read must decode as UTF-8; the finding names the line of the first
        byte that does not.

    Why it matters:
        JSON must be UTF-8 (RFC 8259) and OpenAPI requires it for YAML too. A Latin-1
        byte in a description shows up garbled in documentation and generated clients.

    Example:
        A description saved in Latin-1: ``description: Caf\\xe9 API``.

    Fix:
        Re-encode the file as UTF-8 (``iconv -f latin1 -t utf-8``).

    References:
        RFC 8259 §8.1; OpenAPI 3.1 §4.3.
    """
    return problem_hits(ctx, problems.NOT_UTF8)


@_load_rule(problems.ALIAS_BOMB)
def alias_bomb(ctx: LoadContext) -> Iterator[Hit]:
    """YAML aliases would expand to an enormous (or infinitely deep) document.

    What it checks:
        While the YAML is read, govbot counts how many nodes every alias (``*name``)
        would add if expanded, without expanding anything, and refuses the file when
        aliases add more than a million nodes. An alias inside its own anchor (an
        infinitely deep value) is refused too.

    Why it matters:
        This is the "billion laughs" attack: a few lines of nested aliases expand to
        gigabytes. Any tool that walks the expanded document (validators, generators,
        govbot's own rules) would run out of memory or time.

    Example:
        ``a: &a [x, x, x, x, x, x, x, x, x]`` then ``b: &b [*a, *a, *a, *a, *a, *a, *a,
        *a, *a]`` and so on for ten levels.

    Fix:
        Write the repeated parts once under ``components`` and ``$ref`` them; OpenAPI
        refs are not expanded, aliases are.

    References:
        https://en.wikipedia.org/wiki/Billion_laughs_attack
    """
    return problem_hits(ctx, problems.ALIAS_BOMB)


@_load_rule(problems.TOO_DEEP)
def nesting_too_deep(ctx: LoadContext) -> Iterator[Hit]:
    """The document nests deeper than any real API description (about 1000 levels).

    What it checks:
        The nesting depth of mappings and sequences while the file is read: govbot
        refuses more than 1000 levels. The parsers it uses stop on their own near that
        depth (libyaml at 1000 levels, orjson at 1024) and read ahead of govbot's count,
        so one of them may stop first; a parser that stops where the document is nested
        more than 500 levels deep (govbot counts the levels, whatever the parser's
        message) is reported here too, at that line.

    Why it matters:
        Real specs nest a few dozen levels. Thousands of levels are an attack on the
        parsers and on every recursive tool after them, which crash or stall.

    Example:
        ``[[[[[[ ... ]]]]]]`` nested 100,000 times.

    Fix:
        Flatten the structure; name deep schemas under ``components/schemas`` and
        ``$ref`` them.

    References:
        ``MAX_DEPTH`` in ``govbot/openapi/problems.py``.
    """
    return problem_hits(ctx, problems.TOO_DEEP)


@_load_rule(problems.NOT_OPENAPI)
def not_openapi(ctx: LoadContext) -> Iterator[Hit]:
    """The file parses, but it is not an OpenAPI description.

    What it checks:
        The root document must be a mapping with an ``openapi`` (3.x) or ``swagger``
        (2.0) field. Empty files, lists and single values at the top level are refused.

    Why it matters:
        A file selected as an API spec (by the policy's globs, or on the command line)
        that is not one is either misplaced or broken; reviewing it as an API would
        produce nonsense.

    Example:
        ``info: {title: Compute}`` with no ``openapi:`` line.

    Fix:
        Add ``openapi: 3.1.0`` (or the version the spec follows), or exclude the file
        from the policy's spec globs.

    References:
        OpenAPI 3.1 §4.8.1 (the ``openapi`` field is required).
    """
    return problem_hits(ctx, problems.NOT_OPENAPI)


@_load_rule(problems.UNSUPPORTED_VERSION)
def unsupported_version(ctx: LoadContext) -> Iterator[Hit]:
    """The document declares an OpenAPI version govbot cannot check.

    What it checks:
        ``swagger`` must be ``2.0``; ``openapi`` must be 3.0.x, 3.1.x or 3.2.x.

    Why it matters:
        Every later check depends on the version's structure; guessing would give
        wrong verdicts. Swagger 1.x and unknown future versions are refused plainly.

    Example:
        ``swagger: "1.2"`` or ``openapi: 4.0.0``.

    Fix:
        Convert the description to OpenAPI 3.1 (or 3.0 / Swagger 2.0), or correct a
        mistyped version.

    References:
        https://spec.openapis.org/oas/
    """
    return problem_hits(ctx, problems.UNSUPPORTED_VERSION)


@_load_rule(problems.REMOTE_REF)
def remote_ref(ctx: LoadContext) -> Iterator[Hit]:
    """A ``$ref`` points to a URL; govbot never fetches remote references.

    What it checks:
        Every ``$ref`` in the spec and the files it reaches. References with a scheme
        (``http:``, ``https:``, ``ftp:``, ``file:``, ...) or a network path (``//host/x``)
        are refused, never fetched; the part of the spec behind them is not checked.

    Why it matters:
        Fetching would let any change under review make the bot send requests to
        arbitrary hosts (server-side request forgery), and would make verdicts depend on
        a server's content at review time instead of the repository's.

    Example:
        ``$ref: https://example.com/schemas/server.yaml#/Server``.

    Fix:
        Vendor the referenced document into the repository and use a relative ref
        (``$ref: ../schemas/server.yaml#/Server``).

    References:
        OWASP SSRF; OpenAPI 3.1 §4.8.23 (Reference Object).
    """
    return problem_hits(ctx, problems.REMOTE_REF)


@_load_rule(problems.OUTSIDE_ROOT)
def outside_root(ctx: LoadContext) -> Iterator[Hit]:
    """A ``$ref`` (or the spec itself, through a symlink) points outside the repository.

    What it checks:
        Relative refs are resolved against the referring file. Absolute paths, refs
        that climb above the repository root with ``..``, and files whose symlinks lead
        outside the root are refused and not read.

    Why it matters:
        Reading outside the repository would let a change make the bot read (and quote
        in review comments) any file on the server, such as ``/etc/passwd`` or its own
        credentials.

    Example:
        ``$ref: ../../../../etc/passwd`` or ``$ref: /srv/other/spec.yaml``.

    Fix:
        Keep every file the spec references inside the repository and use relative
        paths.

    References:
        OWASP Path Traversal.
    """
    return problem_hits(ctx, problems.OUTSIDE_ROOT)


@_load_rule(problems.REF_FILE_MISSING)
def ref_file_missing(ctx: LoadContext) -> Iterator[Hit]:
    """A ``$ref`` names a file that does not exist (at this revision) or cannot be read.

    What it checks:
        The file part of every ``$ref`` (percent-decoded, relative to the referring
        file) must name a readable file inside the repository, at the revision under
        review.

    Why it matters:
        The part of the API behind a broken ref is undefined: clients generated from
        the spec fail, and govbot cannot check what it cannot read.

    Example:
        ``$ref: schemas/server.yaml`` after ``schemas/server.yaml`` was renamed.

    Fix:
        Correct the path, or add the missing file to the change.

    References:
        OpenAPI 3.1 §4.8.23 (Reference Object).
    """
    return problem_hits(ctx, problems.REF_FILE_MISSING)


@_load_rule(problems.REF_TARGET_MISSING)
def ref_target_missing(ctx: LoadContext) -> Iterator[Hit]:
    """A ``$ref``'s JSON pointer leads nowhere in the target document.

    What it checks:
        The fragment of every ``$ref`` must be a JSON pointer (``#/components/...``,
        ``~0``/``~1`` and percent escapes decoded) that exists in its target. Plain-name
        fragments (``#foo``, 3.1 anchors) are not supported and reported here as well.

    Why it matters:
        A dangling pointer leaves a schema, parameter or response undefined. It usually
        follows a rename in ``components`` that missed a user.

    Example:
        ``$ref: '#/components/schemas/Sever'`` (typo for ``Server``).

    Fix:
        Point the ref at an existing component, or add the missing one.

    References:
        RFC 6901 (JSON Pointer); OpenAPI 3.1 §4.8.23.
    """
    return problem_hits(ctx, problems.REF_TARGET_MISSING)


@_load_rule(problems.REF_LOOP)
def ref_loop(ctx: LoadContext) -> Iterator[Hit]:
    """``$ref``s that lead only to other ``$ref``s, in a circle.

    What it checks:
        Chains of refs whose every hop is itself a ref and which come back to their
        start (``A: {$ref: B}``, ``B: {$ref: A}``). Reported once per loop; the refs of
        the loop are left unresolved. A schema that refers to itself *inside* its
        properties (a tree, a linked list) is legitimate recursion and is not reported.

    Why it matters:
        A pure loop never reaches a value: the schema has no definition at all, and
        tools that resolve refs eagerly hang or crash on it.

    Example:
        ``Server: {$ref: '#/components/schemas/Instance'}`` and
        ``Instance: {$ref: '#/components/schemas/Server'}``.

    Fix:
        Give one of the components a real definition.

    References:
        OpenAPI 3.1 §4.8.23; JSON Schema 2020-12 §8.2.3 (ref resolution).
    """
    return problem_hits(ctx, problems.REF_LOOP)


@_load_rule(problems.INVALID)
def invalid_openapi(ctx: LoadContext) -> Iterator[Hit]:
    """The spec breaks the OpenAPI specification of its version.

    What it checks:
        The document against the OpenAPI schema of its version (2.0, 3.0, 3.1, 3.2),
        with Schema Objects checked against JSON Schema 2020-12 for 3.1 and later; for
        specs up to 2 MB also openapi-spec-validator's checks (default values against
        their schemas, unique operationIds, path parameters declared, ...). Each error
        is reported at its line; at most 50 per file, then a count of the rest.

    Why it matters:
        Invalid specs break documentation renderers, client generators and gateways,
        and make every other verdict less certain.

    Example:
        In OpenAPI 3.1, ``exclusiveMinimum: true`` (a 3.0 idiom; 3.1 wants the bound
        itself, ``exclusiveMinimum: 0``), or ``default: null`` on a schema that is not
        nullable.

    Fix:
        Follow the message at the line given; ``openapi-spec-validator FILE`` shows the
        same errors.

    References:
        https://spec.openapis.org/oas/ ; https://github.com/python-openapi/openapi-spec-validator
    """
    return problem_hits(ctx, problems.INVALID)


@_load_rule(problems.VALIDATOR_FAILED, Severity.WARNING)
def validator_failed(ctx: LoadContext) -> Iterator[Hit]:
    """openapi-spec-validator crashed on this spec, so its detailed checks are incomplete.

    What it checks:
        govbot contains any failure of the third-party validator and reports it here
        with the validator's own error. The fast OpenAPI schema check still ran, and
        every other rule still runs.

    Why it matters:
        A crash is not a verdict: the spec may be valid (the validator has bugs, e.g.
        with extensions under ``paths``) or may hide errors the validator would have
        reported. A warning, not an error, because the fault may not be the spec's.

    Example:
        ``paths: {x-codegen-contextRoot: /apis}`` makes openapi-spec-validator 0.9
        stop with ``KeyError: 'x-codegen-contextRoot'``.

    Fix:
        Usually nothing in the spec; if the message points at something odd in the
        spec, change it. Report validator crashes upstream.

    References:
        https://github.com/python-openapi/openapi-spec-validator/issues
    """
    return problem_hits(ctx, problems.VALIDATOR_FAILED)


@_load_rule(problems.YAML_TAG)
def yaml_tag(ctx: LoadContext) -> Iterator[Hit]:
    """A YAML tag asks for a type that JSON does not have, so the file was not read.

    What it checks:
        Every explicit tag in a YAML file govbot reads (the spec and every file its
        ``$ref``s reach). Only the tags of the core schema that name JSON's types are
        read: ``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!map``,
        ``!!seq`` (and the non-specific ``!``), each on a value of its type. Any other
        tag is refused at its line: language tags (``!!python/object/apply:...``),
        local tags (``!include``, ``!Ref``), and the YAML 1.1 types ``!!binary``,
        ``!!set``, ``!!omap``, ``!!pairs``, ``!!timestamp``, ``!!merge``.

    Why it matters:
        OpenAPI documents are JSON; YAML is only another way to write them, so a tag
        outside JSON's types means the file is meant for some other reader. Reading the
        tagged value as plain data would review something else than what that reader
        builds, and a language tag is how YAML loaders are made to run code. govbot
        never constructs tagged objects; it says so instead of ignoring the tag.

    Example:
        ``x-build: !!python/object/apply:os.system ['make install']``, or
        ``description: !include docs/servers.md``.

    Fix:
        Remove the tag and write the value as plain JSON data (a string, a number, a
        list, a mapping); include other files with ``$ref``, never with a tag.

    References:
        OpenAPI 3.1 §4.3 ("Tags MUST be limited to those allowed by the JSON Schema
        ruleset"); YAML 1.2.2 §10.2 (JSON schema), https://yaml.org/spec/1.2.2/
    """
    return problem_hits(ctx, problems.YAML_TAG)
