"""OpenStack's API descriptions as they are kept: api-ref trees, policy defaults, ledgers.

Public entry points (each a plain function; nothing runs at import):

* :func:`read_api_ref` / :func:`read_tree` / :func:`is_api_ref_tree` /
  :func:`find_api_ref_trees`: an os-api-ref tree read as one API;
* :func:`load_policy_defaults`, :func:`audience_from_policies`, :func:`classify_with_policies`:
  policy-in-code defaults (parsed, never imported) and the audience they give;
* :func:`read_ledger`: the microversion ledger and release notes.
"""
