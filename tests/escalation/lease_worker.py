"""Try to take a job lease in its own OS process (for the lease race test).

Usage: lease_worker.py DB_URL RUN_DIR NAME SLOT_ISO
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from govbot.db import make_engine
from govbot.db.leases import run_leased


def main() -> None:
    url, run_dir, name, slot_text = sys.argv[1:5]
    run = Path(run_dir)
    engine = make_engine(url)
    slot = dt.datetime.fromisoformat(slot_text)
    (run / f"ready-{name}").touch()
    deadline = time.monotonic() + 60
    while not (run / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.002)
    calls = []

    def job() -> str:
        calls.append(name)
        time.sleep(0.2)  # hold the lease while the other process tries
        return name

    ran, _ = run_leased(engine, "digest", name, job, now=lambda: dt.datetime.now(dt.UTC), slot=slot)
    print(json.dumps({"ran": ran}))
    engine.dispose()


if __name__ == "__main__":
    main()
