"""Loading the policy: the TC's YAML in ``policies/``, checked, merged and typed once.

Loading is strict, as in openstack/governance: every file is checked on its own
against ``policies/schema.json`` (``additionalProperties: false`` everywhere), rule
codes and rule options are checked against the catalogue, and every error is one line
naming the file, the key and the line. The result is a :class:`~govbot.policy.model.Policy`
whose every section is already parsed.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import yaml

from govbot.audience import AudienceConfig
from govbot.blueprints import BlueprintConfig
from govbot.errors import PolicyError
from govbot.findings import Audience, Severity
from govbot.paths import packaged_policy_dir
from govbot.policy.escalation import EscalationConfig
from govbot.policy.model import (
    DEFAULT_API_REF_WATCH,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_SPEC_GLOBS,
    Policy,
    ProfileConfig,
    ReviewConfig,
    RuleConfig,
    VoteConfig,
    Waiver,
)
from govbot.rules.catalog import CATALOG
from govbot.rules.registry import Catalog

if TYPE_CHECKING:
    import jsonschema

# --- loading ---------------------------------------------------------------------------

_MAX_NODES = 200_000  # a policy is a few hundred lines; this only stops alias bombs


@functools.cache
def _schema() -> dict[str, Any]:
    text = (packaged_policy_dir() / "schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_policy(path: str | Path | None = None, *, catalog: Catalog = CATALOG) -> Policy:
    """Load a policy directory (every ``*.yaml`` merged in name order) or a single file.

    ``None`` loads the default policy shipped inside the package. Rule codes and options
    are checked against ``catalog``. Raises :class:`PolicyError` with a one-line message
    naming the file, the key and the line.
    """
    base = Path(path) if path is not None else packaged_policy_dir()
    if base.is_dir():
        files = sorted(p for p in base.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise PolicyError(f"{_display(base)}: no policy files (*.yaml) in this directory")
    elif base.is_file():
        files = [base]
    else:
        raise PolicyError(f"{_display(base)}: no such policy file or directory")

    merged: dict[str, Any] = {}
    waivers: list[Waiver] = []
    for file in files:
        display = _display(file)
        data, lines = _read_yaml(file, display)
        _check_schema(data, lines, display)
        _check_rules(data, lines, display, catalog)
        waivers.extend(_waivers(data, lines, display))
        _merge(merged, {k: v for k, v in data.items() if k != "waivers"})

    canonical = json.dumps(
        {**merged, "waivers": [_waiver_json(w) for w in waivers]},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return Policy(
        source=_display(base),
        digest=hashlib.sha256(canonical.encode()).hexdigest(),
        rules={code: _rule_config(value) for code, value in merged.get("rules", {}).items()},
        audience=AudienceConfig(
            **{k: tuple(str(x) for x in v) for k, v in merged.get("audience", {}).items()}
        ),
        spec_globs=tuple(merged.get("specs", DEFAULT_SPEC_GLOBS)),
        api_ref_watch=tuple(merged.get("api_ref", {}).get("watch", DEFAULT_API_REF_WATCH)),
        waivers=tuple(waivers),
        glossary=dict(merged.get("glossary", {})),
        max_file_bytes=int(merged.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES)),
        review=_review_config(merged.get("review", {})),
        profiles=_profile_config(merged.get("profiles", {})),
        **_sections(merged, _display(base)),
        catalog=catalog,
    )


def _sections(merged: Mapping[str, Any], display: str) -> dict[str, Any]:
    """The sections parsed by their own types (a bad value is named with the policy)."""
    try:
        return {
            "escalation": EscalationConfig.from_raw(merged.get("escalation")),
            "blueprints": BlueprintConfig.from_raw(merged),
        }
    except PolicyError as exc:
        raise PolicyError(f"{display}: {exc}") from None


def _profile_config(data: Mapping[str, Any]) -> ProfileConfig:
    # Checked by the schema: profile names are PROFILE_CHOICES, projects a list of pairs.
    projects = tuple((str(p["project"]), str(p["profile"])) for p in data.get("projects", []))
    return ProfileConfig(default=str(data.get("default", ProfileConfig.default)), projects=projects)


def _review_config(data: Mapping[str, Any]) -> ReviewConfig:
    defaults = ReviewConfig()
    vote = data.get("vote")
    return ReviewConfig(
        purpose=str(data.get("purpose", defaults.purpose)),
        vote=(
            VoteConfig(
                label=str(vote["label"]),
                on_error=int(vote.get("on_error", VoteConfig.on_error)),
                on_warning=int(vote["on_warning"]) if vote.get("on_warning") is not None else None,
                on_clean=int(vote.get("on_clean", VoteConfig.on_clean)),
            )
            if isinstance(vote, Mapping)
            else None
        ),
        skip_wip=bool(data.get("skip_wip", defaults.skip_wip)),
        skip_private=bool(data.get("skip_private", defaults.skip_private)),
        max_comments=int(data.get("max_comments", defaults.max_comments)),
        min_severity_inline=Severity(data.get("min_severity_inline", defaults.min_severity_inline)),
        inline_existing=bool(data.get("inline_existing", defaults.inline_existing)),
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _read_yaml(file: Path, display: str) -> tuple[dict[str, Any], dict[str, int]]:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{display}: not UTF-8 text") from None
    except OSError as exc:
        raise PolicyError(f"{display}: cannot read: {exc.strerror or exc}") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "cannot parse"
        raise PolicyError(f"{display}: malformed YAML: {problem}{where}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{display}: malformed YAML: {exc}") from None
    if node is None:
        return {}, {}
    builder = _Builder(display)
    data = builder.build(node, "")
    if not isinstance(data, dict):
        raise PolicyError(
            f"{display}: a policy file must be a mapping (line {node.start_mark.line + 1})"
        )
    return data, builder.lines


class _Builder:
    """Plain data from a YAML node tree, with the line of every JSON pointer."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.lines: dict[str, int] = {}
        self.budget = _MAX_NODES
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, pointer: str) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise PolicyError(f"{self.display}: too many YAML nodes (alias expansion?)")
        self.lines.setdefault(pointer, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, pointer)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, f"{pointer}/{i}") for i, v in enumerate(node.value)]
        try:
            value = self.constructor.construct_object(node)
        except (ValueError, yaml.YAMLError):
            value = node.value  # e.g. 2024-13-01: the schema then says what is wrong
        # Dates are written unquoted in YAML (expires: 2026-12-31); the schema sees strings.
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        return value

    def _mapping(self, node: yaml.MappingNode, pointer: str) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise PolicyError(f"{self.display}: keys must be plain scalars (line {line})")
            try:
                key = self.constructor.construct_object(key_node)
            except (ValueError, yaml.YAMLError):
                key = key_node.value
            if isinstance(key, dt.date):
                key = key.isoformat()
            elif not isinstance(key, bool):
                key = str(key)
            if key in out:
                raise PolicyError(
                    f"{self.display}: duplicate key {key!r} at {pointer or '/'} (line {line})"
                )
            child = f"{pointer}/{_escape(str(key))}"
            self.lines[child] = line
            out[key] = self.build(value_node, child)
        return out


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(path: Iterator[Any] | Any) -> str:
    return "".join("/" + _escape(str(p)) for p in path) or "/"


