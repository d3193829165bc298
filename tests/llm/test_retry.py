"""The shared retry policy: attempts, back-off, which errors are retried, what is raised."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from contentgen.errors import ProviderError
from contentgen.llm import retry
from contentgen.llm.retry import MAX_WAIT, backoff, call_with_retries


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


def test_backoff_doubles_from_retry_wait_and_is_capped() -> None:
    longest = max(1.0, MAX_WAIT)
    assert [backoff(n, 1.0, longest) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff(3, 0.0, MAX_WAIT) == 0.0
    assert backoff(1, 50.0, max(50.0, MAX_WAIT)) == 50.0  # a long first wait is kept
    assert backoff(5000, 1.0, longest) == 30.0


class Script:
    """A call that raises the scripted exceptions in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def translate(exc: Exception, attempts: int) -> ProviderError:
    return ProviderError(f"{type(exc).__name__} after {attempts}", provider="p", model="m",
                         attempts=attempts)  # fmt: skip


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", fake_sleep)
    return slept


async def run(call: Script, attempts: int = 3, wait: float = 0.5) -> str:
    return await call_with_retries(
        call, attempts=attempts, wait=wait, is_transient=lambda e: isinstance(e, Transient),
        translate=translate, model="m",
    )  # fmt: skip


async def test_first_attempt_success_neither_sleeps_nor_logs(sleeps: list[float]) -> None:
    call = Script()
    with capture_logs() as logs:
        assert await run(call) == "ok"
    assert call.calls == 1 and sleeps == [] and logs == []


async def test_transient_errors_are_retried_with_backoff_and_logged(sleeps: list[float]) -> None:
    call = Script(Transient(), Transient())
    with capture_logs() as logs:
        assert await run(call) == "ok"
    assert call.calls == 3 and sleeps == [0.5, 1.0]
    retries = [(e["attempt"], e["error"], e["wait_s"]) for e in logs if e["event"] == "llm_retry"]
    assert retries == [(1, "Transient", 0.5), (2, "Transient", 1.0)]


async def test_last_attempt_failure_is_translated_with_attempts(sleeps: list[float]) -> None:
    call = Script(Transient(), Transient(), Transient())
    with capture_logs() as logs, pytest.raises(ProviderError, match="Transient after 3") as info:
        await run(call)
    assert call.calls == 3 and len(sleeps) == 2
    assert isinstance(info.value.__cause__, Transient)
    [failed] = [e for e in logs if e["event"] == "llm_failed"]
    assert (failed["attempts"], failed["cause"]) == (3, "Transient")


async def test_permanent_errors_fail_at_once(sleeps: list[float]) -> None:
    call = Script(Permanent())
    with pytest.raises(ProviderError, match="Permanent after 1"):
        await run(call)
    assert call.calls == 1 and sleeps == []


async def test_provider_errors_pass_through_unchanged(sleeps: list[float]) -> None:
    own = ProviderError("already translated", provider="p", model="m")
    with pytest.raises(ProviderError) as info:
        await run(Script(own))
    assert info.value is own and sleeps == []


async def test_one_attempt_means_no_retry(sleeps: list[float]) -> None:
    call = Script(Transient())
    with pytest.raises(ProviderError, match="after 1"):
        await run(call, attempts=1)
    assert call.calls == 1 and sleeps == []
