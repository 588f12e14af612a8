"""The demo seed's OpenAPI changes: text edits on the real compute and block-storage specs.

Each edit is one open change of the ``demo`` seed (its number in the docstring, README.md,
Without a Gerrit), made on the spec's text so the rest of the file stays byte for byte the real one
(``data/README.md``). The numbers not here: change 5 is a design spec
(``seed_design.py``), changes 8 to 10 are nova's api-ref (``seed_nova.py``).
"""

from __future__ import annotations

from govbot.sandbox.textedit import cut_in_block, insert_after, insert_before_in_block

KEYPAIR_LAST_USED_FIELD = """\
            last_used_at:
              type:
                - string
                - 'null'
              format: date-time
              description: |-
                The date and time when the keypair was last used to boot a server,
                or `null` if it was never used.


                **New in version 2.97**
"""


def compute_add_optional_field(spec: str) -> str:
    """Change 1: an optional response field on ``GET /os-keypairs/{id}``."""
    anchor = (
        "    Os_KeypairShowResponse:\n      type: object\n      description: Keypair object\n"
        "      properties:\n        keypair:\n          type: object\n          description: |-\n"
        "            Keypair object\n          properties:\n"
    )
    return insert_after(spec, anchor, KEYPAIR_LAST_USED_FIELD)


def compute_remove_operation(spec: str) -> str:
    """Change 2: ``DELETE /os-keypairs/{id}`` removed; it was never deprecated."""
    return cut_in_block(
        spec, "  /v2.1/os-keypairs/{id}:\n", "    delete:\n", "      summary: Delete Keypair\n"
    )


VOLUME_LABELS_PATH = """\
  /v3/{project_id}/volume-labels:
    parameters:
      - $ref: '#/components/parameters/resource_filters_project_id'
    get:
      description: |-
        Lists the labels defined in a project.

        Normal response codes: 200
      operationId: project_id/volume-labels:get
      responses:
        '200':
          description: Ok
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties:
                    name:
                      type: string
                      description: The label name.
                    tenantId:
                      type: string
                      format: uuid
                      description: The project that owns the label.
      tags:
        - volume-labels
      x-openstack:
        min-ver: '3.71'
      summary: List volume labels
"""


def block_storage_add_collection(spec: str) -> str:
    """Change 3: a new collection returned as a bare array, with a ``tenantId`` field."""
    return insert_before_in_block(
        spec,
        "  /v3/resource_filters:\n",
        "  /v3/{project_id}/volume-transfers/detail:\n",
        VOLUME_LABELS_PATH,
    )


SNAPSHOT_SCHEDULES_PATH = """\
  /v2.1/servers/{server_id}/snapshot-schedules:
    parameters:
      - name: server_id
        in: path
        required: true
        schema:
          type: string
          format: uuid
        description: The UUID of the server.
    get:
      description: |-
        Lists the snapshot schedules of a server.

        Normal response codes: 200
      operationId: servers/server_id/snapshot-schedules:get
      responses:
        '200':
          description: Ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  snapshot_schedules:
                    type: array
                    items:
                      type: object
                      properties:
                        id:
                          type: string
                          format: uuid
                        cron:
                          type: string
      tags:
        - servers
      summary: List Server Snapshot Schedules (work in progress)
"""


def compute_wip_path(spec: str) -> str:
    """Change 4 (WIP): a new, unfinished sub-resource of servers."""
    return insert_before_in_block(
        spec,
        "  /v2.1/servers/{server_id}/tags/{id}:\n",
        "  /v2.1/servers/{server_id}/topology:\n",
        SNAPSHOT_SCHEDULES_PATH,
    )


TRANSFER_EXPIRES_FIELD = """\
              expires_at:
                type:
                  - string
                  - 'null'
                format: date-time
                description: |-
                  The date and time after which the transfer can no longer be accepted.
"""


def block_storage_add_field(spec: str) -> str:
    """Change 6: a new response field of the volume transfer list (no blueprint cited)."""
    return insert_before_in_block(
        spec,
        "    Volume_TransfersDetailResponse:\n",
        "              destination_project_id:\n",
        TRANSFER_EXPIRES_FIELD,
    )


KEYPAIR_DESCRIPTION_FIELD = """\
            description:
              type: string
              maxLength: 255
              description: |-
                A free-form description of the keypair.
"""


def compute_add_request_field(spec: str) -> str:
    """Change 7: an optional request field on keypair creation."""
    return insert_before_in_block(
        spec, "    Os_KeypairsCreate_292:\n", "            user_id:\n", KEYPAIR_DESCRIPTION_FIELD
    )