def _where(lines: Mapping[str, int], pointer: str) -> str:
    p = "" if pointer == "/" else pointer
    while True:
        if p in lines:
            return f" (line {lines[p]})"
        if not p:
            return ""
        p = p.rsplit("/", 1)[0]


def _check_schema(data: dict[str, Any], lines: Mapping[str, int], display: str) -> None:
    if _surely_valid(data):
        return
    # jsonschema (its import alone costs a tenth of a second) explains what is wrong; it
    # stays the judge, so a document only jsonschema-rs refuses is still accepted.
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        _schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(
        validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    if errors:
        raise PolicyError(_explain(errors[0], lines, display))


# jsonschema's own checks of the two formats policies/schema.json uses (jsonschema/_format.py),
# given to jsonschema-rs so that both judge them alike.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _is_date(value: str) -> bool:
    try:
        return bool(_DATE.fullmatch(value) and dt.date.fromisoformat(value))
    except ValueError:
        return False


def _is_regex(value: str) -> bool:
    try:
        return bool(re.compile(value))
    except re.error:
        return False


@functools.cache
def _fast_validator() -> Any:
    return jsonschema_rs.validator_for(
        _schema(), formats={"date": _is_date, "regex": _is_regex}, validate_formats=True
    )


def _surely_valid(data: Any) -> bool:
    """Whether jsonschema would find nothing wrong, told fast by jsonschema-rs.

    The schema's patterns match in jsonschema-rs no more than in Python's ``re`` (its
    ``.`` and ``$`` are stricter), except ``\\S`` (a ``reason``): Python counts a few more
    characters as space (U+001C..U+001F), so a text made of spaces alone is left to
    jsonschema. Anything jsonschema-rs cannot take (keys that are not text, odd numbers)
    is too.
    """
    if _has_blank_text(data):
        return False
    try:
        return bool(_fast_validator().is_valid(data))
    except Exception:  # input jsonschema-rs does not take: jsonschema decides
        return False


def _has_blank_text(value: Any) -> bool:
    if isinstance(value, str):
        return value.isspace()
    if isinstance(value, dict):
        return any(_has_blank_text(k) or _has_blank_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_blank_text(v) for v in value)
    return False


def _explain(error: jsonschema.ValidationError, lines: Mapping[str, int], display: str) -> str:
    # anyOf (a rule entry can be a bool, a word or a mapping): explain the alternative
    # that got furthest, which is almost always the one the author meant.
    while error.context:
        deepest = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
        if len(deepest.absolute_path) <= len(error.absolute_path) and isinstance(
            error.instance, dict
        ):
            objects = [
                e
                for e in error.context
                if e.schema.get("type") == "object" or e.validator == "additionalProperties"
            ]
            if objects:
                deepest = objects[0]
        if deepest is error:
            break
        error = deepest
    pointer = _pointer(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = [k for k in error.instance if k not in known]
        key = extra[0] if extra else "?"
        key_pointer = (pointer if pointer != "/" else "") + "/" + _escape(str(key))
        return f"{display}: unknown key {key!r} at {pointer}{_where(lines, key_pointer)}"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{display}: missing key {missing!r} at {pointer}{_where(lines, pointer)}"
    if "propertyNames" in error.schema_path:
        what = "rule code" if pointer == "/rules" else "key"
        key_pointer = f"{pointer}/{_escape(str(error.instance))}"
        return f"{display}: bad {what} {error.instance!r} at {pointer}: {error.message}{_where(lines, key_pointer)}"
    if error.validator == "enum":
        allowed = ", ".join(str(x) for x in error.validator_value)
        return f"{display}: bad value {error.instance!r} at {pointer}: expected one of {allowed}{_where(lines, pointer)}"
    if error.validator == "const":
        return f"{display}: bad value {error.instance!r} at {pointer}: expected {error.validator_value!r}{_where(lines, pointer)}"
    if error.validator == "pattern" and pointer.endswith("/reason"):
        return f"{display}: empty reason at {pointer}: say why the TC accepts it{_where(lines, pointer)}"
    return f"{display}: {error.message} at {pointer}{_where(lines, pointer)}"


def _check_rules(
    data: Mapping[str, Any], lines: Mapping[str, int], display: str, catalog: Catalog
) -> None:
    for code, value in data.get("rules", {}).items():
        pointer = f"/rules/{code}"
        if not isinstance(code, str):
            # YAML reads an unquoted `true`, `off` or `yes` as a boolean, not a rule code.
            raise PolicyError(
                f"{display}: a rule code must be text, not {code!r}, at /rules"
                f"{_where(lines, pointer)}; quote it if it is meant as one"
            )
        rule = catalog.get(code)
        if rule is None or rule.code != code:
            raise PolicyError(
                f"{display}: unknown rule code {code!r} at {pointer}{_where(lines, pointer)}"
            )
        options = value.get("options", {}) if isinstance(value, dict) else {}
        for name, option in options.items():
            opt_pointer = f"{pointer}/options/{_escape(str(name))}"
            if name not in rule.options:
                known = ", ".join(sorted(rule.options)) or "none"
                raise PolicyError(
                    f"{display}: unknown option {name!r} for rule {code} at {opt_pointer}"
                    f" (known: {known}){_where(lines, opt_pointer)}"
                )
            default = rule.options[name]
            if not _same_kind(default, option):
                raise PolicyError(
                    f"{display}: option {name!r} of rule {code} must be {_kind(default)}, "
                    f"not {_kind(option)} at {opt_pointer}{_where(lines, opt_pointer)}"
                )
    for i, waiver in enumerate(data.get("waivers", [])):
        code = waiver["rule"]
        rule = catalog.get(code)
        if rule is None or rule.code != code:
            pointer = f"/waivers/{i}/rule"
            raise PolicyError(
                f"{display}: unknown rule code {code!r} at {pointer}{_where(lines, pointer)}"
            )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    return "null" if value is None else type(value).__name__


def _same_kind(default: Any, value: Any) -> bool:
    return default is None or _kind(default) == _kind(value)


def _waivers(data: Mapping[str, Any], lines: Mapping[str, int], display: str) -> Iterator[Waiver]:
    for i, w in enumerate(data.get("waivers", [])):
        expires = w.get("expires")
        try:
            date = dt.date.fromisoformat(expires) if expires else None
        except ValueError:
            pointer = f"/waivers/{i}/expires"
            raise PolicyError(
                f"{display}: bad date {expires!r} at {pointer}{_where(lines, pointer)}"
            ) from None
        yield Waiver(
            rule=w["rule"],
            path=w.get("path", "**"),
            pointer=w.get("pointer", ""),
            reason=w["reason"].strip(),
            expires=date,
            source=display,
            line=lines.get(f"/waivers/{i}"),
        )


def _waiver_json(w: Waiver) -> dict[str, Any]:
    return {
        "rule": w.rule,
        "path": w.path,
        "pointer": w.pointer,
        "reason": w.reason,
        "expires": w.expires.isoformat() if w.expires else None,
    }


def _merge(into: dict[str, Any], data: Mapping[str, Any]) -> None:
    """Later files win: mappings merge key by key, lists extend, scalars replace."""
    for key, value in data.items():
        if key == "rules":
            rules = into.setdefault("rules", {})
            for code, entry in value.items():
                rules[code] = _merge_rule(rules.get(code), entry)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key] = into[key] + value
        else:
            into[key] = value


def _normal_rule(entry: Any) -> dict[str, Any]:
    if entry is None:
        return {}
    if isinstance(entry, bool):
        return {"enabled": entry}
    if isinstance(entry, str):
        if entry in ("on", "off"):
            return {"enabled": entry == "on"}
        return {"enabled": True, "severity": entry}
    return dict(entry)


def _merge_rule(old: Any, new: Any) -> dict[str, Any]:
    merged = _normal_rule(old)
    for key, value in _normal_rule(new).items():
        if key == "options":
            merged["options"] = {**merged.get("options", {}), **value}
        else:
            merged[key] = value
    return merged


def _rule_config(entry: Mapping[str, Any]) -> RuleConfig:
    severity = entry.get("severity")
    return RuleConfig(
        enabled=bool(entry.get("enabled", True)),
        severity=Severity(severity) if isinstance(severity, str) else None,
        options=dict(entry.get("options", {})),
        severities=(
            {Audience(k): Severity(v) for k, v in severity.items()}
            if isinstance(severity, dict)
            else {}
        ),
    )
