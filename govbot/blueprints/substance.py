"""What a spec's prose says: sentences read for who needs the change and why.

The cues are the ordinary language of needs, not the words of one project:

* **who** is outside the code: people who use or run a cloud (users, operators,
  administrators, deployers, tenants, customers), the software and organisations that
  consume it (applications, client tooling, automation, clouds, deployments), a user
  story's role ("As an HPC operator, I ..."), and, in a use-case section only, an
  unnamed someone ("one wants to ...");
* **inside** the code: the project's own developers, reviewers and maintainers, its
  drivers and their vendors, "we" (the authors): a need of theirs does not justify a
  change to what users get (README, "Blueprints");
* **a need**: a pain today (cannot, unable, fails, has to, manually, workaround,
  restart, lose, stuck, slow, hard to, no way to ...) or a wish (wants to, would like
  to, needs, in order to, so that ...). In a use-case section an actor doing something
  ("an end user can ...", "the admin will be able to ...") is a use case too;
* **speculation**: a modal right before the cue ("may want", "could be useful",
  "would be nice", "might benefit") is no need; a pain word elsewhere in the sentence
  still is ("administrators might need to ... and face migrating them one by one");
* **a failure without a named actor** ("two API calls can both proceed ... and fail")
  is a concrete scenario that fails today: it counts, as a weaker kind of evidence;
* text addressed to the author (questions, "Describe ...", "Ensure ...") is template
  guidance, whatever the template, and is never a need.

Length is never a cue.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from govbot.blueprints.topics import about_code, cues
from govbot.lazy_re import Regex, lazy


class Zone(StrEnum):
    """Where in a spec a sentence was read, strongest evidence first."""

    USE_CASES = "use-cases"  # Use Cases / User Stories sections and fields
    PROBLEM = "problem"  # Problem description, Motivation, spec-lite problem/solution
    INTRO = "intro"  # the text under the title, Introduction, Overview ...


class Reading(StrEnum):
    """What one sentence was found to say."""

    NEED = "need"  # someone outside the code needs the change, and why
    SCENARIO = "scenario"  # something fails today; nobody is named
    INSIDE = "inside"  # a need of the project's developers, its drivers, "we"
    SPECULATIVE = "speculative"  # "may be useful", "users could ..."
    CAPABILITY = "capability"  # a missing feature, nobody said to need it
    NO_NEED = "no-need"  # an actor is named, no need is stated
    PLAIN = "plain"  # describes the implementation, the code, the product
    GUIDANCE = "guidance"  # a question or an instruction to the author (template style)

    @property
    def counts(self) -> bool:
        """Whether the sentence justifies the spec."""
        return self in (Reading.NEED, Reading.SCENARIO)


@dataclass(frozen=True, slots=True)
class Statement:
    """One sentence of a spec, where it is and what it was found to say."""

    text: str
    section: str  # the section (or field) title; "" for the text above every heading
    line: int | None
    zone: Zone
    reading: Reading
    actors: tuple[str, ...] = ()  # who is named (outside the code)
    inside: tuple[str, ...] = ()  # who is named (inside the code)
    cues: tuple[str, ...] = ()  # the words that state the need (or the failure)
    topics: tuple[str, ...] = ()  # refactor, rename, driver, removal ... (for the evidence)


# --- lexicons --------------------------------------------------------------------------------

# Nouns that often modify another noun ("user data", "admin API"): not a person then.
_NOT_PERSON = (
    r"(?![-_]\w)(?!\s+(?:data|interface|experience|ids?|names?|input|space|agents?|guides?|"
    r"docs?|documentation|facing|visible|level|mode|stor(?:y|ies)|roles?|tokens?|records?|"
    r"tables?|objects?|models?|credentials?|api|apis|context|endpoints?|passwords?|"
    r"privileges?|rights|policy|policies|networks?|catalogs?|layer|code|servers?|logic)\b)"
)
# Qualified developers are outside: they build on the API, not on this code.
_OUTSIDE_DEVELOPERS = (
    r"(?:application|app|client|sdk|api|third[- ]party|external|downstream|tooling|"
    r"web|frontend|ui)\s+developers?|developers?\s+(?:of|using|that\s+use|who\s+use|"
    r"writing|building)\s+(?:\w+\s+){0,2}(?:clients?|applications?|apps|tools?|tooling|"
    r"scripts?|automation|sdks?|integrations?|dashboards?|uis?)"
)
_OUTSIDE = (
    r"(?:end[- ]?|cloud\s+|service\s+|api\s+|sdk\s+|cli\s+|regular\s+|non-admin\s+|"
    r"normal\s+|final\s+)?users?|"
    r"(?:cloud\s+|system\s+|storage\s+|network\s+|database\s+|domain\s+|project\s+)?"
    r"(?:admins?|administrators?|operators?)|sysadmins?|deployers?|tenants?|customers?|"
    r"(?:api\s+|service\s+)?consumers?|clients|client\s+(?:tooling|tools|applications?)|"
    r"applications|apps|workloads?|tooling|automation|orchestrators?|"
    r"(?:orchestration|monitoring|billing|backup)\s+(?:tools?|systems?|services?)|"
    r"(?:cloud|service|hosting)\s+providers?|organi[sz]ations?|enterprises?|companies|"
    r"clouds|deployments|installations|data\s*cent(?:er|re)s|auditors?|"
    r"(?:support|security|operations|ops|network)\s+(?:teams?|staff|engineers?)|"
    r"project\s+(?:members?|owners?|managers?)|owners?|researchers?|"
    r"integrators?|uis?|guis?|dashboards?|(?:web\s+)?portals?|front-?ends?|" + _OUTSIDE_DEVELOPERS
)
# Someone, named by no role: a person only where the author describes use cases.
_GENERIC = (
    r"\b(?:someone|anyone|everyone|people)\b|"
    r"\bone\s+(?=(?:wants?|needs?|has\s+to|would\s+like|could|can|cannot)\b)"
)
_INSIDE = (
    r"developers?|devs|contributors?|reviewers?|maintainers?|core\s+(?:team|reviewers?)|"
    r"cores|drivers?|driver\s+(?:authors?|developers?|maintainers?|vendors?)|vendors?|"
    r"we|us|our"
)
_STORY = lazy(r"\bas\s+(?P<role>(?:an?|the)\s+[\w -]{2,60}?),?\s+(?:i|we)\b", re.I)
# A user story told by a persona: "As Priya, I want to ..." (a name, then the story's voice).
_PERSONA = lazy(
    r"\b[Aa]s\s+(?P<role>[A-Z][a-z]+),?\s+I\s+(?:want|need|would\s+like|wish|expect|have\s+to)\b"
)
_SPEAKER = lazy(
    r"\b(?:i|we)\s+(?:want|need|would\s+like|wish|cannot|can't|am\s+unable|are\s+unable)\b",
    re.I,
)

# Pain today: a need even where a modal hedges something else in the sentence.
_PAIN = (
    r"cannot|can't|can\s?not|unable|not\s+able\s+to|no\s+(?:way|means|mechanism|option)\s+(?:to|for)|"
    r"impossible|(?:is|are)\s+not\s+possible|have\s+to|has\s+to|had\s+to|forced\s+to|"
    r"manually|by\s+hand|by\s+themselves|one\s+by\s+one|workarounds?|work\s+around|"
    r"restart(?:s|ing)?|lose|loses|losing|lost|loss\s+of|stuck|hang(?:s|ing)?|"
    r"crash(?:es|ing)?|corrupt\w*|broken|fail(?:s|ed|ing|ures?)?(?!\s*-?\s*over)|"
    r"slow|time[- ]consuming|tedious|painful|cumbersome|difficult|difficult(?:y|ies)|hard\s+to|"
    r"error[- ]prone|complicated|confusing|confused|problematic|bottlenecks?|brittle|fragile|"
    r"inconvenien(?:t|ce)|friction|obstacles?|headaches?|complain(?:s|ed|ts?)?|indefinitely|"
    r"lock(?:ed)?[- ]?outs?|disrupt(?:s|ed|ions?)|"
    r"frustrat\w+|wast(?:e|es|ed|ing)|wait(?:s|ing)?\s+(?:\w+\s+){0,2}(?:for|until)|"
    r"not\s+(?:enough|sufficient|supported|available|visible|exposed|operational)|"
    r"does(?:n't|\s+not)\s+(?:work|support|scale|allow|know|satisfy)|"
    r"too\s+(?:limited|high|low|slow|costly|expensive|complex|complicated|long|heavy)|"
    r"only\s+supports?|problems?|issues?|pain|inability|"
    r"(?<!\bto\s)prevent(?:s|ed|ing)?\s+(?:\w+\s+){0,3}from|"
    r"(?:requires?|forces?|forcing)\s+(?:\w+\s+){1,3}to|cope|coping|downtime|outages?|"
    r"no\s+(?:easy|simple|good|convenient|reliable|clean)\s+way|"
    r"(?:is|are)\s+not\s+(?:easy|simple|straightforward|possible)|"
    r"does(?:n't|\s+not)\s+provide\s+(?:an?\s+)?(?:easy|simple|good|convenient)\s+way"
)
# A wish: a need unless a modal hedges it.
_WISH = (
    r"wants?|wanted|would\s+like|wish(?:es)?|needs?|needed|needing|expects?|interested\s+in|"
    r"prefers?|demand(?:s|ed)?|(?:have|has|had)\s+reported|asked\s+for"
)
# A wish whose owner comes after it: "important for operators", "requested by users".
_FOR = (
    r"(?:important|essential|crucial|necessary|useful)\s+(?:for|to)|requested\s+by|"
    r"asked\s+for\s+by|(?:it\s+is|it's)\s+(?:common|usual|typical|frequent|normal)\s+(?:for|that)"
)
# A purpose: someone's need only after someone is named ("users ... so that they can");
# before it, the purpose is often the code's ("In order to connect, the weigher needs
# settings set by the administrator").
_PURPOSE = r"so\s+that|in\s+order\s+to"
# An actor doing something, as a use case says it.
_ABILITY = (
    r"can|(?:is|are|be)\s+able\s+to|will\s+(?:be\s+able\s+to|get|see|know|have|use)|"
    r"allows?|enables?|lets?"
)
# Something goes wrong (a concrete scenario that fails today), nobody named.
_FAILURE = (
    r"fail(?:s|ed|ing)?(?!\s*-?\s*over)|crash(?:es|ed|ing)?|corrupt\w*|data\s+loss|"
    r"break(?:s|ing)?|"
    r"(?:is|are|get|gets|got)\s+lost|lose|loses|losing|stuck|hang(?:s|ing)?|deadlocks?|broken|"
    r"does(?:n't|\s+not)\s+work|(?:is|are)\s+not\s+(?:correct|operational|working)|"
    r"incorrect(?:ly)?|out\s+of\s+sync|race\s+conditions?|overload\w*|"
    r"errors?\s+(?:is|are)\s+(?:issued|raised|returned|reported|thrown)|"
    r"(?:returns?|raises?|throws?|gets?)\s+an?\s+(?:\w+\s+)?error"
)
_GAP = (
    r"cannot|can't|can\s?not|no\s+(?:way|means|mechanism|option)|lacks?|lacking|missing|"
    r"does(?:n't|\s+not)\s+(?:support|have|allow|provide)|not\s+(?:supported|possible)|"
    r"only\s+supports?|but\s+not"
)
# Modals that make what follows a guess; "would like" is a wish, not a guess.
_HEDGE = lazy(
    r"\b(?:may|might|could|would(?!\s+(?:like|prefer|rather))|perhaps|possibly|potentially|"
    r"probably|maybe|"
    r"hypothetically)\b(?:\s+\w+){0,2}\s*$",
    re.I,
)
_HEDGE_ANYWHERE = lazy(
    r"\b(?:may|might|could|would(?!\s+(?:like|prefer|rather))|perhaps|possibly|potentially|"
    r"probably|maybe)\b",
    re.I,
)
# "No impact on users", "users are not affected": a statement about the change, no use.
_NO_EFFECT = lazy(
    r"\b(?:no|without)\s+(?:\w+\s+)?(?:impact|effect|change)s?\b|\bnot\s+(?:be\s+)?affected\b|"
    r"\btransparent\s+to\b|\bnothing\b",
    re.I,
)
_SPECULATIVE_PHRASE = lazy(
    r"\b(?:possible\s+use\s+cases?|"
    r"(?:may|might|could|would|should)\s+(?:also\s+)?(?:be\s+)?(?:useful|helpful|nice|"
    r"valuable|beneficial|interesting|good|great)|in\s+the\s+future|some\s+day|"
    r"(?:meet|meets|address|serve|satisfy|fit)\s+(?:the\s+)?(?:\w+\s+){0,2}needs|"
    r"will\s+(?:also\s+)?benefit|will\s+be\s+affected)\b",
    re.I,
)
# Text addressed to the author of a spec: template guidance in any template.
_GUIDANCE = lazy(
    r"^(?:please\b|(?:describe|explain|ensure|specify|outline|summari[sz]e|mention)\b|"
    r"fill\s+in\b|(?:include|add)\s+(?:a|any|the)\s+(?:\w+\s+)?(?:link|url)\b)",
    re.I,
)


@functools.lru_cache(maxsize=16)
def _actor_regex(extra: tuple[str, ...]) -> re.Pattern[str]:
    words = _OUTSIDE + "".join("|" + re.escape(a.lower()) for a in extra)
    return re.compile(rf"\b(?:the\s+|an?\s+)?(?:{words})\b{_NOT_PERSON}", re.I)


_INSIDE_RE = lazy(rf"\b(?:{_INSIDE})\b", re.I)
_PAIN_RE = lazy(rf"\b(?:{_PAIN})\b", re.I)
_WISH_RE = lazy(rf"\b(?:{_WISH})\b", re.I)
_PURPOSE_RE = lazy(rf"\b(?:{_PURPOSE})\b", re.I)
_FOR_RE = lazy(rf"\b(?:{_FOR})\b", re.I)
# A burden someone carries: "tenants must supply a prefix".
_MUST_RE = lazy(r"\b(?:must|are\s+required\s+to|is\s+required\s+to)\b", re.I)
_ABILITY_RE = lazy(rf"\b(?:{_ABILITY})\b", re.I)
_FAILURE_RE = lazy(rf"\b(?:{_FAILURE})\b", re.I)
_GAP_RE = lazy(rf"\b(?:{_GAP})\b", re.I)
_GENERIC_RE = lazy(_GENERIC, re.I)
# Where a pain word describes a thing, not someone's pain: in a relative clause ("data
# which users cannot modify") or as an adjective ("the failed host", "a lost message").
_RELATIVE = lazy(
    r"\b(?:which|that)\s+(?:the\s+|an?\s+)?(?:\w+\s+){1,4}$|"
    r"\b(?:the|a|an|any|each|every|this|these|those)\s+(?=$)",
    re.I,
)
MAX_SENTENCE = 600  # characters of a sentence read for cues
_AUTHORS = frozenset({"we", "us", "our"})
_TOIL = lazy(
    r"manually|by\s+hand|one\s+by\s+one|workarounds?|work\s+around|restart(?:s|ing)?", re.I
)
# What a driver's own "use case" wants: to use the product ("use X", "access X").
_USE_PRODUCT = lazy(
    r"\W*(?:\w+\s+){0,2}?(?:to\s+)?(?:be\s+able\s+to\s+)?(?:use|access|manage|support|boot|run|"
    r"deploy|integrate|consume|work\s+with)\b",
    re.I,
)
# "the needs of their apps", "a demand for": the noun, which says nobody needs anything.
_DETERMINER = lazy(r"\b(?:the|a|an|their|its|his|her|our|your|these|those|such|any|no)\s+$", re.I)
# Between a pain and the one who suffers it: "... for (large scale public cloud) users",
# or the agent of a passive: "cannot be (seen or) changed by the user".
_TO_WHOM = lazy(
    r"[\s,]*(?:(?:be|been|being)\s+(?:\w+\s+){1,3}?(?=by\b))?"
    r"(?:(?:especially|particularly|even|also|mostly|mainly)\s+)?"
    r"(?:(?:for|from|of|among|on|by)\s+(?:[\w-]+\s+){0,4}|to\s+(?:[\w-]+\s+)?)",
    re.I,
)
# Why a task is wanted, in a use case that names nobody: "..., so that ...".
_TASK_PURPOSE = lazy(
    r"\b(?:so\s+that|in\s+order\s+to|so\s+(?:a|an|the|it|they)\b|instead\s+of|"
    r"without\s+having\s+to)\b",
    re.I,
)
# The code's own upkeep as the reason: no one outside the code is served by it.
_UPKEEP = lazy(
    r"\b(?:maintain\w*|maintenance|readab\w+|code\s*base|the\s+code|duplicat\w+|"
    r"technical\s+debt|clean\w*\s+up)\b",
    re.I,
)
# A situation: "If ...", "When ...", "In case ...".
_CONDITIONAL_START = lazy(r"^(?:if|when|whenever|once|in\s+(?:the\s+)?case)\b", re.I)
_INCAPABLE_RE = lazy(
    r"\b(?:cannot|can't|can\s?not|unable\s+to|impossible|not\s+possible|no\s+way\s+to|"
    r"fail(?:s|ed)?\s+to)\b",
    re.I,
)
# "It is hard to ...": someone's pain, whoever tries; the code's own upkeep is not.
_IMPERSONAL = lazy(
    r"\bit(?:'s|\s+is|\s+becomes|\s+remains)\s+(?:\w+\s+){0,2}?(?:difficult|hard|impossible|"
    r"not\s+possible|complicated|cumbersome|tedious|error[- ]prone|painful|confusing|"
    r"time[- ]consuming)\s+(?:for\s+\w+\s+)?to\s+"
    r"(?!(?:maintain|develop|implement|test|review|refactor|write|add|extend|change|modify)\b)",
    re.I,
)
# A threat: an attacker, and what they can do.
_THREAT = lazy(
    r"\b(?:attackers?|intruders?|malicious\s+(?:users?|tenants?|actors?|parties|clients?))\b"
    r"[^.;]{0,80}?\b(?:can|could|may|might|(?:is|are)\s+able\s+to|gains?|controls?|reads?|"
    r"steals?|exploits?|fish\w*)\b",
    re.I,
)
_NEGATION = lazy(r"\b(?:no|not|never|without|n't)\s+(?:\w+\s+)?$|n't\s+(?:\w+\s+)?$", re.I)
_CONDITIONAL = lazy(r"^(?:if|when|whenever|once|to\s+\w+)\b[^,]{3,120},", re.I)
# "If you want to ...": the reader in general, nobody the paragraph named.
_YOU = lazy(r"\b(?:you|your)\b", re.I)
_PRONOUN = lazy(r"\b(?:they|them|their|he|she|his|her)\b", re.I)
_INSIDE_ROLE = lazy(rf"^(?:an?|the)\s+(?:\w+\s+)?(?:{_INSIDE})$", re.I)


def read_sentence(
    text: str,
    zone: Zone,
    *,
    extra_actors: tuple[str, ...] = (),
    carried: tuple[str, ...] = (),
    product: bool = False,
) -> tuple[Reading, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """What one sentence says: its reading, who is named outside and inside, the cues.

    ``product``: the spec adds a driver or a plugin (its title says so); wanting to use,
    access or manage the product it drives is that driver's existence, not a need.

    ``carried`` are the actors of the sentence before in the same paragraph: "they"
    refers to them. A wish or a purpose is someone's when the last one named before it
    is outside the code ("Users want ...", but "We need ... to avoid confusing users");
    "important for", "requested by" look at who comes after; a pain is the pain of
    whoever the sentence names.
    """
    # A need is said in ordinary sentences: a longer run of words (a table, a wall of
    # identifiers) is read only as far as this, which also bounds the work per sentence.
    flat = " ".join(text.split())[:MAX_SENTENCE]
    if flat.endswith("?") or _GUIDANCE.match(flat):
        return Reading.GUIDANCE, (), (), ()
    mentions, outside, inside = _named(flat, zone, extra_actors, carried)
    speculative = bool(_SPECULATIVE_PHRASE.search(flat))
    denied = _negated(flat) | (_product_wishes(flat) if product else set())
    sentence = _Sentence(flat, zone, mentions, outside, inside, speculative, product, denied)
    return _needed(sentence) or _not_needed(sentence)


@dataclass(frozen=True, slots=True)
class _Sentence:
    """One sentence as :func:`read_sentence` has read it so far."""

    flat: str
    zone: Zone
    mentions: list[_Mention]
    outside: tuple[str, ...]
    inside: tuple[str, ...]
    speculative: bool
    product: bool
    denied: set[str]


_Read = tuple[Reading, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _named(
    flat: str, zone: Zone, extra_actors: tuple[str, ...], carried: tuple[str, ...]
) -> tuple[list[_Mention], tuple[str, ...], tuple[str, ...]]:
    """The mentions of a sentence, and who it names outside and inside the code."""
    mentions = _mentions(flat, zone, extra_actors)
    if carried and not any(m.outside for m in mentions):
        # "they" is whom the sentence before named; so is the subject of a sentence that
        # names nobody ("A UI shows a table. Its items need to be sorted by status.").
        refs = [_Mention(m.start(), m.end(), carried[0], True) for m in _PRONOUN.finditer(flat)]
        if not mentions and not refs and not about_code(flat) and not _YOU.search(flat):
            refs = [_Mention(0, 0, carried[0], True)]
        mentions = sorted([*mentions, *refs], key=lambda m: m.start)
    outside = tuple(dict.fromkeys(m.name for m in mentions if m.outside))
    inside = tuple(dict.fromkeys(m.name for m in mentions if not m.outside))
    if carried and outside == tuple(dict.fromkeys([carried[0]])):
        outside = carried
    return mentions, outside, inside


def _needed(s: _Sentence) -> _Read | None:
    """The reading of a sentence that says someone outside the code needs something."""
    flat, mentions, outside, inside = s.flat, s.mentions, s.outside, s.inside
    # A pain is the pain of whoever suffers it: the one named before it ("tenants must
    # supply ...", "the user waits ..."), or after it through a preposition ("confusing
    # for new users", "complaints from operators", "cannot be changed by the owner").
    # "The service does not support signed images" is nobody's pain: the images are what
    # is not supported.
    pain = tuple(c for c in _owned_pain(flat, mentions) if c not in s.denied)
    wish = tuple(c for c in _owned(_WISH_RE, flat, mentions) if c not in s.denied)
    wish += _owned(_PURPOSE_RE, flat, mentions, purpose=True)
    wish += _owned(_FOR_RE, flat, mentions, after=True)
    wish += _owned(_MUST_RE, flat, mentions, adjacent=True)
    use_case = s.zone is Zone.USE_CASES and not s.speculative
    uses_product = s.product and bool(_USE_PRODUCT.search(flat))
    if outside:
        if pain:
            return Reading.NEED, outside, inside, pain
        if wish and not s.speculative:
            return Reading.NEED, outside, inside, wish
        if use_case and not _NO_EFFECT.search(flat) and not uses_product:
            # A use case says who does what: "An end user can ...", "The user in project
            # A hands data to a user in project B". "Users could ..." is a guess.
            ability = _owned(_ABILITY_RE, flat, mentions)
            if ability or not _HEDGE_ANYWHERE.search(flat):
                return Reading.NEED, outside, inside, ability or ("use case",)
    if use_case and not mentions and not about_code(flat):
        # "Attach twenty volumes in one call, so that a failed attach does not leave the
        # server half configured": a use case told as a task, its doer implied by the
        # heading, with the reason it is wanted.
        purpose = _unhedged(_TASK_PURPOSE, flat)
        if (
            purpose
            and not _HEDGE_ANYWHERE.search(flat)
            and not _UPKEEP.search(flat)
            and not uses_product
        ):
            return Reading.NEED, ("the use case's actor",), inside, purpose
    return None


def _not_needed(s: _Sentence) -> _Read:
    """The reading of a sentence that names no need of someone outside the code."""
    flat, outside, inside, speculative = s.flat, s.outside, s.inside, s.speculative
    unowned = tuple(c for c in _unhedged(_PAIN_RE, flat, skip=_RELATIVE) if c not in s.denied)
    toil = tuple(c for c in unowned if _TOIL.fullmatch(c))
    if toil and inside and not outside and set(inside) <= _AUTHORS and not about_code(flat):
        # "We have to connect every node by hand": the authors speak for the people who
        # run the service; manual work that is not about the code is a failing scenario.
        return Reading.SCENARIO, (), inside, toil
    if inside and not outside and (unowned or cues(_WISH_RE, flat)):
        return Reading.INSIDE, (), inside, unowned + cues(_WISH_RE, flat)
    if not about_code(flat) and set(inside) <= _AUTHORS:
        failure = () if speculative else _unhedged(_FAILURE_RE, flat, skip=_RELATIVE)
        scenario = failure or _scenario(flat)
        if scenario:
            return Reading.SCENARIO, outside, inside, scenario
    if outside:
        if speculative or _HEDGE_ANYWHERE.search(flat):
            hedged = cues(_PAIN_RE, flat) + cues(_WISH_RE, flat) + cues(_PURPOSE_RE, flat)
            return Reading.SPECULATIVE, outside, inside, hedged + cues(_ABILITY_RE, flat)
        return Reading.NO_NEED, outside, inside, ()
    if _GAP_RE.search(flat):
        return Reading.CAPABILITY, (), inside, cues(_GAP_RE, flat)
    if speculative or cues(_WISH_RE, flat):
        return Reading.SPECULATIVE, (), inside, cues(_WISH_RE, flat)
    return Reading.PLAIN, (), inside, ()


def _owned_pain(text: str, mentions: Sequence[_Mention]) -> tuple[str, ...]:
    """The unhedged pain cues that someone outside the code suffers (see read_sentence)."""
    found = []
    for m in _PAIN_RE.finditer(text):
        before = _before(text, m.start())
        if _HEDGE.search(before) or _RELATIVE.search(before):
            continue
        owner = next((f for f in reversed(mentions) if f.start < m.start()), None)
        if owner is None or not owner.outside:
            later = next((f for f in mentions if f.start >= m.end()), None)
            between = text[m.end() : later.start] if later is not None else ""
            owner = later if later is not None and _TO_WHOM.fullmatch(between) else owner
        if owner is not None and owner.outside:
            found.append(" ".join(m.group(0).lower().split()))
    return tuple(dict.fromkeys(found))


def _scenario(text: str) -> tuple[str, ...]:
    """A scenario that fails today, told without naming who it fails for.

    * in a situation, something cannot be done: "When the host reboots, its instances
      cannot reach the network" (a condition, then an incapability), or only with pain:
      "If a request times out, it is hard to tell which service dropped it". Without the
      situation, "it is impossible to export the report as CSV" is a missing
      capability, not a scenario;
    * a threat: "an attacker can control the cluster" (the attacker is outside the code,
      and what they can do today is what fails).
    """
    if _THREAT.search(text):
        return ("threat",)
    if _SPECULATIVE_PHRASE.search(text) or not _CONDITIONAL_START.match(text):
        return ()
    return _unhedged(_INCAPABLE_RE, text) or _unhedged(_IMPERSONAL, text)


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    end: int
    name: str
    outside: bool


def _mentions(text: str, zone: Zone, extra: tuple[str, ...]) -> list[_Mention]:
    """Who ``text`` names, in order: outside the code or inside it."""
    found: list[_Mention] = []
    for m in _STORY.finditer(text):
        role = " ".join(m.group("role").split()[:6]).lower()
        found.append(_Mention(m.start(), m.end(), role, not _INSIDE_ROLE.match(role)))
    matches = list(_actor_regex(extra).finditer(text))
    if zone is Zone.USE_CASES and not about_code(text):
        matches += list(_GENERIC_RE.finditer(text))
    for m in matches:
        if not any(f.start <= m.start() < f.end for f in found):
            found.append(_Mention(m.start(), m.end(), " ".join(m.group(0).lower().split()), True))
    for m in _INSIDE_RE.finditer(text):
        if not any(f.start <= m.start() < f.end for f in found):
            found.append(_Mention(m.start(), m.end(), m.group(0).lower(), False))
    if not found:
        for m in _PERSONA.finditer(text):
            found.append(_Mention(m.start(), m.end(), m.group("role").lower(), True))
    if not found:
        for m in _SPEAKER.finditer(text):
            speaker = m.group(0).split()[0].lower()
            # Under a use-case heading "I want ..." is the story's voice, not the author's;
            # "we" stays the authors everywhere.
            story = zone is Zone.USE_CASES and speaker == "i" and not about_code(text)
            found.append(
                _Mention(m.start(), m.end(), "i (a use case)" if story else speaker, story)
            )
    return sorted(found, key=lambda f: f.start)


def _owned(
    pattern: Regex,
    text: str,
    mentions: Sequence[_Mention],
    *,
    after: bool = False,
    purpose: bool = False,
    adjacent: bool = False,
) -> tuple[str, ...]:
    """The unhedged cues whose owner (the last one named before, or the first after) is outside.

    A purpose's owner may also follow it closely: "so that operators can ...";
    ``adjacent``: the owner must stand right before the cue ("tenants must supply",
    but not "when a user deletes it, the message must be claimed").
    """
    found = []
    for m in pattern.finditer(text):
        before = _before(text, m.start())
        if _HEDGE.search(before) or _DETERMINER.search(before):
            continue
        later = next((f for f in mentions if f.start >= m.end()), None)
        if after:
            owner = later
        else:
            owner = next((f for f in reversed(mentions) if f.start < m.start()), None)
            if purpose and later is not None and later.start - m.end() <= 20:
                owner = owner if owner is not None and owner.outside else later
        if adjacent and owner is not None and m.start() - owner.end > 12:
            owner = None
        if owner is not None and owner.outside:
            found.append(" ".join(m.group(0).lower().split()))
    return tuple(dict.fromkeys(found))


def _negated(text: str) -> set[str]:
    """Pain and need words that are denied ("not a problem", "users do not need to")."""
    found = set()
    for pattern in (_PAIN_RE, _WISH_RE):
        for m in pattern.finditer(text):
            word = " ".join(m.group(0).lower().split())
            denied = _NEGATION.search(_before(text, m.start()))
            # "I don't want to have to ..." is still a wish: only needs and pains are denied.
            if denied and (pattern is _PAIN_RE or word.startswith("need")):
                found.add(word)
    return found


def _product_wishes(text: str) -> set[str]:
    """Wishes and pains whose object is only to use, access or manage something."""
    found = set()
    for pattern in (_PAIN_RE, _WISH_RE):
        for m in pattern.finditer(text):
            if _USE_PRODUCT.match(text[m.end() :]):
                found.add(" ".join(m.group(0).lower().split()))
    return found


def _before(text: str, end: int) -> str:
    """The few words before ``end``: where a modal, a negation or "which" would stand.

    In a conditional ("If ..., users would have to ..."; "To delete B, the user would
    need to ...") "would" tells what happens in that case, not a guess: it is dropped.
    """
    words = text[max(0, end - 60) : end]
    if _CONDITIONAL.match(text):
        words = re.sub(r"\bwould\b", " ", words, flags=re.I)
    return words


def _unhedged(pattern: Regex, text: str, skip: Regex | None = None) -> tuple[str, ...]:
    """The cues of ``pattern`` in ``text`` that no modal right before them hedges.

    ``skip`` drops cues whose preceding text it matches (a relative clause: "data which
    users cannot modify" describes the data, it is nobody's pain).
    """
    found = [
        " ".join(m.group(0).lower().split())
        for m in pattern.finditer(text)
        if not _HEDGE.search(_before(text, m.start()))
        and not (skip is not None and skip.search(_before(text, m.start())))
    ]
    return tuple(dict.fromkeys(found))
