from oslo_policy import policy

from widget.policies import base

POLICY_ROOT = "widget:widgets:%s"

widgets_policies = [
    policy.DocumentedRuleDefault(
        name=POLICY_ROOT % "list",
        check_str=base.PROJECT_READER_OR_ADMIN,
        description="List the widgets of a project.",
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
