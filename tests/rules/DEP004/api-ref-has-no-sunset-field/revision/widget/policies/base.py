from oslo_policy import policy

ADMIN = "rule:context_is_admin"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
PROJECT_READER_OR_ADMIN = "rule:context_is_admin or (" + PROJECT_READER + ")"

rules = [
    policy.RuleDefault("context_is_admin", "role:admin", "Decides what an admin is."),
]


def list_rules():
    return rules
