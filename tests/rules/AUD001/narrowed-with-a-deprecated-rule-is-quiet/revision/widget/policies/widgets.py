from oslo_policy import policy

from widget.policies import base

POLICY_ROOT = "widget:widgets:%s"
DEPRECATED_LIST = policy.DeprecatedRule(POLICY_ROOT % "list", base.PROJECT_READER_OR_ADMIN)

widgets_policies = [
    policy.DocumentedRuleDefault(
        name=POLICY_ROOT % "list",
        check_str=base.ADMIN,
        description="List the widgets of a project.",
        deprecated_rule=DEPRECATED_LIST,
        deprecated_reason="Listing becomes admin-only.",
        deprecated_since="2.0.0",
        operations=[{"method": "GET", "path": "/widgets"}],
    ),
    policy.DocumentedRuleDefault(
        name=POLICY_ROOT % "show",
        check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show a widget.",
        operations=[{"method": "GET", "path": "/widgets/{widget_id}"}],
    ),
]


def list_rules():
    return widgets_policies
