"""One escalation pass in its own OS process (for the two-processes test).

Usage: escalate_worker.py DB_URL GERRIT_URL NOW_ISO RUN_DIR NAME
Waits for RUN_DIR/go, runs the pass, prints the steps it took as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from govbot.db import make_engine
from govbot.gerrit.client import GerritClient
from govbot.policy import Policy
from govbot.services.escalation import escalate


def main() -> None:
    url, gerrit_url, now_text, run_dir, name = sys.argv[1:6]
    run = Path(run_dir)
    engine = make_engine(url)
    client = GerritClient(gerrit_url, "govbot", "govbot-demo", retries=0)
    (run / f"ready-{name}").touch()
    deadline = time.monotonic() + 60
    while not (run / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.005)
    report = escalate(client, engine, Policy(), dt.datetime.fromisoformat(now_text))
    print(
        json.dumps(
            {
                "done": [
                    [c.assessment.number, c.action, c.assignee] for c in report.candidates if c.done
                ],
                "actions": [[c.assessment.number, c.action] for c in report.candidates],
                "errors": list(report.errors),
            }
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
