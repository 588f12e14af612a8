"""Gerrit: typed views of its JSON (``accounts``, ``revisions``, ``reviews``, ``changes``,
``events``); the REST client (``client``) and the changed specs (``sources``) build on them.

Import from the submodule that defines a name: this package imports none of them, so
that the policy, which needs only :mod:`.accounts`, does not load every Gerrit view
into ``govbot check``.
"""
