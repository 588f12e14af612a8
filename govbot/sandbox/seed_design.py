"""The demo seed's design specs, written for govbot in the nova-specs layout: one that
justifies its API change with use cases (merged) and one whose Use Cases section says
only None (change 5, which the blueprint rules should flag)."""

from __future__ import annotations

SPEC_HEADER = """..
 This work is licensed under a Creative Commons Attribution 3.0 Unported
 License.

 http://creativecommons.org/licenses/by/3.0/legalcode

"""

KEYPAIR_LAST_USED_SPEC = (
    SPEC_HEADER
    + """\
=====================================
Report when a keypair was last used
=====================================

https://blueprints.launchpad.net/nova/+spec/keypair-last-used

Operators and users cannot tell which keypairs are still in use, so old keys
are never cleaned up. This spec adds the time a keypair was last used.

Problem description
===================

A project accumulates keypairs over the years. Nothing in the API tells which
of them still boot servers, so nobody dares to delete any.

Use Cases
---------

* As a cloud user, I want to see when each of my keypairs was last used to
  boot a server, so that I can delete keys that nobody uses any more.
* As an operator auditing a project after a security incident, I want to find
  keypairs that were used recently, so that I can rotate exactly those.

Proposed change
===============

Record the time of the last server boot that injected the keypair and return
it in the keypair show response.

Alternatives
------------

Users could search the server list for each key name; that misses deleted
servers and is slow on large projects.

Data model impact
-----------------

A nullable ``last_used_at`` column on the ``key_pairs`` table.

REST API impact
---------------

A new microversion adds ``last_used_at`` (date-time or ``null``) to the
response of ``GET /os-keypairs/{keypair_name}``. The field is optional; older
microversions do not return it.

Security impact
---------------

None.

Notifications impact
--------------------

None.

Other end user impact
---------------------

python-openstackclient shows the new field.

Performance Impact
------------------

One extra column write per server boot with a keypair.

Other deployer impact
---------------------

None.

Developer impact
----------------

None.

Upgrade impact
--------------

The column is added by an online migration.

Implementation
==============

Assignee(s)
-----------

Primary assignee:
  alice

Feature Liaison
---------------

Feature liaison:
  ana

Work Items
----------

* database column and object field
* API microversion
* client support

Dependencies
============

None.

Testing
=======

Unit and functional tests; a tempest test for the new microversion.

Documentation Impact
====================

API reference for the new microversion.

References
==========

None.

History
=======

.. list-table:: Revisions
   :header-rows: 1

   * - Release Name
     - Description
   * - 2026.2
     - Introduced
"""
)

FLAVOR_SEARCH_SPEC = (
    SPEC_HEADER
    + """\
===================================
Search flavors by their description
===================================

https://blueprints.launchpad.net/nova/+spec/flavor-description-search

Add a ``description`` filter to the flavor list API.

Problem description
===================

The flavor list API can filter by name but not by description.

Use Cases
---------

None

Proposed change
===============

Accept a ``description`` query parameter on ``GET /flavors`` and
``GET /flavors/detail`` that matches a substring of the description.

Alternatives
------------

None.

Data model impact
-----------------

None.

REST API impact
---------------

A new microversion accepts the ``description`` query parameter on
``GET /flavors`` and ``GET /flavors/detail``.

Security impact
---------------

None.

Notifications impact
--------------------

None.

Other end user impact
---------------------

None.

Performance Impact
------------------

A LIKE query on the flavors table.

Other deployer impact
---------------------

None.

Developer impact
----------------

None.

Upgrade impact
--------------

None.

Implementation
==============

Assignee(s)
-----------

Primary assignee:
  bob

Feature Liaison
---------------

Feature liaison:
  None

Work Items
----------

* API microversion

Dependencies
============

None.

Testing
=======

Unit tests.

Documentation Impact
====================

API reference.

References
==========

None.

History
=======

None.
"""
)
