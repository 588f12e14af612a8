"""ARF rules: problems the api-ref, policy-defaults and ledger readers met.

The readers (:mod:`govbot.apiref`) record each problem as a
:class:`~govbot.findings.Problem` in ``Spec.problems``, a fact without a severity; each
rule here reports the problems of its code, like the OAS rules of
:mod:`govbot.rules.loading` do for OpenAPI documents, so that the policy (selection,
severity, waivers) applies to them. A problem the base had already is existing surface.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from govbot.apiref import problems
from govbot.findings import Severity
from govbot.rules.loading import problem_hits
from govbot.rules.registry import Check, Hit, Kind, LoadContext, Rule, rule


def _load_rule(code: str, severity: Severity) -> Callable[[Check], Rule]:
    """A load rule: about a file, whatever the audience of the API."""
    return rule(code, problems.PROBLEMS[code], kind=Kind.LOAD, severity=severity, internal=severity)


@_load_rule(problems.INCLUDE_OUTSIDE, Severity.ERROR)
def include_outside_tree(ctx: LoadContext) -> Iterator[Hit]:
    """An ``include``, ``toctree`` entry or parameters file points outside the project.

    What it checks:
        Every file an api-ref document names (``.. include::``, ``toctree`` entries,
        the file of ``rest_parameters`` and ``rest_status_code``), resolved against
        the naming document, must stay inside the project (the directory above
        ``api-ref``, or the git work tree). Absolute paths, ``..`` climbing above the
        project and symlinks leading out are refused and not read.

    Why it matters:
        Reading outside the project would let a change make the bot read, and quote in
        review comments, any file on the server. Nobody else can build such a document
        either: the part of the API behind it is not reviewed.

    Example:
        ``.. include:: ../../../../etc/passwd`` in ``servers.inc``.

    Fix:
        Keep every file the api-ref includes inside the repository and name it with a
        relative path.

    References:
        OWASP Path Traversal; docutils ``include`` directive.
    """
    return problem_hits(ctx, problems.INCLUDE_OUTSIDE)


@_load_rule(problems.PARAMETERS_MISSING, Severity.ERROR)
def parameters_file_missing(ctx: LoadContext) -> Iterator[Hit]:
    """A ``rest_parameters`` list names a parameters file that does not exist.

    What it checks:
        The file argument of every ``.. rest_parameters::`` directive (usually
        ``parameters.yaml``) must be a readable file of the tree at the revision under
        review.

    Why it matters:
        Without it no parameter of the operation is defined: os-api-ref cannot render
        the reference and govbot cannot compare what the operation accepts and returns.

    Example:
        ``.. rest_parameters:: parameter.yaml`` (the file is ``parameters.yaml``).

    Fix:
        Name the right file, or add the missing one to the change.

    References:
        os-api-ref, ``rest_parameters`` directive (https://docs.openstack.org/os-api-ref/).
    """
    return problem_hits(ctx, problems.PARAMETERS_MISSING)


@_load_rule(problems.PARAMETERS_INVALID, Severity.ERROR)
def parameters_file_invalid(ctx: LoadContext) -> Iterator[Hit]:
    """A parameters file is not a YAML mapping of entries govbot can read.

    What it checks:
        ``parameters.yaml`` must be UTF-8 text, one YAML document, whose top level is a
        mapping of entries. It is read from libyaml's events: aliases copy only one
        flat entry and are never expanded, so a "billion laughs" file costs what its
        text costs. A syntax error, a binary or oversized file, a second document, or a
        list or single value at the top level is reported here with its line.

    Why it matters:
        os-api-ref loads the same file with PyYAML: the reference would not build, and
        no parameter of the operations using it can be reviewed.

    Example:
        ``server_id: {in: path`` (a flow mapping never closed).

    Fix:
        Correct the YAML at the given line (``python -c 'import yaml,sys;
        yaml.safe_load(open(sys.argv[1]))' parameters.yaml`` shows the same error).

    References:
        YAML 1.2 (https://yaml.org/spec/1.2.2/); os-api-ref parameters files.
    """
    return problem_hits(ctx, problems.PARAMETERS_INVALID)


@_load_rule(problems.PARAMETER_UNDEFINED, Severity.ERROR)
def parameter_undefined(ctx: LoadContext) -> Iterator[Hit]:
    """A ``rest_parameters`` line refers to an entry its parameters file does not define.

    What it checks:
        Each ``- name: key`` line of a ``rest_parameters`` list names an entry ``key``
        of the parameters file; the entry must exist.

    Why it matters:
        os-api-ref renders nothing for the parameter (the documentation job fails with
        warnings as errors), and clients cannot learn its type, location or whether it
        is required.

    Example:
        ``- flavorRef: flavorref`` where ``parameters.yaml`` defines ``flavorRef``.

    Fix:
        Add the entry to the parameters file, or correct the key.

    References:
        os-api-ref, ``rest_parameters`` directive.
    """
    return problem_hits(ctx, problems.PARAMETER_UNDEFINED)


@_load_rule(problems.UNREADABLE, Severity.ERROR)
def file_unreadable(ctx: LoadContext) -> Iterator[Hit]:
    """A document of the api-ref tree cannot be read as text.

    What it checks:
        ``index.rst``, the documents it includes or lists in a ``toctree``, and the
        ``.inc`` files must exist, be smaller than the limit, contain no NUL byte and
        decode as UTF-8. A directory without ``index.rst`` and without any ``.inc`` or
        ``.rst`` document is reported too.

    Why it matters:
        What cannot be read cannot be reviewed: the operations documented there are
        missing from the API govbot sees, and from the built reference.

    Example:
        ``.. include:: servers.inc`` after ``servers.inc`` was renamed; a document
        saved as UTF-16.

    Fix:
        Correct the name, or save the document as UTF-8 text.

    References:
        docutils ``include`` directive; Sphinx ``toctree``.
    """
    return problem_hits(ctx, problems.UNREADABLE)


@_load_rule(problems.SKIPPED, Severity.INFO)
def construct_skipped(ctx: LoadContext) -> Iterator[Hit]:
    """Something in the api-ref was not understood, so it was left out, not guessed.

    What it checks:
        Constructs the reader cannot read without guessing, each at its line: a
        ``rest_method`` that is not ``METHOD URL`` first in its section, parameters
        outside an operation or outside a Request / Response section, a path or query
        parameter among the response parameters, a parameter listed twice, an action
        (``POST .../action``) whose body key is not documented, response parameters of
        an operation without a success code, entries of a parameters file that are not
        mappings.

    Why it matters:
        What is left out is not reviewed; reporting it keeps the review honest about
        its coverage. Many of these are mistakes in the reference that readers see too.

    Example:
        ``- server_id: server_id_path`` under a Response section (a path parameter is
        part of the request).

    Fix:
        Follow the os-api-ref conventions at that line; the message says which one.

    References:
        os-api-ref documentation (https://docs.openstack.org/os-api-ref/).
    """
    return problem_hits(ctx, problems.SKIPPED)


@_load_rule(problems.DUPLICATE_KEY, Severity.WARNING)
def duplicate_key(ctx: LoadContext) -> Iterator[Hit]:
    """A parameters file defines the same entry twice.

    What it checks:
        Entry names at the top level of a parameters (or status) file must be unique.
        The last definition is the one os-api-ref (PyYAML) uses, and the one govbot
        reads.

    Why it matters:
        A reader of the file sees the first definition, the rendered reference shows
        the last: the two disagree about the parameter's type, location or version.

    Example:
        Two ``server_id:`` entries, one ``in: path`` and one ``in: body``.

    Fix:
        Keep one entry, or give the second its own name (``server_id_body``).

    References:
        YAML 1.2 §3.2.1.1 (keys of a mapping are unique).
    """
    return problem_hits(ctx, problems.DUPLICATE_KEY)


@_load_rule(problems.POLICY_UNREADABLE, Severity.WARNING)
def policy_file_unreadable(ctx: LoadContext) -> Iterator[Hit]:
    """A policy-in-code file cannot be parsed, so its defaults are unknown.

    What it checks:
        Every ``policies/*.py`` module of the project (and of the trees given with
        ``--policy-defaults``) is parsed with Python's :mod:`ast`, never imported or
        run. A syntax error, an unreadable or oversized file is reported at its line.

    Why it matters:
        The audience of the operations its defaults name falls back to the API
        descriptions, which may be wrong; the change will fail the project's own tests
        too.

    Example:
        ``rule = policy.DocumentedRuleDefault(name=BASE % 'create'`` with the
        parenthesis never closed.

    Fix:
        Correct the syntax at the given line.

    References:
        oslo.policy, policy in code
        (https://docs.openstack.org/oslo.policy/latest/user/usage.html).
    """
    return problem_hits(ctx, problems.POLICY_UNREADABLE)


@_load_rule(problems.POLICY_UNRESOLVED, Severity.INFO)
def policy_default_unresolved(ctx: LoadContext) -> Iterator[Hit]:
    """A policy default's name, check string or operations use code govbot does not run.

    What it checks:
        govbot evaluates a small, safe part of Python to recover each default: text,
        module constants (also across the policy modules' imports), ``+``, ``%`` and
        ``str.format`` with plain fields, f-strings, lists, tuples and dicts. A default
        built any other way (a function call, a value from outside the trees read) is
        reported here and left out, never guessed.

    Why it matters:
        The operations it names get their audience from other evidence; a reviewer
        should know which defaults govbot could not read.

    Example:
        ``name=_policy_name('create')`` where ``_policy_name`` is a function.

    Fix:
        Usually nothing: write the default with constants if it is simple enough, or
        give the tree that defines the missing constant with ``--policy-defaults``.

    References:
        oslo.policy ``RuleDefault`` / ``DocumentedRuleDefault``.
    """
    return problem_hits(ctx, problems.POLICY_UNRESOLVED)


@_load_rule(problems.LEDGER_UNREADABLE, Severity.WARNING)
def ledger_unreadable(ctx: LoadContext) -> Iterator[Hit]:
    """A file of the microversion ledger cannot be read or parsed.

    What it checks:
        ``api_version_request.py``, cinder's ``api/microversions.py``, placement's
        ``microversion.py`` (parsed with :mod:`ast`, never run) and
        ``rest_api_version_history.rst``: unreadable, oversized files and Python
        syntax errors are reported at their line.

    Why it matters:
        The API's maximum microversion comes from these files; without it the
        microversion rules (MVR) cannot tell whether a change raised it.

    Example:
        ``_MAX_API_VERSION = "2.88`` (the string never closed).

    Fix:
        Correct the file at the given line.

    References:
        API-SIG microversion specification; nova's
        ``api/openstack/api_version_request.py``.
    """
    return problem_hits(ctx, problems.LEDGER_UNREADABLE)
