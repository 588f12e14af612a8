"""The audience rules govbot ships: conventions of published APIs, and OpenStack's own."""

from __future__ import annotations

import dataclasses

from govbot.audience.model import AudienceConfig


def default_audience_config() -> AudienceConfig:
    """Built-in rules: markers that real APIs use to document admin-only or internal surface.

    Each value is a convention seen in published specs, not a guess about one file:
    ``/admin/`` path segments and an ``admin`` tag (Gitea, Discourse, Apicurio, Pub/Sub
    Lite), ``internal``/``private`` tags and path segments (Airbyte, Open Targets), spec
    files under an ``internal/`` directory, hosts under the reserved ``.internal`` TLD or
    Kubernetes' cluster-local DNS, OAuth scopes or roles named ``admin`` (GitHub
    ``admin:org``, Google ``…/auth/admin.…``), and the sentences with which API
    references say an operation is admin-only or not for outside use. OpenStack's
    api-ref says "Policy defaults enable only users with the administrative role to
    perform this operation" for admin-only operations; "…the administrative role **or
    the owner**…" is user-facing and must not match.
    """
    return AudienceConfig(
        internal_files=("**/internal/**",),
        admin_files=(),
        internal_paths=(r"(?:^|/)(?:internal|private)(?:/|$)",),
        admin_paths=(r"(?:^|/)admin(?:/|\.|$)",),
        internal_tags=("internal", "private"),
        admin_tags=("admin",),
        internal_servers=(
            r"^(?:[a-z][a-z0-9+.-]*:)?//[^/?#]*\.(?:internal|svc\.cluster\.local)\.?(?::\d+)?(?:[/?#]|$)",
        ),
        admin_scopes=(r"(?:.*[^a-z0-9])?admin(?:[^a-z0-9].*)?",),
        admin_descriptions=DEFAULT_ADMIN_DESCRIPTIONS,
        internal_descriptions=DEFAULT_INTERNAL_DESCRIPTIONS,
    )


DEFAULT_ADMIN_DESCRIPTIONS: tuple[str, ...] = (
    # OpenStack api-ref (nova, cinder, …): admin-only, but not "... or the owner ...",
    # and not a restriction on one field ("... to change `volumeId` via this operation").
    r"\bonly users with the administrative role(?: to perform\b|\s*[.;]|\s*$)",
    # "Administrator only.", "Administrators only, depending on policy settings.",
    # "an admin-only action" (not "non-admin only").
    r"(?<![\w-])(?:admin|administrator)s?[ -]only\b",
    # "Only available to the system admin user", "only accessible to admin users".
    r"\bonly (?:available|accessible|allowed|permitted|usable) (?:to|by|for) (?:the )?(?:\w+ )?"
    r"(?:admin|administrator)s?\b",
)

# Phrases with which a publisher disclaims an operation (or a whole tag) for outside use,
# e.g. Airbyte's web_backend tag: "Those APIs should not be called outside the web
# application implementation".
DEFAULT_INTERNAL_DESCRIPTIONS: tuple[str, ...] = (
    r"\bfor internal use only\b",
    r"\b(?:should|must) not be (?:called|used) (?:from )?outside\b",
    r"\bnot (?:intended|meant|supported) for (?:public|external|third[- ]party) use\b",
)

OPENSTACK_ADMIN_PATHS: tuple[str, ...] = (
    # nova: cloud topology, hosts, services, quota classes, legacy nova-network admin APIs
    r"/os-(?:hosts|hypervisors|services|aggregates|migrations|quota-class-sets|agents|cells"
    r"|baremetal-nodes|fixed-ips|floating-ips-bulk|instance_usage_audit_log"
    r"|assisted-volume-snapshots)(?:/|$)",
    # cinder (its v3 API, with or without the project id, since these names are common
    # elsewhere): clusters, workers, back-end capabilities and pools, QoS, unmanaged storage
    r"^/v3/(?:\{[^}/]*\}/)?(?:clusters|workers|capabilities|manageable_volumes"
    r"|manageable_snapshots|qos-specs|scheduler-stats|os-volume-manage|os-snapshot-manage)(?:/|$)",
)

# placement is the service-to-service API that nova and neutron call.
OPENSTACK_INTERNAL_FILES: tuple[str, ...] = ("**/placement/**",)


def openstack_audience_config(base: AudienceConfig | None = None) -> AudienceConfig:
    """The built-in rules plus what OpenStack documents outside its specs.

    nova's and cinder's policy defaults make some whole resources admin-only while the
    generated specs do not always say so; placement is internal by its role, which no
    spec can tell. This is what ``policies/default.yaml`` ships.
    """
    base = base or default_audience_config()
    return dataclasses.replace(
        base,
        internal_files=(*base.internal_files, *OPENSTACK_INTERNAL_FILES),
        admin_paths=(*base.admin_paths, *OPENSTACK_ADMIN_PATHS),
    )
