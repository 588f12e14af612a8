"""The English the CON rules need: plurals, boolean names by meaning, names that are data.

Plurals and singulars come from ``pluralizer`` (a dependency-free port of the widely used
``pluralize`` rule tables: irregular plurals, uncountable nouns, Latin and Greek
endings), never from "ends in s": ``people`` and ``indices`` are plural, ``analysis``
and ``status`` singular, ``series`` and ``chassis`` both. Latin first-declension plurals
(``amphorae``, ``formulae``), which its tables do not list, are recognised by their
ending.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from pluralizer import Pluralizer

_WORDS = Pluralizer()


@functools.lru_cache(maxsize=4096)
def is_plural(word: str) -> bool:
    """Whether ``word`` (one lower-case word) can be read as a plural noun."""
    if not word.isalpha():
        return True  # not an English word (an abbreviation with digits): no opinion
    if _WORDS.is_plural(word):
        return True  # servers, people, indices; and the uncountable: series, software
    return len(word) > 4 and word.endswith("ae")


@functools.lru_cache(maxsize=4096)
def plural_of(word: str) -> str:
    """The plural of a singular ``word`` (``policy`` -> ``policies``, ``status`` -> ``statuses``)."""
    return str(_WORDS.plural(word)) if word.isalpha() else word


@functools.lru_cache(maxsize=4096)
def singular_of(word: str) -> str:
    """The singular of ``word`` when it is a plural, else ``word`` (``amphorae`` -> ``amphora``)."""
    if not word.isalpha() or not is_plural(word):
        return word
    if not _WORDS.is_plural(word) and word.endswith("ae"):
        return word[:-1]
    return str(_WORDS.singular(word))


# --- boolean names (API-SIG naming guideline, "Boolean fields") ---------------------------

# Words that negate what follows: `not_enabled`, `no_gateway`, `non_shared`.
NEGATIONS = frozenset({"not", "no", "non", "never", "without"})
# Negative adjectives of the guideline's own example (`disabled` rather than `enabled`).
NEGATIVE_ADJECTIVES = frozenset({"disabled", "unset", "hidden", "unavailable"})
# A boolean that states a capability or a permission is positive whatever its verb:
# `can_disable_second_factor` says something can be done, not that it is disabled.
CAPABILITY_PREFIXES = frozenset({"can", "may", "allow", "allows", "supports", "support"})
# Verb forms the guideline names ("enable_dhcp"); CON003 reports them, CON004 does not.
VERB_PREFIXES = frozenset({"enable", "disable"})


def negative_boolean(parts: list[str]) -> str | None:
    """The negative word of a boolean name (its lower-case words), or None.

    By meaning: a capability (``can_``, ``allow_``...) is positive; a verb form
    (``disable_x``) is CON003's verb finding, not a second report here.
    """
    if not parts or parts[0] in CAPABILITY_PREFIXES or parts[0] in VERB_PREFIXES:
        return None
    for word in parts:
        if word in NEGATIONS or word in NEGATIVE_ADJECTIVES:
            return word
    return None


# --- names that are data ------------------------------------------------------------------

# JSON Schema keywords spelled in camelCase. An object whose properties are JSON Schema
# keywords carries a schema as data (image metadata definitions, for one); their names
# are fixed by JSON Schema, not chosen by the API.
SCHEMA_KEYWORDS = frozenset(
    {
        "maxLength", "minLength", "maxItems", "minItems", "uniqueItems", "maxProperties",
        "minProperties", "additionalProperties", "additionalItems", "patternProperties",
        "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "readOnly", "writeOnly",
        "allOf", "anyOf", "oneOf", "propertyNames", "unevaluatedProperties",
        "unevaluatedItems", "dependentRequired", "dependentSchemas", "contentMediaType",
        "contentEncoding", "maxContains", "minContains", "$ref", "$schema", "$id", "$defs",
        "$comment", "$anchor",
    }
)  # fmt: skip
# Lower-case keywords: evidence that an object carries a schema, though harmless names.
_SCHEMA_EVIDENCE = frozenset(
    {"type", "enum", "items", "minimum", "maximum", "pattern", "format", "default",
     "properties", "required", "const"}
)  # fmt: skip
_KEY_LIKE = re.compile(
    r"^(?:\d+|[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
    re.IGNORECASE,
)


def data_names(names: Iterable[str]) -> frozenset[str]:
    """The property names of one object schema that are data, not field names.

    Map keys written out as properties (ids: ``"1"``, ``"2"``, uuids) and, in an object
    that carries a JSON Schema (two or more of its properties are schema keywords),
    the camelCase keywords (``maxLength``).
    """
    names = list(names)
    out = {n for n in names if _KEY_LIKE.match(n)}
    keywords = [n for n in names if n in SCHEMA_KEYWORDS]
    evidence = len(keywords) + sum(1 for n in names if n in _SCHEMA_EVIDENCE)
    if keywords and evidence >= 2:
        out.update(keywords)
    return frozenset(out)


# --- names fixed by another standard ------------------------------------------------------

# Multi-word names registered by a standard the API implements: their spelling is the
# standard's (OAuth 1.0's protocol parameters, 3-D Secure's form fields, IANA's OAuth Parameters, OAuth Authorization Server Metadata and OAuth
# Dynamic Client Registration Metadata registries), not the API's house style. A
# one-word name (`iss`, `scope`) fits any style and needs no entry.
_OAUTH = "OAuth 2.0 (RFC 6749)"
_METADATA = "OAuth 2.0 Authorization Server Metadata (RFC 8414) / OpenID Connect Discovery 1.0"
_OIDC = "OpenID Connect Core 1.0"
_REGISTRATION = "OAuth 2.0 Dynamic Client Registration (RFC 7591)"
STANDARD_NAMES: dict[str, str] = {
    **dict.fromkeys(
        ("access_token", "token_type", "expires_in", "refresh_token", "grant_type",
         "client_id", "client_secret", "redirect_uri", "response_type", "error_description",
         "error_uri"),
        _OAUTH,
    ),
    **dict.fromkeys(
        ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
         "registration_endpoint", "scopes_supported", "response_types_supported",
         "response_modes_supported", "grant_types_supported",
         "token_endpoint_auth_methods_supported",
         "token_endpoint_auth_signing_alg_values_supported", "service_documentation",
         "ui_locales_supported", "op_policy_uri", "op_tos_uri", "revocation_endpoint",
         "introspection_endpoint", "code_challenge_methods_supported",
         "subject_types_supported", "id_token_signing_alg_values_supported",
         "claims_supported", "end_session_endpoint", "acr_values_supported",
         "claim_types_supported", "claims_parameter_supported", "check_session_iframe",
         "request_parameter_supported", "request_uri_parameter_supported",
         "require_request_uri_registration", "userinfo_signing_alg_values_supported"),
        _METADATA,
    ),
    **dict.fromkeys(
        ("id_token", "id_token_hint", "login_hint", "acr_values", "auth_time", "at_hash",
         "c_hash", "max_age", "ui_locales", "preferred_username", "email_verified",
         "phone_number_verified"),
        _OIDC,
    ),
    **dict.fromkeys(
        ("client_id_issued_at", "client_secret_expires_at", "redirect_uris",
         "token_endpoint_auth_method", "client_name", "client_uri", "logo_uri", "tos_uri",
         "policy_uri", "software_id", "software_version", "software_statement",
         "registration_access_token", "registration_client_uri"),
        _REGISTRATION,
    ),
    **dict.fromkeys(("code_verifier", "code_challenge", "code_challenge_method"), "PKCE (RFC 7636)"),
    **dict.fromkeys(
        ("device_code", "user_code", "verification_uri", "verification_uri_complete"),
        "OAuth 2.0 Device Authorization Grant (RFC 8628)",
    ),
    "token_type_hint": "OAuth 2.0 Token Revocation (RFC 7009)",
    **dict.fromkeys(
        ("subject_token", "subject_token_type", "actor_token", "actor_token_type",
         "requested_token_type", "issued_token_type"),
        "OAuth 2.0 Token Exchange (RFC 8693)",
    ),
    **dict.fromkeys(("key_ops", "x5t#S256"), "JSON Web Key (RFC 7517)"),
    # The protocol parameters of OAuth 1.0 (sections 2.1-2.3, 3.1), still used by APIs
    # that sign requests with it.
    **dict.fromkeys(
        ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp",
         "oauth_nonce", "oauth_version", "oauth_signature", "oauth_callback",
         "oauth_verifier", "oauth_token_secret", "oauth_callback_confirmed"),
        "OAuth 1.0 (RFC 5849)",
    ),
    # The form fields of 3-D Secure 1.0 (EMVCo), relayed by card payment APIs as the
    # card issuer's page posts them.
    **dict.fromkeys(("PaReq", "PaRes", "TermUrl"), "3-D Secure 1.0 (EMVCo)"),
}  # fmt: skip

# HTTP field names (RFC 9110, RFC 9111, RFC 6266): a body field spelled exactly like one
# (any case) carries that header's value, `content-type` in a link object.
HTTP_FIELDS = frozenset(
    {"accept-charset", "accept-encoding", "accept-language", "accept-ranges",
     "cache-control", "content-disposition", "content-encoding", "content-language",
     "content-length", "content-location", "content-range", "content-type", "if-match",
     "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
     "last-modified", "max-forwards", "proxy-authenticate", "proxy-authorization",
     "retry-after", "transfer-encoding", "user-agent", "www-authenticate"}
)  # fmt: skip


def standard_name(name: str) -> str | None:
    """The standard that spells ``name`` (a registered OAuth, OpenID Connect or JWK name;
    an HTTP field name), or None when the name is the API's own."""
    if name in STANDARD_NAMES:
        return STANDARD_NAMES[name]
    return "HTTP (RFC 9110)" if name.lower() in HTTP_FIELDS else None
