"""OpenTelemetry spans (extra ``otel``), off unless ``CONTENTGEN_TRACING`` is on.

A job's run is one ``contentgen.job`` span; inside it ``contentgen.prompt`` (building the
prompt), ``contentgen.llm.attempt`` (each provider attempt: model, tokens, cost, error kind),
``contentgen.analysis`` (measuring a piece against its strategy) and ``contentgen.store``
(finishing the job). Every span carries ``contentgen.job_id`` and ``contentgen.client_id``.

The library only uses the OpenTelemetry API, imported when tracing is on (never otherwise);
``setup_tracing`` (called by the CLI and the server) installs an SDK provider exporting over
OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT``, default ``http://localhost:4318``) unless the
application installed one already. Code that is not in a job (no ``Tracing.job`` around it)
makes no spans.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contentgen.settings import Settings

JOB_ID = "contentgen.job_id"
CLIENT_ID = "contentgen.client_id"


class _NoSpan:
    """What ``span`` yields when tracing is off."""

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        pass

    def record_failure(self, exc: BaseException) -> None:
        pass


class _Span:
    def __init__(self, span: Any) -> None:
        self._span = span

    def set_attribute(self, key: str, value: Any) -> None:
        if value is not None:
            self._span.set_attribute(key, value)

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def record_failure(self, exc: BaseException) -> None:
        from opentelemetry.trace import Status, StatusCode

        self._span.set_status(Status(StatusCode.ERROR, str(exc)[:500]))
        self._span.set_attribute("error.type", type(exc).__name__)


Span = _NoSpan | _Span


class Tracing:
    """Spans on (``enabled``) or off. ``provider`` is an OpenTelemetry ``TracerProvider`` to
    use instead of the global one (tests pass one with an in-memory exporter)."""

    def __init__(self, enabled: bool, provider: Any = None) -> None:
        self.enabled = enabled
        self._provider = provider
        self._tracer: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Tracing:
        return cls(bool(getattr(settings, "tracing", False)))

    def tracer(self) -> Any:
        if self._tracer is None:
            from opentelemetry import trace

            provider = self._provider or trace.get_tracer_provider()
            self._tracer = provider.get_tracer("contentgen")
        return self._tracer

    @contextlib.contextmanager
    def job(self, job_id: object, client_id: object, **attributes: Any) -> Iterator[Span]:
        """The span of a job's run; spans started inside it (in this task and the tasks it
        starts) belong to it and carry its ids."""
        ids = {JOB_ID: str(job_id), CLIENT_ID: str(client_id)}
        token = _CURRENT.set((self, ids))
        try:
            with span("contentgen.job", **attributes) as found:
                yield found
        finally:
            _CURRENT.reset(token)


OFF = Tracing(False)
_CURRENT: ContextVar[tuple[Tracing, dict[str, str]]] = ContextVar(
    "contentgen_tracing", default=(OFF, {})
)


@contextlib.contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span]:
    """A span of the current job (see ``Tracing.job``); a no-op when tracing is off. An
    exception leaving it marks it failed."""
    tracing, ids = _CURRENT.get()
    if not tracing.enabled:
        yield _NoSpan()
        return
    attrs = {**ids, **{k: v for k, v in attributes.items() if v is not None}}
    with tracing.tracer().start_as_current_span(
        name, attributes=attrs, record_exception=False, set_status_on_exception=False
    ) as raw:
        found = _Span(raw)
        try:
            yield found
        except BaseException as exc:
            found.record_failure(exc)
            raise


def setup_tracing(settings: Settings) -> None:
    """With tracing on, export spans over OTLP/HTTP unless an SDK provider is installed."""
    if not getattr(settings, "tracing", False):
        return
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        from contentgen.errors import MissingExtra

        raise MissingExtra("otel", "CONTENTGEN_TRACING") from exc
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # the application set one up
    provider = TracerProvider(resource=Resource.create({"service.name": "contentgen"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
