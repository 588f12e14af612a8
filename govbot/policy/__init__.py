"""Governance policy: the TC's YAML in ``policies/``, loaded once into typed values.

:mod:`.model` holds the values (one frozen dataclass per section, :mod:`.escalation`
the escalation section's), :mod:`.load` reads, checks and merges the files.
"""

from govbot.paths import packaged_policy_dir
from govbot.policy.escalation import (
    ActionConfig,
    BotConfig,
    CapsConfig,
    DayMode,
    EscalationConfig,
    LadderConfig,
    StalenessConfig,
    TCConfig,
    WorkCalendar,
    parse_duration,
    parse_holidays,
)
from govbot.policy.load import load_policy
from govbot.policy.model import (
    API_REVIEW,
    DEFAULT_API_REF_WATCH,
    DEFAULT_SPEC_GLOBS,
    Policy,
    ReviewConfig,
    RuleConfig,
    VoteConfig,
    Waiver,
    review_tag,
)

__all__ = [
    "API_REVIEW",
    "DEFAULT_API_REF_WATCH",
    "DEFAULT_SPEC_GLOBS",
    "ActionConfig",
    "BotConfig",
    "CapsConfig",
    "DayMode",
    "EscalationConfig",
    "LadderConfig",
    "Policy",
    "ReviewConfig",
    "RuleConfig",
    "StalenessConfig",
    "TCConfig",
    "VoteConfig",
    "Waiver",
    "WorkCalendar",
    "load_policy",
    "packaged_policy_dir",
    "parse_duration",
    "parse_holidays",
    "review_tag",
]
