"""Who each operation is for: external, external-admin or internal, and why.

The order is fixed:

1. explicit markers in the spec win: ``x-audience`` (Zalando's vocabulary, rule 219) and
   ``x-internal`` (Redocly), on the operation, else its path item, else the document
   (``info`` or the root). An operation-level marker is final. A path-item or document
   level marker that says *internal* is final too; one that says *external* still lets the
   admin rules below narrow an operation to ``external-admin`` (Zalando asks for one
   ``x-audience`` per API, which says nothing about which operations need an admin);
2. then the project's **policy defaults** (policy-in-code, read by
   :mod:`govbot.apiref.policies`, decided by :mod:`govbot.audience.policies`) when the
   spec carries them: callable by a project user -> external; by a service user and
   otherwise only an admin -> internal; only by an admin -> external-admin; the most
   permissive default naming the operation wins. The code enforces these, so they come
   before anything a governance policy guesses from names and prose; a default whose
   check string cannot be decided leaves the operation to the next step;
3. then the policy's rules, in this order, the first match deciding (inside one kind,
   the internal rule before the admin one): spec file globs, URL path regexes, tags,
   server URLs, security scopes/roles, description regexes (the operation's description
   and summary, its path item's, and the descriptions of its tags in the top-level
   ``tags`` list: OpenStack's api-refs say "Administrator only." there);
4. otherwise **external**: unknown is treated as user-facing, because calling an external
   interface internal would let a breaking change through.

Every decision carries a sentence of evidence and where it was found (file and JSON
pointer), so that ``govbot classify`` can explain itself and a finding can cite a line.
"""

from govbot.audience.classify import classify, classify_many
from govbot.audience.defaults import (
    DEFAULT_ADMIN_DESCRIPTIONS,
    DEFAULT_INTERNAL_DESCRIPTIONS,
    OPENSTACK_ADMIN_PATHS,
    OPENSTACK_INTERNAL_FILES,
    default_audience_config,
    openstack_audience_config,
)
from govbot.audience.model import (
    X_AUDIENCE,
    AudienceConfig,
    Classification,
    Decision,
    PolicyEvidence,
)
from govbot.audience.policies import PolicyDecision, audience_from_policies

__all__ = [
    "DEFAULT_ADMIN_DESCRIPTIONS",
    "DEFAULT_INTERNAL_DESCRIPTIONS",
    "OPENSTACK_ADMIN_PATHS",
    "OPENSTACK_INTERNAL_FILES",
    "X_AUDIENCE",
    "AudienceConfig",
    "Classification",
    "Decision",
    "PolicyDecision",
    "PolicyEvidence",
    "audience_from_policies",
    "classify",
    "classify_many",
    "default_audience_config",
    "openstack_audience_config",
]
