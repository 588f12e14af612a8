"""The blueprints package is a format reader: it imports nothing above it."""

from __future__ import annotations

import json
import subprocess
import sys

ABOVE = (
    "govbot.policy",
    "govbot.evaluate",
    "govbot.findings",
    "govbot.rules",
    "govbot.services",
    "govbot.openapi",
    "govbot.cli",
    "govbot.render",
)


def test_importing_blueprints_loads_no_layer_above_it() -> None:
    """A fresh interpreter that imports govbot.blueprints has loaded none of the layers above."""
    code = (
        "import json, sys, govbot.blueprints; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('govbot'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "govbot.blueprints.justify" in loaded
    assert [m for m in loaded if m.startswith(ABOVE)] == []
