"""OpenStack's API descriptions as they are kept: api-ref trees, policy defaults, ledgers.

Public entry points (each a plain function; nothing runs at import, nothing read is run):

* :mod:`govbot.apiref.tree`: :func:`~govbot.apiref.tree.read_api_ref` /
  :func:`~govbot.apiref.tree.load_api_ref` (an os-api-ref tree read as one API, with
  its project), :func:`~govbot.apiref.tree.api_ref_directories` (which directories are
  trees);
* :mod:`govbot.apiref.policies`: :func:`~govbot.apiref.policies.load_policy_defaults`
  (policy-in-code, parsed with :mod:`ast`, never imported) and :mod:`.checkstr` (oslo.policy
  check strings for a few personas); the audience they give is decided in
  :mod:`govbot.audience.policies`;
* :mod:`govbot.apiref.ledger`: :func:`~govbot.apiref.ledger.read_ledger`, the
  microversion ledger and release notes;
* :mod:`govbot.apiref.project`: the :class:`~govbot.apiref.project.ProjectFacts` a
  :class:`~govbot.surface.Spec` carries.
"""
