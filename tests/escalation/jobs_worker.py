"""A govbot process running the scheduler's jobs (for the two-processes jobs test).

Usage: jobs_worker.py DB_URL GERRIT_URL SMTP_PORT RUN_DIR NAME SECONDS
Waits for RUN_DIR/go, starts the real ``Jobs`` (APScheduler) with a 2-second escalate
interval, lets it run for SECONDS, and prints as JSON the slots of the escalate and
digest jobs this process actually ran (not those it found taken by the other process).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import govbot.jobs as jobs_module
from govbot.db import make_engine
from govbot.gerrit.client import GerritClient
from govbot.policy import load_policy
from govbot.sandbox.seed import BLOCK_STORAGE, COMPUTE, COMPUTE_SPECS
from govbot.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    url, gerrit_url, smtp_port, run_dir, name, seconds = sys.argv[1:7]
    run = Path(run_dir)
    settings = Settings(
        gerrit_url=gerrit_url,
        gerrit_username="govbot",
        gerrit_password="govbot-demo",
        gerrit_projects=(COMPUTE, BLOCK_STORAGE, COMPUTE_SPECS),
        database_url=url,
        smtp_host="127.0.0.1",
        smtp_port=int(smtp_port),
        digest_to=("tc@example.org",),
        digest_from="govbot@example.org",
        escalate_interval=2.0,
        poll_interval=3600.0,
        worker_interval=3600.0,
        gerrit_timeout=20.0,
    )
    ran: dict[str, list[str]] = {"escalate": [], "digest": []}
    real_escalation_job, real_digest_job = jobs_module.escalation_job, jobs_module.digest_job

    def escalation_job(*args, **kwargs):
        report = real_escalation_job(*args, **kwargs)
        if report is not None:
            ran["escalate"].append(kwargs["slot"].isoformat())
        return report

    def digest_job(*args, **kwargs):
        digest_id = real_digest_job(*args, **kwargs)
        if digest_id is not None:
            ran["digest"].append(kwargs["slot"].isoformat())
        return digest_id

    jobs_module.escalation_job, jobs_module.digest_job = escalation_job, digest_job
    engine = make_engine(url)
    client = GerritClient(gerrit_url, "govbot", "govbot-demo", timeout=20, retries=0)
    policy = load_policy(REPO / "policies")
    (run / f"ready-{name}").touch()
    deadline = time.monotonic() + 60
    while not (run / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.005)
    jobs = jobs_module.Jobs(settings, engine, client, policy, worker_id=name).start(poll_now=False)
    time.sleep(float(seconds))
    jobs.shutdown(wait=True)
    client.close()
    engine.dispose()
    print(json.dumps(ran))


if __name__ == "__main__":
    main()
