"""What the router needs of a budget (``CallBudget``), and how it bounds a call's cost.

The router reserves money before every paid attempt and settles it after, through this small
protocol; the pipeline passes a ``contentgen.budgets.JobBudget`` (storage-backed) per job, so
the LLM layer never imports storage.
"""

from __future__ import annotations

from typing import Protocol

from contentgen.llm.pricing import Prices

#: Output tokens assumed for a budgeted call that sets no ``max_tokens`` (the router then sets
#: it, so the estimate is a bound).
DEFAULT_MAX_TOKENS = 4096
#: Chat-template tokens around a prompt (roles, separators), added to the input bound.
TEMPLATE_TOKENS = 32


class CallBudget(Protocol):
    """Money for the paid calls of one job."""

    async def reserve(self, model: str, estimate: float | None) -> object | None:
        """Hold ``estimate`` USD for one call of ``model`` before it is made and return a
        handle for ``settle``. Raises ``BudgetExceeded`` when it does not fit, or when the
        price is unknown (``estimate`` None) and a budget applies."""

    async def settle(self, hold: object | None, cost: float | None) -> None:
        """The call ended: hold its real ``cost`` instead (0: nothing was billed, the hold
        goes; None: not known, the estimate stays held) until the job's usage rows replace
        it."""


def cost_bound(prices: Prices, prompt: str, max_tokens: int) -> float:
    """An upper bound of one call's cost: every byte of the prompt a token (no tokenizer makes
    more), plus the template, at the dearer of the input prices; ``max_tokens`` at the dearer
    of the output prices (a provider bills no more output than ``max_tokens``)."""
    tokens_in = len(prompt.encode("utf-8")) + TEMPLATE_TOKENS
    price_in = max(prices.input, prices.cached_input or 0.0)
    price_out = max(prices.output, prices.reasoning or 0.0)
    return tokens_in * price_in + max_tokens * price_out
