"""Services: whole pipelines over the engine (check now; review, escalation, digest later)."""
