"""One router per resource: jobs (the CPM contract), prompts (the IM contract), clients,
and ops (health, readiness, metrics)."""
