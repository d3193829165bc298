"""Prometheus metrics of one app (its own registry, so apps and tests never share counters).

The reference's four — ``content_requests_total``, ``content_errors_total``,
``generation_duration_seconds``, ``active_jobs`` — plus cost and tokens by model. Labels are
bounded: content type, error type, model. There is no client label: with an agency's hundreds
of clients it would be an unbounded series set (a documented Prometheus anti-pattern); per-client
figures are in the usage report and the logs (every job event carries ``client_id``).

Jobs are counted by the process that finishes them: the server's in-process workers here;
separate ``contentgen worker`` processes are not seen by this endpoint.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    exposition,
    generate_latest,
)

from contentgen.llm.breaker import BreakerView
from contentgen.models import Job, JobStatus

CIRCUIT_STATES = {"closed": 0, "half_open": 1, "half-open": 1, "open": 2}
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
CONTENT_TYPE = exposition.CONTENT_TYPE_LATEST


#: ``ProviderError.kind`` values (llm/): a bounded set, used as they are.
PROVIDER_KINDS = frozenset({"rate_limit", "auth", "bad_request", "server", "timeout",
                            "connection", "empty", "malformed", "budget"})  # fmt: skip


def error_type(job: Job, kind: str | None = None) -> str:
    """A bounded label for why a job did not complete."""
    if job.status is JobStatus.CANCELLED:
        return "cancelled"
    if kind in PROVIDER_KINDS:
        return str(kind)
    text = (job.error or "").lower()
    for needle, kind in (
        ("worker lost", "worker_lost"), ("rate limit", "rate_limit"), ("429", "rate_limit"),
        ("timed out", "timeout"), ("timeout", "timeout"), ("budget", "budget"),
        ("api key", "auth"), ("401", "auth"), ("template", "template"),
        ("client", "setup"), ("strategy", "setup"),
    ):  # fmt: skip
        if needle in text:
            return kind
    return "provider" if "provider" in text or "model" in text else "other"


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("content_requests", "Content requests accepted",
                                ["content_type"], registry=r)  # fmt: skip
        self.errors = Counter("content_errors", "Content jobs that did not complete",
                              ["error_type"], registry=r)  # fmt: skip
        self.duration = Histogram("generation_duration_seconds",
                                  "Content generation duration (claim to finish)",
                                  buckets=DURATION_BUCKETS, registry=r)  # fmt: skip
        self.active = Gauge("active_jobs", "Jobs running in this process", registry=r)
        self.cost = Counter("generation_cost_dollars", "Model cost of completed jobs (USD)",
                            ["model"], registry=r)  # fmt: skip
        self.tokens = Counter("generation_tokens", "Tokens of completed jobs",
                              ["model", "direction"], registry=r)  # fmt: skip
        self.completed = Counter("content_jobs_completed", "Content jobs completed",
                                 ["content_type"], registry=r)  # fmt: skip
        self.circuit = Gauge("llm_circuit_state",
                             "Circuit breaker per model: 0 closed, 1 half-open, 2 open",
                             ["model", "provider"], registry=r)  # fmt: skip
        self.circuit_failures = Gauge("llm_circuit_failures",
                                      "Consecutive failures counted by the model's breaker",
                                      ["model", "provider"], registry=r)  # fmt: skip

    def accepted(self, content_type: str) -> None:
        self.requests.labels(content_type).inc()

    def finished(self, job: Job, seconds: float | None, *, kind: str | None = None) -> None:
        """Count a job that reached a final status in this process."""
        if seconds is not None:
            self.duration.observe(seconds)
        if job.status is not JobStatus.COMPLETED or job.result is None:
            self.errors.labels(error_type(job, kind)).inc()
            return
        meta = job.result.metadata
        self.completed.labels(job.params.content_type.value).inc()
        if meta.generation_cost:
            self.cost.labels(meta.model).inc(meta.generation_cost)
        self.tokens.labels(meta.model, "input").inc(meta.token_usage.input)
        self.tokens.labels(meta.model, "output").inc(meta.token_usage.output)

    def breakers(self, views: dict[str, BreakerView]) -> None:
        """The circuit of every model this process called: 0 closed, 1 half-open, 2 open,
        and its consecutive failures."""
        for key, view in views.items():
            provider, _, model = key.partition(":")
            self.circuit.labels(model, provider).set(CIRCUIT_STATES.get(view.state, 2))
            self.circuit_failures.labels(model, provider).set(view.failures)

    def render(self) -> bytes:
        return generate_latest(self.registry)
